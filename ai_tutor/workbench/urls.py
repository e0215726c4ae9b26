"""The workbench's URLs plus the development identity provider's."""

from django.urls import include, path
from workbench.urls import urlpatterns as workbench_urlpatterns

urlpatterns = [
    path("dev-idp/", include("ai_tutor.workbench.dev_idp")),
    *workbench_urlpatterns,
]
