"""What the Tutor settings files expect from edx-platform's own settings, and no more.

`lms.envs.production` and `cms.envs.production` star-import this. The values that an
operator or the platform may already have set (other blocks' XBLOCK_SETTINGS, other
backends, other secrets) are here so that the tests can check they are kept.
"""

ENV_TOKENS = {
    "LMS_BASE": "local.openedx.io",
    "CMS_BASE": "studio.local.openedx.io",
    "CONTACT_EMAIL": "contact@local.openedx.io",
}
MODULESTORE = {"default": {"OPTIONS": {"stores": [{"OPTIONS": {}}]}}}
REGISTRATION_EXTRA_FIELDS: dict[str, str] = {}
PROFILE_IMAGE_BACKEND: dict[str, dict[str, str]] = {"options": {}}
MEDIA_ROOT = "/openedx/media"
LOG_DIR = "/openedx/data/logs"
STATIC_ROOT = "/openedx/staticfiles"
ORA2_FILEUPLOAD_ROOT = "/openedx/data/ora2"
JWT_AUTH: dict[str, str] = {}
IDA_LOGOUT_URI_LIST: list[str] = []
LMS_ROOT_URL = "http://local.openedx.io"

XBLOCK_SETTINGS = {
    "VideoBlock": {"licensing_enabled": False},
    "ai_tutor": {"operator_extra": "kept"},
}
AUTHENTICATION_BACKENDS = [
    "social_core.backends.google.GoogleOAuth2",
    "django.contrib.auth.backends.ModelBackend",
]
SOCIAL_AUTH_OAUTH_SECRETS = {"google-oauth2": "google-secret"}
INSTALLED_APPS = ["lms.djangoapps.coursewarehistoryextended"]
DATABASE_ROUTERS = ["openedx.core.lib.django_courseware_routers.StudentModuleHistoryExtendedRouter"]
VIDEO_IMAGE_SETTINGS: dict[str, dict[str, str]] = {"STORAGE_KWARGS": {}}
VIDEO_TRANSCRIPTS_SETTINGS: dict[str, dict[str, str]] = {"STORAGE_KWARGS": {}}
LOGGING: dict[str, dict[str, dict[str, object]]] = {"handlers": {}, "loggers": {"tracking": {}}}
