from django.urls import path

from educap.gaps.api import views

urlpatterns = [
    path("gaps/units/<str:code>/", views.UnitGapsView.as_view(), name="gaps-unit"),
    path(
        "gaps/units/<str:code>/training-needs/",
        views.TrainingNeedsView.as_view(),
        name="gaps-training-needs",
    ),
    path(
        "gaps/units/<str:code>/recruitment-needs/",
        views.RecruitmentNeedsView.as_view(),
        name="gaps-recruitment-needs",
    ),
    path("gaps/people/<int:pk>/", views.PersonGapsView.as_view(), name="gaps-person"),
]
