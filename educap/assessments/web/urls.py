"""Web routes of the assessments app; each web module contributes its own patterns."""

from educap.assessments.web import answering, campaigns, knowledge, submissions, surveys

app_name = "assessments"
urlpatterns = [
    *campaigns.urlpatterns,
    *answering.urlpatterns,
    *knowledge.urlpatterns,
    *surveys.urlpatterns,
    *submissions.urlpatterns,
]
