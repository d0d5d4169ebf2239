"""API: sessions (included by educap.training.api.urls)."""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from educap.training.api.sessions import EnrolmentViewSet, TrainingSessionViewSet

router = SimpleRouter()
router.register("training-sessions", TrainingSessionViewSet, basename="training-session")
router.register("enrolments", EnrolmentViewSet, basename="enrolment")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
