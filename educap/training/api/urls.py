from educap.training.api import (
    catalogue_urls,
    certificates_urls,
    cpd_urls,
    sessions_urls,
    xapi_urls,
)

urlpatterns = [
    *catalogue_urls.urlpatterns,
    *sessions_urls.urlpatterns,
    *certificates_urls.urlpatterns,
    *cpd_urls.urlpatterns,
    *xapi_urls.urlpatterns,
]
