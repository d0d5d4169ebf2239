from django.urls import path

from educap.audit.web import views

app_name = "audit"
urlpatterns = [path("", views.event_list, name="list")]
