from rest_framework.routers import SimpleRouter

from educap.org.api.views import OrgLevelViewSet, OrgUnitViewSet

router = SimpleRouter()
router.register("org-levels", OrgLevelViewSet, basename="org-level")
router.register("org-units", OrgUnitViewSet, basename="org-unit")
urlpatterns = router.urls
