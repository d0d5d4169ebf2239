"""A certificate as an Open Badges 3.0 OpenBadgeCredential, signed as a VC-JWT.

The credential names the installation as issuer, the course as the achievement, aligned to
the course's competencies: items of a framework published over CASE (every published
EduCap framework is, at /ims/case/v1p1/, keeping the identifiers of an imported CASE
package) are aligned as CASE CFItems by their identifier. Its status is a 1EdTech
Revocation List served per certificate, so that revoking shows in every copy already handed
out. The JWT payload is the credential itself plus the iss, jti, sub and nbf claims (OB 3.0,
"JSON Web Token Proof Format"); the header's kid is a URL that returns the public key.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from educap.training import signing
from educap.training.models import Certificate, CourseCompetency

if TYPE_CHECKING:
    from django.http import HttpRequest

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    # Defines 1EdTechRevocationList and 1EdTechJsonSchemaValidator2019.
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
]
SCHEMA = {
    "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
    "ob_v3p0_achievementcredential_schema.json",
    "type": "1EdTechJsonSchemaValidator2019",
}
# OB 3.0 says a VC-JWT served on the web SHOULD be text/plain; files end in .jwt.
JWT_CONTENT_TYPE = "text/plain; charset=utf-8"
JWT_CLAIMS = ("iss", "jti", "sub", "nbf")
NON_CASE_TARGET_TYPE = "ext:EduCapCompetency"


def public_base_url(request: HttpRequest | None = None) -> str:
    """The site's public address, without a trailing slash: EDUCAP_PUBLIC_URL, else the
    address the request came in on."""
    configured = str(getattr(settings, "EDUCAP_PUBLIC_URL", "") or "").rstrip("/")
    if configured:
        return configured
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return "http://localhost:8000"


def verify_url(certificate: Certificate, base: str) -> str:
    return base + reverse("training_public:verify", args=[certificate.pk])


def status_url(certificate: Certificate, base: str) -> str:
    return base + reverse("training_public:credential_status", args=[certificate.pk])


def key_url(kid: str, base: str) -> str:
    return base + reverse("training_public:jwk", args=[kid])


def issuer_id(base: str) -> str:
    return f"{base}/"


def credential_id(certificate: Certificate) -> str:
    return f"urn:uuid:{certificate.pk}"


def _urn(name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def subject_id(certificate: Certificate, base: str) -> str:
    """A stable pseudonymous id for the holder at this issuer (no personal data in it)."""
    return _urn(f"{issuer_id(base)}people/{certificate.person_id}")


def achievement_id(certificate: Certificate, base: str) -> str:
    return _urn(f"{issuer_id(base)}training/courses/{certificate.course.code}")


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def hours_text(hours: Decimal) -> str:
    """12.0 -> "12", 1.5 -> "1.5" (Decimal.normalize would write 10 as 1E+1)."""
    text = f"{hours:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _narrative(certificate: Certificate) -> str:
    course = certificate.course
    text = _("Completed the %(hours)s-hour course with at least %(attendance)s%% attendance.") % {
        "hours": certificate.hours.normalize(),
        "attendance": course.min_attendance_percent,
    }
    if course.pass_mark is not None:
        text += " " + _("Passed the final test (pass mark %(mark)s%%).") % {
            "mark": course.pass_mark
        }
    return text


def alignments(certificate: Certificate, base: str) -> list[dict[str, Any]]:
    links = (
        CourseCompetency.objects.filter(course_id=certificate.course_id)
        .select_related("item__framework")
        .order_by("item__framework_id", "item__sequence", "item_id")
    )
    rows = []
    for link in links:
        item, framework = link.item, link.item.framework
        # Published once, the item's CASE identifier resolves on this installation's CASE
        # provider (and is the source system's identifier when the framework was imported).
        is_case = framework.published_at is not None
        row: dict[str, Any] = {
            "type": ["Alignment"],
            "targetName": item.statement,
            "targetUrl": base + reverse("case:item", args=[item.identifier]),
            "targetCode": item.identifier if is_case else item.code,
            "targetFramework": f"{framework.title} {framework.version}",
            "targetType": "CFItem" if is_case else NON_CASE_TARGET_TYPE,
        }
        if item.description:
            row["targetDescription"] = item.description
        rows.append(row)
    return rows


def credential_for(certificate: Certificate, *, base: str) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential. Texts EduCap writes are in the installation's
    default language; names are the certificate's own."""
    course = certificate.course
    with translation.override(settings.LANGUAGE_CODE):
        narrative = _narrative(certificate)
        description = course.description or _(
            "Certificate of completion of the course %(course)s."
        ) % {"course": certificate.course_title}
    return {
        "@context": list(CONTEXT),
        "id": credential_id(certificate),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": issuer_id(base),
            "type": ["Profile"],
            "name": certificate.issuer_name,
            "url": issuer_id(base),
        },
        "validFrom": _timestamp(certificate.issued_at),
        "name": certificate.course_title,
        "credentialSubject": {
            "id": subject_id(certificate, base),
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": certificate.holder_name,
                }
            ],
            "activityEndDate": f"{certificate.completed_on.isoformat()}T00:00:00Z",
            "achievement": {
                "id": achievement_id(certificate, base),
                "type": ["Achievement"],
                "achievementType": "CertificateOfCompletion",
                "name": certificate.course_title,
                "description": description,
                "criteria": {"narrative": narrative},
                "humanCode": course.code,
                "alignment": alignments(certificate, base),
            },
        },
        "credentialStatus": {
            "id": status_url(certificate, base),
            "type": "1EdTechRevocationList",
        },
        "credentialSchema": [dict(SCHEMA)],
    }


def credential_jwt(certificate: Certificate, *, base: str) -> str:
    """The credential signed with the installation's active key (VC-JWT)."""
    credential = credential_for(certificate, base=base)
    claims = {
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "sub": credential["credentialSubject"]["id"],
        "nbf": int(certificate.issued_at.replace(microsecond=0).timestamp()),
    }
    key = signing.active_key()
    return signing.sign_jwt({**credential, **claims}, kid=key_url(key.kid, base), key=key)


def credential_from_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The credential inside a VC-JWT payload (the payload less the JWT claims)."""
    return {k: v for k, v in payload.items() if k not in JWT_CLAIMS}


def status_document(certificate: Certificate, *, base: str) -> dict[str, Any]:
    """The 1EdTech Revocation List for one certificate: empty while it is valid."""
    revoked = []
    if certificate.revoked_at is not None:
        revoked.append(
            {
                "id": credential_id(certificate),
                "revoked": True,
                "revocationDate": _timestamp(certificate.revoked_at),
                "revocationReason": certificate.revocation_reason,
            }
        )
    return {
        "id": status_url(certificate, base),
        "issuer": issuer_id(base),
        "revokedCredentials": revoked,
    }
