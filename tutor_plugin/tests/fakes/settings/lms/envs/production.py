from platform_base import *  # noqa: F403
