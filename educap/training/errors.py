"""Error codes of the training app (see educap.core.errors)."""

from enum import StrEnum


class TrainingErrorCode(StrEnum):
    NOT_ALLOWED = "training_not_allowed"
    ALREADY_COMPLETED = "enrolment_already_completed"
    NOT_SEATED = "enrolment_not_seated"
