from rest_framework.routers import SimpleRouter

from educap.people.api import views

router = SimpleRouter()
router.register("roles", views.RoleViewSet, basename="role")
router.register("people", views.PersonViewSet, basename="person")
router.register("assignments", views.AssignmentViewSet, basename="assignment")
router.register("vacancies", views.VacancyViewSet, basename="vacancy")
urlpatterns = router.urls
