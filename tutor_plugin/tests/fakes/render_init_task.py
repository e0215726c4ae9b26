"""Print the ai-tutor init task for the lms service, rendered with a project's config.

Usage: python render_init_task.py TUTOR_ROOT. Tutor is started as its CLI starts it (core
ready, then project root ready, which loads the enabled plugins), and the task is rendered
with the same function that `tutor local do init` uses.
"""

import sys

from tutor import config as tutor_config
from tutor import env, hooks

root = sys.argv[1]
hooks.Actions.CORE_READY.do()
hooks.Actions.PROJECT_ROOT_READY.do(root)
config = tutor_config.load(root)

tasks = [
    task
    for service, task in hooks.Filters.CLI_DO_INIT_TASKS.iterate()
    if service == "lms" and "ai-tutor" in task
]
if len(tasks) != 1:
    sys.exit(f"expected one ai-tutor init task for lms, found {len(tasks)}")
print(env.render_str(config, tasks[0]))
