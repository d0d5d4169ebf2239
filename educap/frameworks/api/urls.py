from django.urls import path
from rest_framework.routers import SimpleRouter

from educap.frameworks.api import views

router = SimpleRouter()
router.register("frameworks", views.FrameworkViewSet, basename="framework")
router.register("scales", views.ScaleViewSet, basename="scale")
urlpatterns = [
    *router.urls,
    path(
        "frameworks/<int:pk>/profiles/<str:profile_code>/requirements/<str:item_code>/",
        views.RequirementView.as_view(),
        name="framework-requirement",
    ),
]
