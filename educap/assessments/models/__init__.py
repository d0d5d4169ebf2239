"""Assessments: campaigns, rater assignments, ratings (evidence), current levels,
knowledge tests and surveys. One module per concept."""

from educap.assessments.models.campaigns import (
    AssignmentKind,
    AssignmentStatus,
    Campaign,
    CampaignStatus,
    PeerChooser,
    RaterAssignment,
)
from educap.assessments.models.knowledge import (
    CutScore,
    TestAttempt,
    TestItem,
    TestItemChoice,
    TestItemKind,
)
from educap.assessments.models.ratings import (
    CurrentLevel,
    CurrentLevelChange,
    DraftRating,
    Rating,
    Source,
    Submission,
)
from educap.assessments.models.surveys import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyChoice,
    SurveyQuestion,
    SurveyResponse,
    SurveySection,
)

__all__ = [
    "AssignmentKind",
    "AssignmentStatus",
    "Campaign",
    "CampaignStatus",
    "CurrentLevel",
    "CurrentLevelChange",
    "CutScore",
    "DraftRating",
    "PeerChooser",
    "QuestionKind",
    "RaterAssignment",
    "Rating",
    "Source",
    "Submission",
    "Survey",
    "SurveyAnswer",
    "SurveyChoice",
    "SurveyQuestion",
    "SurveyResponse",
    "SurveySection",
    "TestAttempt",
    "TestItem",
    "TestItemChoice",
    "TestItemKind",
]
