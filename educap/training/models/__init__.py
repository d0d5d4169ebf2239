"""Training: catalogue, sessions and enrolment, certificates, CPD, xAPI. One module per concept."""

from educap.training.models.catalogue import (
    Course,
    CourseCompetency,
    CourseMaterial,
    CourseModule,
    Modality,
    Programme,
    ProviderKind,
    Track,
)
from educap.training.models.certificates import Certificate, SigningKey
from educap.training.models.cpd import CpdKind, CpdRecord, CpdRequirement, CpdStatus
from educap.training.models.sessions import (
    Attendance,
    Enrolment,
    EnrolmentRoute,
    EnrolmentStatus,
    SessionDay,
    SessionStatus,
    TrainingSession,
)
from educap.training.models.xapi import XapiActivity, XapiClient, XapiStatement

__all__ = [
    "Attendance",
    "Certificate",
    "Course",
    "CourseCompetency",
    "CourseMaterial",
    "CourseModule",
    "CpdKind",
    "CpdRecord",
    "CpdRequirement",
    "CpdStatus",
    "Enrolment",
    "EnrolmentRoute",
    "EnrolmentStatus",
    "Modality",
    "Programme",
    "ProviderKind",
    "SessionDay",
    "SessionStatus",
    "SigningKey",
    "Track",
    "TrainingSession",
    "XapiActivity",
    "XapiClient",
    "XapiStatement",
]
