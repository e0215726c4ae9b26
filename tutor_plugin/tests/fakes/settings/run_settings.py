"""Execute a rendered Tutor settings file against the stub platform settings; print JSON.

Usage: python run_settings.py SETTINGS_FILE. The stub modules are found on PYTHONPATH.
Folder creation is recorded instead of done, since the settings create /openedx folders.
"""

import json
import os
import runpy
import sys

NAMES = [
    "XBLOCK_SETTINGS",
    "AUTHENTICATION_BACKENDS",
    "SOCIAL_AUTH_OAUTH_SECRETS",
    "SOCIAL_AUTH_REDIRECT_IS_HTTPS",
    "CACHES",
]

created: list[str] = []
os.makedirs = lambda name, *args, **kwargs: created.append(name)  # type: ignore[assignment]

namespace = runpy.run_path(sys.argv[1])
print(json.dumps({name: namespace.get(name) for name in NAMES}))
