from django.urls import path

from educap.accounts.api.views import me

urlpatterns = [path("me/", me, name="api-me")]
