"""Storing statements: one statement or a batch, all or nothing.

A statement whose id is already stored changes nothing: the same content (ignoring what
the LRS sets itself: stored, authority, version, and the form of timestamps) is accepted
quietly, different content is refused with 409 Conflict. Voiding statements mark their
target voided. New statements are then processed (completions, CPD) in the same
transaction, so a refused batch leaves no trace.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from educap.audit.models import AuditAction
from educap.audit.services import audit_record
from educap.training.lrs import process
from educap.training.lrs.errors import XapiError, XapiErrorCode, bad_parameter, bad_request
from educap.training.lrs.validate import is_uuid, parse_timestamp, statement_problems
from educap.training.models import XapiActivity, XapiClient, XapiStatement

VERB_VOIDED = process.VERB_VOIDED
MAX_IRI_LENGTH = 500  # XapiStatement.verb_id / activity_id
SHOWN_PROBLEMS = 10
LRS_SET = ("id", "stored", "authority", "version")


def authority_for(client: XapiClient, home_page: str) -> dict[str, Any]:
    """The authority of statements sent with a client's credentials (HTTP basic: one Agent)."""
    return {
        "objectType": "Agent",
        "name": client.name,
        "account": {"homePage": home_page, "name": client.key},
    }


def _lower_uuid(value: object) -> object:
    return str(uuid.UUID(value)) if isinstance(value, str) else value


def _normalise_part(part: dict[str, Any]) -> None:
    """UUIDs in standard lower-case form; context activities always as arrays."""
    obj = part.get("object")
    if isinstance(obj, dict):
        if obj.get("objectType") == "StatementRef":
            obj["id"] = _lower_uuid(obj.get("id"))
        elif obj.get("objectType") == "SubStatement":
            _normalise_part(obj)
    context = part.get("context")
    if isinstance(context, dict):
        if "registration" in context:
            context["registration"] = _lower_uuid(context["registration"])
        ref = context.get("statement")
        if isinstance(ref, dict):
            ref["id"] = _lower_uuid(ref.get("id"))
        activities = context.get("contextActivities")
        if isinstance(activities, dict):
            for key, entry in activities.items():
                if not isinstance(entry, list):
                    activities[key] = [entry]


def prepare(statement: dict[str, Any], *, authority: dict[str, Any]) -> dict[str, Any]:
    """The statement as stored: an id, the version, our authority, no "stored"."""
    prepared = copy.deepcopy(statement)
    prepared["id"] = str(uuid.UUID(prepared["id"])) if "id" in prepared else str(uuid.uuid4())
    prepared.pop("stored", None)
    prepared.setdefault("version", "1.0.0")
    prepared["authority"] = authority
    _normalise_part(prepared)
    return prepared


def _comparable(statement: dict[str, Any], *, keep_timestamp: bool) -> Any:
    data = {k: v for k, v in statement.items() if k not in LRS_SET}
    if not keep_timestamp:
        data.pop("timestamp", None)

    def canonical(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: canonical(v, k) for k, v in value.items()}
        if isinstance(value, list):
            items = [canonical(v) for v in value]
            if key == "member":  # group members are an unordered list
                items.sort(key=lambda item: json.dumps(item, sort_keys=True))
            return items
        if key == "timestamp" and (moment := parse_timestamp(value)) is not None:
            return moment.astimezone(dt.UTC).isoformat()
        return value

    return canonical(data)


def same_statement(stored: dict[str, Any], received: dict[str, Any]) -> bool:
    """Statement comparison (xAPI Part Two 2.3.1): ignore what the LRS may set or reformat."""
    keep = "timestamp" in stored and "timestamp" in received
    return _comparable(stored, keep_timestamp=keep) == _comparable(received, keep_timestamp=keep)


def _validated(statements: Sequence[object], *, batch: bool) -> list[dict[str, Any]]:
    problems = []
    for i, statement in enumerate(statements):
        problems += statement_problems(statement, f"statement[{i}]" if batch else "statement")
    if problems:
        detail = "; ".join(str(p) for p in problems[:SHOWN_PROBLEMS])
        if len(problems) > SHOWN_PROBLEMS:
            detail += f"; and {len(problems) - SHOWN_PROBLEMS} more problems"
        raise XapiError(400, XapiErrorCode.INVALID_STATEMENT, detail, problems[0].path)
    valid: list[dict[str, Any]] = []
    for i, statement in enumerate(statements):
        assert isinstance(statement, dict)
        where = f"statement[{i}]" if batch else "statement"
        for n, attachment in enumerate(statement.get("attachments") or []):
            if "fileUrl" not in attachment:
                raise bad_request(
                    "Attachment data is not supported by this LRS: give every attachment a "
                    "fileUrl and send the statement as application/json.",
                    f"{where}.attachments[{n}].fileUrl",
                )
        verb_id = statement["verb"]["id"]
        obj = statement["object"]
        activity_id = obj.get("id", "") if obj.get("objectType", "Activity") == "Activity" else ""
        for value, field in ((verb_id, "verb.id"), (activity_id, "object.id")):
            if len(value) > MAX_IRI_LENGTH:
                raise bad_request(
                    f"This LRS accepts IRIs of at most {MAX_IRI_LENGTH} characters here.",
                    f"{where}.{field}",
                )
        valid.append(statement)
    return valid


def _activity_id(statement: dict[str, Any]) -> str:
    obj = statement["object"]
    return str(obj["id"]) if obj.get("objectType", "Activity") == "Activity" else ""


@transaction.atomic
def statements_store(
    *,
    client: XapiClient,
    statements: Sequence[object],
    home_page: str,
    batch: bool = True,
) -> list[str]:
    """Store statements from `client`; return their ids in the order received.

    Raises XapiError (400 invalid, 403 voiding another client's statement, 409 conflict);
    then nothing is stored.
    """
    authority = authority_for(client, home_page)
    prepared = [prepare(s, authority=authority) for s in _validated(statements, batch=batch)]
    ids = [s["id"] for s in prepared]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise XapiError(
            400,
            XapiErrorCode.DUPLICATE_IN_BATCH,
            f"The batch holds statement {duplicate} more than once.",
            "id",
        )
    existing = {str(row.pk): row for row in XapiStatement.objects.filter(pk__in=ids)}
    for statement in prepared:
        row = existing.get(statement["id"])
        if row is not None and not same_statement(row.statement, statement):
            raise XapiError(
                409,
                XapiErrorCode.CONFLICT,
                f"Statement {row.pk} is already stored with different content; statements "
                "cannot change. Send a new statement (and void the old one if it was wrong).",
                "id",
            )
    new = [s for s in prepared if s["id"] not in existing]
    if not new:
        return ids
    new_ids = {s["id"] for s in new}
    voided_now = _voiding_targets(client, new, new_ids)
    # Statements whose voiding statement (from the same client) arrived first.
    voided_before = set(
        XapiStatement.objects.filter(
            client=client, verb_id=VERB_VOIDED, statement__object__id__in=list(new_ids)
        ).values_list("statement__object__id", flat=True)
    )
    courses = {
        a.activity_id: a.course
        for a in XapiActivity.objects.filter(
            activity_id__in={_activity_id(s) for s in new} - {""}
        ).select_related("course")
    }
    relevant = [
        s for s in new if s["verb"]["id"] in process.PROCESSED_VERBS and _activity_id(s) in courses
    ]
    people = dict(
        zip(
            (s["id"] for s in relevant),
            process.resolve_people(
                (s["actor"] for s in relevant), home_pages=[home_page, *extra_home_pages()]
            ),
            strict=True,
        )
    )
    rows = [
        XapiStatement(
            id=uuid.UUID(s["id"]),
            client=client,
            statement=s,
            verb_id=s["verb"]["id"],
            activity_id=_activity_id(s),
            person=people.get(s["id"]),
            voided=s["id"] in voided_now
            or (s["id"] in voided_before and s["verb"]["id"] != VERB_VOIDED),
        )
        for s in new
    ]
    try:
        with transaction.atomic():
            XapiStatement.objects.bulk_create(rows)
    except IntegrityError as exc:
        raise XapiError(
            409,
            XapiErrorCode.CONFLICT,
            "A statement with one of these ids was stored at the same moment; send again.",
            "id",
        ) from exc
    targets = list(XapiStatement.objects.filter(pk__in=voided_now - new_ids, voided=False))
    XapiStatement.objects.filter(pk__in=[t.pk for t in targets]).update(voided=True)
    for target in targets:
        process.statement_voided(statement=target)
    for row in rows:
        if row.statement["id"] in people:
            process.statement_process(statement=row, course=courses[row.activity_id])
    audit_record(
        actor=None,
        action=AuditAction.IMPORT,
        object_type="training.xapistatement",
        object_id=str(rows[0].pk),
        object_repr=f"{len(rows)} xAPI statement(s) from {client.name}",
        after={
            "client": client.key,
            "statements": len(rows),
            "ids": [str(r.pk) for r in rows[:20]],
        },
    )
    return ids


def _voiding_targets(client: XapiClient, new: list[dict[str, Any]], new_ids: set[str]) -> set[str]:
    """Ids the new voiding statements target; refuses what may not be voided."""
    targets = {s["object"]["id"] for s in new if s["verb"]["id"] == VERB_VOIDED}
    if not targets:
        return set()
    voiding_in_batch = {s["id"] for s in new if s["verb"]["id"] == VERB_VOIDED}
    for row in XapiStatement.objects.filter(pk__in=targets - new_ids).only("client", "verb_id"):
        if row.client_id != client.pk:
            raise XapiError(
                403,
                XapiErrorCode.VOID_FORBIDDEN,
                f"Statement {row.pk} was stored with other credentials; only they may void it.",
                "object.id",
            )
        if row.verb_id == VERB_VOIDED:
            raise XapiError(
                400,
                XapiErrorCode.VOID_VOIDING,
                "A voiding statement cannot be voided.",
                "object.id",
            )
    if targets & voiding_in_batch:
        raise XapiError(
            400, XapiErrorCode.VOID_VOIDING, "A voiding statement cannot be voided.", "object.id"
        )
    return targets


def extra_home_pages() -> list[str]:
    """Home pages that also identify this installation in actor accounts (setting)."""
    configured = getattr(settings, "EDUCAP_XAPI_HOMEPAGE", "")
    return [configured] if configured else []


def statement_put(
    *, client: XapiClient, statement: object, statement_id: str, home_page: str
) -> None:
    """PUT: store one statement under the id given as a parameter."""
    if not is_uuid(statement_id):
        raise bad_parameter("statementId must be a UUID.", "statementId")
    if not isinstance(statement, dict):
        raise bad_request("PUT takes a single statement (a JSON object).")
    if "id" in statement:
        same = isinstance(statement["id"], str) and statement["id"].lower() == statement_id.lower()
        if not same:
            raise XapiError(
                400,
                XapiErrorCode.ID_MISMATCH,
                "The statement's id does not match the statementId parameter.",
                "id",
            )
    statements_store(
        client=client,
        statements=[{**statement, "id": statement_id}],
        home_page=home_page,
        batch=False,
    )
