"""Stands in for edx-platform's manage.py: `manage.py lms shell -c CODE` runs CODE.

Each call is logged to $FAKE_MANAGE_LOG, so a test can tell whether the task called it.
"""

import os
import sys

if sys.argv[1:3] != ["lms", "shell"] or sys.argv[3] != "-c" or len(sys.argv) != 5:
    sys.exit(f"unexpected manage.py arguments: {sys.argv[1:4]}")

with open(os.environ["FAKE_MANAGE_LOG"], "a", encoding="utf-8") as log:
    log.write(" ".join(sys.argv[1:4]) + "\n")

exec(compile(sys.argv[4], "<manage.py lms shell -c>", "exec"), {"__name__": "__main__"})
