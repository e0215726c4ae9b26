"""The workbench's URLs plus the development identity provider's."""

from django.urls import include, path
from workbench.urls import urlpatterns as workbench_urlpatterns

from ai_tutor.workbench.roles import give_workbench_students_course_roles

# Loaded once Django is set up, before the first request builds a runtime.
give_workbench_students_course_roles()

urlpatterns = [
    path("dev-idp/", include("ai_tutor.workbench.dev_idp")),
    *workbench_urlpatterns,
]
