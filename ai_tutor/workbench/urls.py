"""The workbench's URLs plus the development identity provider's."""

from importlib.util import find_spec

from django.urls import include, path
from workbench.urls import urlpatterns as workbench_urlpatterns

urlpatterns = [*workbench_urlpatterns]
if find_spec("ai_tutor.workbench.dev_idp"):  # TEMP until dev_idp lands
    urlpatterns.insert(0, path("dev-idp/", include("ai_tutor.workbench.dev_idp")))
