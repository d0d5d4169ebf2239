"""Web routes of the gap analysis."""

from django.urls import path

from educap.gaps.web import views

app_name = "gaps"
urlpatterns = [
    path("mine/", views.mine, name="mine"),
    path("people/<int:pk>/", views.person, name="person"),
    path("team/", views.team, name="team"),
    path("", views.dashboard, name="dashboard"),
    path("units/<str:code>/", views.unit, name="unit"),
    path("units/<str:code>/export.<str:fmt>", views.unit_export, name="unit_export"),
]
