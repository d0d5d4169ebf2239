"""Syntax validation of xAPI 1.0.3 statements (Part Two, "Statement" and "Data constraints").

The LRS checks structure, not meaning: required properties, types, formats (UUID, IRI,
mailto, timestamps, durations, language tags) and properties the specification does not
allow. Every problem names the path of the offending value, e.g.
``statement[2].actor.mbox: must be a "mailto:" IRI``. Extension values are never checked.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

VERB_VOIDED = "http://adlnet.gov/expapi/verbs/voided"

# Standard string form; the RFC 4122 variant (10xx), any version.
_UUID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
)
# Best effort: an absolute IRI has a scheme and no white space or control characters.
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f<>\"{}|\\^`]+$")
_MAILTO = re.compile(r"^mailto:[^@\s]+@[^@\s]+$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_TIMESTAMP = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})T(?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)"
    r"(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)
_DURATION = re.compile(
    r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?D)?"
    r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$"
    r"|^P\d+(\.\d+)?W$"
)
# RFC 5646 (best effort): language-extlang-script-region-variant-extension-privateuse.
_LANGTAG = re.compile(
    r"^(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"
    r"(?:-[A-Za-z]{4})?"
    r"(?:-(?:[A-Za-z]{2}|\d{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|\d[A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[xX](?:-[A-Za-z0-9]{1,8})+)?$"
    r"|^[xX](?:-[A-Za-z0-9]{1,8})+$"
)
_VERSION = re.compile(r"^1\.0\.\d+$")

IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")
STATEMENT_KEYS = frozenset(
    {
        "id",
        "actor",
        "verb",
        "object",
        "result",
        "context",
        "timestamp",
        "stored",
        "authority",
        "version",
        "attachments",
    }
)
SUBSTATEMENT_KEYS = frozenset(
    {"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"}
)
AGENT_KEYS = frozenset({"objectType", "name", *IFI_KEYS})
GROUP_KEYS = AGENT_KEYS | {"member"}
INTERACTION_TYPES = {
    "true-false": (),
    "choice": ("choices",),
    "fill-in": (),
    "long-fill-in": (),
    "matching": ("source", "target"),
    "performance": ("steps",),
    "sequencing": ("choices",),
    "likert": ("scale",),
    "numeric": (),
    "other": (),
}
COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
DEFINITION_KEYS = frozenset(
    {
        "name",
        "description",
        "type",
        "moreInfo",
        "extensions",
        "interactionType",
        "correctResponsesPattern",
        *COMPONENT_LISTS,
    }
)
CONTEXT_KEYS = frozenset(
    {
        "registration",
        "instructor",
        "team",
        "contextActivities",
        "revision",
        "platform",
        "language",
        "statement",
        "extensions",
    }
)
CONTEXT_ACTIVITY_KEYS = ("parent", "grouping", "category", "other")
RESULT_KEYS = frozenset({"score", "success", "completion", "response", "duration", "extensions"})
SCORE_KEYS = frozenset({"scaled", "raw", "min", "max"})
ATTACHMENT_KEYS = frozenset(
    {"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"}
)


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and bool(_UUID.match(value))


def is_iri(value: object) -> bool:
    return isinstance(value, str) and bool(_IRI.match(value))


def is_language_tag(value: object) -> bool:
    return isinstance(value, str) and bool(_LANGTAG.match(value))


def parse_timestamp(value: object) -> dt.datetime | None:
    """An ISO 8601 combined date and time, as an aware datetime (UTC when no zone is given).

    None when the value is not one. The offset "-00:00" is refused, as ISO 8601 does.
    """
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.match(value)
    if match is None:
        return None
    tz = match["tz"] or ""
    if tz.startswith("-") and not tz.strip("-:0"):
        return None
    if tz in ("Z", "z"):
        tz = "+00:00"
    elif tz and ":" not in tz:
        tz = f"{tz[:3]}:{tz[3:] or '00'}"
    time = match["time"]
    if time.count(":") == 1:
        time += ":00"
    if "." in time:  # fromisoformat takes at most 6 fraction digits
        whole, fraction = time.split(".")
        time = f"{whole}.{fraction[:6].ljust(6, '0')}"
    try:
        moment = dt.datetime.fromisoformat(f"{match['date']}T{time}{tz}")
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Checker:
    """Walks one statement and records every problem found."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    # Building blocks -----------------------------------------------------------------

    def obj(self, value: object, path: str, allowed: frozenset[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(path, f"must be an object, not {_type_name(value)}")
            return None
        for key in value:
            if key not in allowed:
                hint = next((a for a in allowed if a.lower() == str(key).lower()), None)
                if hint:
                    self.fail(f"{path}.{key}", f'property names are case sensitive: "{hint}"')
                else:
                    self.fail(f"{path}.{key}", "is not a property the specification allows")
        return value

    def string(self, value: object, path: str) -> bool:
        if not isinstance(value, str):
            self.fail(path, f"must be a string, not {_type_name(value)}")
            return False
        return True

    def boolean(self, value: object, path: str) -> None:
        if not isinstance(value, bool):
            self.fail(path, f"must be true or false, not {_type_name(value)}")

    def iri(self, value: object, path: str) -> None:
        if self.string(value, path) and not is_iri(value):
            self.fail(path, "must be an absolute IRI with a scheme, e.g. http://example.com/x")

    def uuid(self, value: object, path: str) -> None:
        if self.string(value, path) and not is_uuid(value):
            self.fail(path, "must be a UUID in standard string form (RFC 4122 variant)")

    def timestamp(self, value: object, path: str) -> None:
        if self.string(value, path) and parse_timestamp(value) is None:
            self.fail(path, "must be an ISO 8601 date and time, e.g. 2026-03-02T10:15:00.000Z")

    def language_map(self, value: object, path: str) -> None:
        if not isinstance(value, dict):
            self.fail(path, f"must be a language map (an object), not {_type_name(value)}")
            return
        for key, text in value.items():
            if not is_language_tag(key):
                self.fail(f"{path}.{key}", "is not an RFC 5646 language tag")
            self.string(text, f"{path}.{key}")

    def extensions(self, value: object, path: str) -> None:
        if not isinstance(value, dict):
            self.fail(path, f"must be an object, not {_type_name(value)}")
            return
        for key in value:
            if not is_iri(key):
                self.fail(f"{path}.{key}", "extension keys must be IRIs")

    # Agents and groups ---------------------------------------------------------------

    def ifi(self, data: dict[str, Any], path: str) -> int:
        """Check the inverse functional identifiers present; return how many there are."""
        found = [key for key in IFI_KEYS if key in data]
        for key in found:
            value, where = data[key], f"{path}.{key}"
            if key == "mbox":
                if self.string(value, where) and not _MAILTO.match(value):
                    self.fail(where, 'must be a "mailto:" IRI with an e-mail address')
            elif key == "mbox_sha1sum":
                if self.string(value, where) and not _SHA1.match(value):
                    self.fail(where, "must be the 40 hexadecimal digits of a SHA-1 hash")
            elif key == "openid":
                self.iri(value, where)
            else:
                account = self.obj(value, where, frozenset({"homePage", "name"}))
                if account is not None:
                    if "homePage" not in account:
                        self.fail(f"{where}.homePage", "is required")
                    else:
                        self.iri(account["homePage"], f"{where}.homePage")
                    if "name" not in account:
                        self.fail(f"{where}.name", "is required")
                    else:
                        self.string(account["name"], f"{where}.name")
        return len(found)

    def agent(self, value: object, path: str, *, object_type_required: bool = False) -> None:
        data = self.obj(value, path, AGENT_KEYS)
        if data is None:
            return
        if "objectType" in data:
            if data["objectType"] != "Agent":
                self.fail(f"{path}.objectType", 'must be "Agent"')
        elif object_type_required:
            self.fail(f"{path}.objectType", "is required here")
        if "name" in data:
            self.string(data["name"], f"{path}.name")
        count = self.ifi(data, path)
        if count != 1:
            self.fail(
                path,
                "an Agent needs exactly one of mbox, mbox_sha1sum, openid or account "
                f"({count} given)",
            )

    def group(self, data: dict[str, Any], path: str) -> None:
        if "name" in data:
            self.string(data["name"], f"{path}.name")
        count = self.ifi(data, path)
        if count > 1:
            self.fail(path, f"a Group has at most one inverse functional identifier ({count})")
        if "member" in data:
            members = data["member"]
            if not isinstance(members, list):
                self.fail(f"{path}.member", f"must be an array, not {_type_name(members)}")
            else:
                if count == 0 and not members:
                    self.fail(f"{path}.member", "an anonymous Group must list its members")
                for i, member in enumerate(members):
                    where = f"{path}.member[{i}]"
                    if isinstance(member, dict) and member.get("objectType") == "Group":
                        self.fail(where, "a Group cannot contain another Group")
                    else:
                        self.agent(member, where)
        elif count == 0:
            self.fail(path, "an anonymous Group (no identifier) must have a member list")

    def actor(self, value: object, path: str, *, object_type_required: bool = False) -> None:
        if isinstance(value, dict) and value.get("objectType") == "Group":
            data = self.obj(value, path, GROUP_KEYS)
            if data is not None:
                self.group(data, path)
        elif isinstance(value, dict) and "objectType" in value and value["objectType"] != "Agent":
            self.fail(f"{path}.objectType", 'must be "Agent" or "Group"')
        else:
            self.agent(value, path, object_type_required=object_type_required)

    # Verb, activities, objects -------------------------------------------------------

    def verb(self, value: object, path: str) -> str | None:
        data = self.obj(value, path, frozenset({"id", "display"}))
        if data is None:
            return None
        if "id" not in data:
            self.fail(f"{path}.id", "is required")
        else:
            self.iri(data["id"], f"{path}.id")
        if "display" in data:
            self.language_map(data["display"], f"{path}.display")
        verb_id = data.get("id")
        return verb_id if isinstance(verb_id, str) else None

    def components(self, value: object, path: str) -> None:
        if not isinstance(value, list):
            self.fail(path, f"must be an array, not {_type_name(value)}")
            return
        seen: set[str] = set()
        for i, item in enumerate(value):
            where = f"{path}[{i}]"
            data = self.obj(item, where, frozenset({"id", "description"}))
            if data is None:
                continue
            if "id" not in data:
                self.fail(f"{where}.id", "is required")
            elif self.string(data["id"], f"{where}.id"):
                if data["id"] in seen:
                    self.fail(f"{where}.id", "interaction component ids must be distinct")
                seen.add(data["id"])
            if "description" in data:
                self.language_map(data["description"], f"{where}.description")

    def definition(self, value: object, path: str) -> None:
        data = self.obj(value, path, DEFINITION_KEYS)
        if data is None:
            return
        for key in ("name", "description"):
            if key in data:
                self.language_map(data[key], f"{path}.{key}")
        if "type" in data:
            self.iri(data["type"], f"{path}.type")
        if "moreInfo" in data:
            self.iri(data["moreInfo"], f"{path}.moreInfo")
        if "extensions" in data:
            self.extensions(data["extensions"], f"{path}.extensions")
        interaction = data.get("interactionType")
        if "interactionType" in data and interaction not in INTERACTION_TYPES:
            self.fail(
                f"{path}.interactionType",
                "must be one of " + ", ".join(sorted(INTERACTION_TYPES)),
            )
        if "correctResponsesPattern" in data:
            pattern, where = data["correctResponsesPattern"], f"{path}.correctResponsesPattern"
            if not isinstance(pattern, list):
                self.fail(where, f"must be an array, not {_type_name(pattern)}")
            else:
                for i, item in enumerate(pattern):
                    self.string(item, f"{where}[{i}]")
        interaction_keys = ["correctResponsesPattern", *COMPONENT_LISTS]
        if "interactionType" not in data and any(k in data for k in interaction_keys):
            self.fail(f"{path}.interactionType", "is required with interaction properties")
        for key in COMPONENT_LISTS:
            if key not in data:
                continue
            self.components(data[key], f"{path}.{key}")
            if isinstance(interaction, str) and key not in INTERACTION_TYPES.get(interaction, ()):
                self.fail(f"{path}.{key}", f'is not used by interactionType "{interaction}"')

    def activity(self, value: object, path: str) -> None:
        data = self.obj(value, path, frozenset({"objectType", "id", "definition"}))
        if data is None:
            return
        if "objectType" in data and data["objectType"] != "Activity":
            self.fail(f"{path}.objectType", 'must be "Activity"')
        if "id" not in data:
            self.fail(f"{path}.id", "is required")
        else:
            self.iri(data["id"], f"{path}.id")
        if "definition" in data:
            self.definition(data["definition"], f"{path}.definition")

    def statement_ref(self, value: object, path: str) -> None:
        data = self.obj(value, path, frozenset({"objectType", "id"}))
        if data is None:
            return
        if data.get("objectType") != "StatementRef":
            self.fail(f"{path}.objectType", 'must be "StatementRef"')
        if "id" not in data:
            self.fail(f"{path}.id", "is required")
        else:
            self.uuid(data["id"], f"{path}.id")

    def statement_object(self, value: object, path: str, *, sub: bool) -> str:
        """Check a statement's object; return its objectType."""
        if not isinstance(value, dict):
            self.fail(path, f"must be an object, not {_type_name(value)}")
            return ""
        kind = value.get("objectType", "Activity")
        if kind == "Activity":
            self.activity(value, path)
        elif kind in ("Agent", "Group"):
            self.actor(value, path, object_type_required=True)
        elif kind == "StatementRef":
            self.statement_ref(value, path)
        elif kind == "SubStatement":
            if sub:
                self.fail(path, "a SubStatement cannot contain another SubStatement")
            else:
                self.statement(value, path, sub=True)
        else:
            self.fail(
                f"{path}.objectType",
                "must be Activity, Agent, Group, SubStatement or StatementRef",
            )
        return kind if isinstance(kind, str) else ""

    # Result, context, attachments ----------------------------------------------------

    def score(self, value: object, path: str) -> None:
        data = self.obj(value, path, SCORE_KEYS)
        if data is None:
            return
        numbers: dict[str, float] = {}
        for key in SCORE_KEYS:
            if key in data:
                if _is_number(data[key]):
                    numbers[key] = float(data[key])
                else:
                    self.fail(f"{path}.{key}", f"must be a number, not {_type_name(data[key])}")
        if "scaled" in numbers and not -1 <= numbers["scaled"] <= 1:
            self.fail(f"{path}.scaled", "must be between -1 and 1")
        low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
        if low is not None and high is not None and low >= high:
            self.fail(f"{path}.min", "must be less than max")
        if raw is not None and low is not None and raw < low:
            self.fail(f"{path}.raw", "must not be less than min")
        if raw is not None and high is not None and raw > high:
            self.fail(f"{path}.raw", "must not be more than max")

    def result(self, value: object, path: str) -> None:
        data = self.obj(value, path, RESULT_KEYS)
        if data is None:
            return
        if "score" in data:
            self.score(data["score"], f"{path}.score")
        for key in ("success", "completion"):
            if key in data:
                self.boolean(data[key], f"{path}.{key}")
        if "response" in data:
            self.string(data["response"], f"{path}.response")
        if (
            "duration" in data
            and self.string(data["duration"], f"{path}.duration")
            and not _DURATION.match(data["duration"])
        ):
            self.fail(f"{path}.duration", "must be an ISO 8601 duration, e.g. PT1H30M")
        if "extensions" in data:
            self.extensions(data["extensions"], f"{path}.extensions")

    def context(self, value: object, path: str, object_type: str) -> None:
        data = self.obj(value, path, CONTEXT_KEYS)
        if data is None:
            return
        if "registration" in data:
            self.uuid(data["registration"], f"{path}.registration")
        if "instructor" in data:
            self.actor(data["instructor"], f"{path}.instructor")
        if "team" in data:
            team = data["team"]
            if isinstance(team, dict) and team.get("objectType") == "Group":
                self.actor(team, f"{path}.team")
            else:
                self.fail(f"{path}.team", 'must be a Group (objectType "Group")')
        if "contextActivities" in data:
            where = f"{path}.contextActivities"
            activities = self.obj(
                data["contextActivities"], where, frozenset(CONTEXT_ACTIVITY_KEYS)
            )
            for key, entry in (activities or {}).items():
                if key not in CONTEXT_ACTIVITY_KEYS:
                    continue
                if isinstance(entry, list):
                    for i, item in enumerate(entry):
                        self.activity(item, f"{where}.{key}[{i}]")
                else:
                    self.activity(entry, f"{where}.{key}")
        for key in ("revision", "platform"):
            if key in data:
                self.string(data[key], f"{path}.{key}")
                if object_type != "Activity":
                    self.fail(f"{path}.{key}", "is only allowed when the object is an Activity")
        if "language" in data and (
            self.string(data["language"], f"{path}.language")
            and not is_language_tag(data["language"])
        ):
            self.fail(f"{path}.language", "is not an RFC 5646 language tag")
        if "statement" in data:
            self.statement_ref(data["statement"], f"{path}.statement")
        if "extensions" in data:
            self.extensions(data["extensions"], f"{path}.extensions")

    def attachments(self, value: object, path: str) -> None:
        if not isinstance(value, list):
            self.fail(path, f"must be an array, not {_type_name(value)}")
            return
        for i, item in enumerate(value):
            where = f"{path}[{i}]"
            data = self.obj(item, where, ATTACHMENT_KEYS)
            if data is None:
                continue
            for key in ("usageType", "display", "contentType", "length", "sha2"):
                if key not in data:
                    self.fail(f"{where}.{key}", "is required")
            if "usageType" in data:
                self.iri(data["usageType"], f"{where}.usageType")
            for key in ("display", "description"):
                if key in data:
                    self.language_map(data[key], f"{where}.{key}")
            if "contentType" in data:
                self.string(data["contentType"], f"{where}.contentType")
            if "length" in data:
                length = data["length"]
                if not isinstance(length, int) or isinstance(length, bool) or length < 0:
                    self.fail(f"{where}.length", "must be a non-negative integer")
            if "sha2" in data:
                self.string(data["sha2"], f"{where}.sha2")
            if "fileUrl" in data:
                self.iri(data["fileUrl"], f"{where}.fileUrl")

    # The statement -------------------------------------------------------------------

    def statement(self, value: object, path: str, *, sub: bool = False) -> None:
        data = self.obj(value, path, SUBSTATEMENT_KEYS if sub else STATEMENT_KEYS)
        if data is None:
            return
        if sub and data.get("objectType") != "SubStatement":
            self.fail(f"{path}.objectType", 'must be "SubStatement"')
        for key in ("actor", "verb", "object"):
            if key not in data:
                self.fail(f"{path}.{key}", "is required")
        if "id" in data and not sub:
            self.uuid(data["id"], f"{path}.id")
        if "actor" in data:
            self.actor(data["actor"], f"{path}.actor")
        verb_id = self.verb(data["verb"], f"{path}.verb") if "verb" in data else None
        object_type = ""
        if "object" in data:
            object_type = self.statement_object(data["object"], f"{path}.object", sub=sub)
            if verb_id == VERB_VOIDED and object_type != "StatementRef":
                self.fail(f"{path}.object", "a voiding statement's object must be a StatementRef")
        if "result" in data:
            self.result(data["result"], f"{path}.result")
        if "context" in data:
            self.context(data["context"], f"{path}.context", object_type)
        for key in ("timestamp", "stored"):
            if key in data:
                self.timestamp(data[key], f"{path}.{key}")
        if "authority" in data:
            self.actor(data["authority"], f"{path}.authority")
        if "version" in data and (
            self.string(data["version"], f"{path}.version") and not _VERSION.match(data["version"])
        ):
            self.fail(f"{path}.version", 'must start with "1.0." (e.g. 1.0.0)')
        if "attachments" in data:
            self.attachments(data["attachments"], f"{path}.attachments")


def statement_problems(value: object, path: str = "statement") -> list[Problem]:
    """Every syntax problem of one statement; an empty list means it is valid."""
    checker = _Checker()
    checker.statement(value, path)
    _unstorable(checker, value, path)
    return checker.problems


# What JSON can carry but PostgreSQL cannot store in a JSON column: U+0000 and lone
# surrogates (e.g. "\\ud800" with no low surrogate after it).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "must not contain U+0000 or an unpaired surrogate (U+D800–U+DFFF)"


def _unstorable(checker: _Checker, value: object, path: str) -> None:
    """Strings, property names included, anywhere in the statement (extensions too) that
    hold characters a JSON column cannot store."""
    if isinstance(value, str):
        if UNSTORABLE.search(value):
            checker.fail(path, UNSTORABLE_MESSAGE)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and UNSTORABLE.search(key):
                checker.fail(path, f"property names {UNSTORABLE_MESSAGE}")
            _unstorable(checker, item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _unstorable(checker, item, f"{path}[{index}]")


def agent_problems(value: object, path: str = "agent") -> list[Problem]:
    """Problems of an Agent or identified Group used as a query parameter."""
    checker = _Checker()
    checker.actor(value, path)
    if isinstance(value, dict) and not any(key in value for key in IFI_KEYS):
        checker.fail(path, "must be identified by mbox, mbox_sha1sum, openid or account")
    return checker.problems


def iter_agents(statement: dict[str, Any], *, related: bool) -> Iterator[dict[str, Any]]:
    """The agents and groups a statement is about: actor and object; with `related`, also
    authority, instructor, team and those of a SubStatement, and the members of groups."""
    found: list[object] = [statement.get("actor"), statement.get("object")]
    if related:
        context = statement.get("context") or {}
        found += [statement.get("authority"), context.get("instructor"), context.get("team")]
        sub = statement.get("object")
        if isinstance(sub, dict) and sub.get("objectType") == "SubStatement":
            sub_context = sub.get("context") or {}
            found += [sub.get("actor"), sub.get("object")]
            found += [sub_context.get("instructor"), sub_context.get("team")]
    for item in found:
        if not isinstance(item, dict) or item.get("objectType") in (
            "Activity",
            "StatementRef",
            "SubStatement",
        ):
            continue
        if item.get("objectType") not in (None, "Agent", "Group"):
            continue
        yield item
        for member in item.get("member") or []:
            if isinstance(member, dict):
                yield member


def iter_activity_ids(statement: dict[str, Any], *, related: bool) -> Iterator[str]:
    """The object's activity id; with `related`, also context activities and those of a
    SubStatement."""
    parts = [statement]
    sub = statement.get("object")
    if related and isinstance(sub, dict) and sub.get("objectType") == "SubStatement":
        parts.append(sub)
    for part in parts:
        obj = part.get("object")
        if isinstance(obj, dict) and obj.get("objectType", "Activity") == "Activity":
            yield str(obj.get("id", ""))
        if not related:
            continue
        context_activities = (part.get("context") or {}).get("contextActivities") or {}
        for entry in context_activities.values():
            for activity in entry if isinstance(entry, list) else [entry]:
                if isinstance(activity, dict):
                    yield str(activity.get("id", ""))
