from django.urls import path
from django.views.generic import RedirectView

from educap.training.web import (
    catalogue_urls,
    certificates_urls,
    cpd_urls,
    sessions_urls,
    xapi_urls,
)

app_name = "training"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="training:course_list"), name="index"),
    *catalogue_urls.urlpatterns,
    *sessions_urls.urlpatterns,
    *certificates_urls.urlpatterns,
    *cpd_urls.urlpatterns,
    *xapi_urls.urlpatterns,
]
