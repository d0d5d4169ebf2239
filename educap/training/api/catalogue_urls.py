"""API: catalogue (included by educap.training.api.urls)."""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from educap.training.api import catalogue

router = SimpleRouter()
router.register("courses", catalogue.CourseViewSet, basename="course")
router.register("programmes", catalogue.ProgrammeViewSet, basename="programme")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
