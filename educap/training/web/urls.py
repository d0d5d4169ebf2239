from educap.training.web import (
    catalogue_urls,
    certificates_urls,
    cpd_urls,
    sessions_urls,
    xapi_urls,
)

app_name = "training"

urlpatterns = [
    *catalogue_urls.urlpatterns,
    *sessions_urls.urlpatterns,
    *certificates_urls.urlpatterns,
    *cpd_urls.urlpatterns,
    *xapi_urls.urlpatterns,
]
