from django.urls import path
from rest_framework.routers import SimpleRouter

from educap.assessments.api import views

router = SimpleRouter()
router.register("campaigns", views.CampaignViewSet, basename="campaign")
# `assignments/` is taken by the people API (posts held by staff).
router.register("rater-assignments", views.RaterAssignmentViewSet, basename="rater-assignment")
router.register("ratings", views.RatingViewSet, basename="rating")
urlpatterns = [
    *router.urls,
    path(
        "people/<int:pk>/current-levels/",
        views.CurrentLevelsView.as_view(),
        name="person-current-levels",
    ),
]
