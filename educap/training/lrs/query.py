"""Reading statements back (GET /xapi/statements): parameters, filters, paging, formats.

A client reads only the statements sent with its own credentials. Lists are in reverse
order of "stored" (or ascending on request) and page with a "more" link that carries a
keyset cursor, so it stays valid however long it is kept.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from educap.training.lrs.errors import XapiError, XapiErrorCode, bad_parameter
from educap.training.lrs.validate import (
    IFI_KEYS,
    agent_problems,
    is_iri,
    is_uuid,
    iter_activity_ids,
    iter_agents,
    parse_timestamp,
)
from educap.training.models import XapiClient, XapiStatement

MAX_LIMIT = 100
# With filters the database cannot apply (related_* and group members), one request
# examines at most this many statements; the "more" link continues from there.
SCAN_LIMIT = 5000
LIST_PARAMS = frozenset(
    {
        "agent",
        "verb",
        "activity",
        "registration",
        "related_activities",
        "related_agents",
        "since",
        "until",
        "limit",
        "format",
        "attachments",
        "ascending",
        "cursor",
    }
)
SINGLE_PARAMS = frozenset({"statementId", "voidedStatementId", "format", "attachments"})
GET_PARAMS = LIST_PARAMS | SINGLE_PARAMS
FORMATS = ("exact", "ids", "canonical")


@dataclass(frozen=True)
class StatementQuery:
    agent: dict[str, Any] | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    limit: int = MAX_LIMIT
    ascending: bool = False
    cursor: tuple[dt.datetime, uuid.UUID] | None = None


def check_parameter_names(params: Iterable[str], allowed: frozenset[str]) -> None:
    """400 for parameters the resource does not know, or knows in another case."""
    for name in params:
        if name in allowed:
            continue
        near = next((a for a in allowed if a.lower() == name.lower()), None)
        if near:
            raise bad_parameter(f'Parameter names are case sensitive: use "{near}".', name)
        raise bad_parameter(f'Unknown parameter "{name}".', name)


def parse_bool(params: Mapping[str, str], name: str) -> bool:
    value = params.get(name)
    if value is None:
        return False
    if value not in ("true", "false"):
        raise bad_parameter(f"{name} must be true or false.", name)
    return value == "true"


def parse_format(params: Mapping[str, str]) -> str:
    value = params.get("format", "exact")
    if value not in FORMATS:
        raise bad_parameter("format must be ids, exact or canonical.", "format")
    return value


def _timestamp(params: Mapping[str, str], name: str) -> dt.datetime | None:
    if name not in params:
        return None
    moment = parse_timestamp(params[name])
    if moment is None:
        raise bad_parameter(f"{name} must be an ISO 8601 timestamp.", name)
    return moment


def encode_cursor(row: XapiStatement) -> str:
    return f"{row.stored.isoformat()}_{row.pk}"


def _cursor(value: str | None) -> tuple[dt.datetime, uuid.UUID] | None:
    if value is None:
        return None
    stored, _, pk = value.rpartition("_")
    try:
        moment = dt.datetime.fromisoformat(stored)
        key = uuid.UUID(pk)
    except ValueError as exc:
        raise bad_parameter("cursor is not one this LRS issued.", "cursor") from exc
    if moment.tzinfo is None:
        raise bad_parameter("cursor is not one this LRS issued.", "cursor")
    return moment, key


def parse_query(params: Mapping[str, str]) -> StatementQuery:
    agent = None
    if "agent" in params:
        try:
            agent = json.loads(params["agent"])
        except (ValueError, RecursionError) as exc:
            raise bad_parameter("agent must be an Agent or Group as JSON.", "agent") from exc
        problems = agent_problems(agent)
        if problems:
            raise bad_parameter("; ".join(str(p) for p in problems[:5]), "agent")
    for name in ("verb", "activity"):
        if name in params and not is_iri(params[name]):
            raise bad_parameter(f"{name} must be an IRI.", name)
    registration = params.get("registration")
    if registration is not None:
        if not is_uuid(registration):
            raise bad_parameter("registration must be a UUID.", "registration")
        registration = str(uuid.UUID(registration))
    limit = MAX_LIMIT
    if "limit" in params:
        if not params["limit"].isdigit():
            raise bad_parameter("limit must be a non-negative integer.", "limit")
        limit = min(int(params["limit"]), MAX_LIMIT) or MAX_LIMIT
    parse_format(params)
    parse_bool(params, "attachments")
    return StatementQuery(
        agent=agent,
        verb=params.get("verb"),
        activity=params.get("activity"),
        registration=registration,
        related_activities=parse_bool(params, "related_activities"),
        related_agents=parse_bool(params, "related_agents"),
        since=_timestamp(params, "since"),
        until=_timestamp(params, "until"),
        limit=limit,
        ascending=parse_bool(params, "ascending"),
        cursor=_cursor(params.get("cursor")),
    )


def statement_get(*, client: XapiClient, statement_id: str, voided: bool) -> XapiStatement:
    """One statement by id: a voided one only when asked for by voidedStatementId."""
    name = "voidedStatementId" if voided else "statementId"
    if not is_uuid(statement_id):
        raise bad_parameter(f"{name} must be a UUID.", name)
    row = XapiStatement.objects.filter(
        client=client, pk=uuid.UUID(statement_id), voided=voided
    ).first()
    if row is None:
        raise XapiError(404, XapiErrorCode.NOT_FOUND, "No such statement.", name)
    return row


def _same_agent(candidate: Mapping[str, Any], agent: Mapping[str, Any]) -> bool:
    return any(key in agent and candidate.get(key) == agent[key] for key in IFI_KEYS)


def _ifi_q(prefix: str, agent: Mapping[str, Any]) -> Q:
    for key in IFI_KEYS:
        if key not in agent:
            continue
        if key == "account":
            account = agent["account"]
            return Q(
                **{
                    f"{prefix}__account__homePage": account["homePage"],
                    f"{prefix}__account__name": account["name"],
                }
            )
        return Q(**{f"{prefix}__{key}": agent[key]})
    return Q(pk__in=[])


def _matches(row: XapiStatement, query: StatementQuery) -> bool:
    """The filters the database did not apply exactly."""
    statement = row.statement
    if query.agent is not None and not any(
        _same_agent(a, query.agent) for a in iter_agents(statement, related=query.related_agents)
    ):
        return False
    return not (
        query.activity is not None
        and query.related_activities
        and query.activity not in iter_activity_ids(statement, related=True)
    )


def statement_list(
    *, client: XapiClient, query: StatementQuery
) -> tuple[list[XapiStatement], XapiStatement | None]:
    """The page of statements and, when there are more, the row to continue after."""
    rows: QuerySet[XapiStatement] = XapiStatement.objects.filter(client=client, voided=False)
    if query.verb is not None:
        rows = rows.filter(verb_id=query.verb)
    if query.activity is not None and not query.related_activities:
        rows = rows.filter(activity_id=query.activity)
    if query.registration is not None:
        rows = rows.filter(statement__context__registration=query.registration)
    if query.since is not None:
        rows = rows.filter(stored__gt=query.since)
    if query.until is not None:
        rows = rows.filter(stored__lte=query.until)
    if query.agent is not None and not query.related_agents:
        # Exact for agents; statements by or about groups are checked member by member.
        rows = rows.filter(
            _ifi_q("statement__actor", query.agent)
            | _ifi_q("statement__object", query.agent)
            | Q(statement__actor__objectType="Group")
            | Q(statement__object__objectType="Group")
        )
    if query.cursor is not None:
        stored, pk = query.cursor
        if query.ascending:
            rows = rows.filter(Q(stored__gt=stored) | Q(stored=stored, pk__gt=pk))
        else:
            rows = rows.filter(Q(stored__lt=stored) | Q(stored=stored, pk__lt=pk))
    rows = rows.order_by(*(("stored", "pk") if query.ascending else ("-stored", "-pk")))
    needs_python = query.agent is not None or query.related_activities
    if not needs_python:
        page = list(rows[: query.limit + 1])
        more = page[query.limit - 1] if len(page) > query.limit else None
        return page[: query.limit], more
    found: list[XapiStatement] = []
    scanned: XapiStatement | None = None
    for count, row in enumerate(rows[: SCAN_LIMIT + 1].iterator(chunk_size=500), start=1):
        if count > SCAN_LIMIT:
            return found, scanned
        if _matches(row, query):
            if len(found) == query.limit:
                return found, found[-1]
            found.append(row)
        scanned = row
    return found, None


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def statement_out(
    row: XapiStatement, *, fmt: str = "exact", languages: Iterable[str] = ()
) -> dict[str, Any]:
    """A stored statement as the LRS returns it: with "stored" and a "timestamp"."""
    data: dict[str, Any] = copy.deepcopy(row.statement)
    data["stored"] = _iso(row.stored)
    data.setdefault("timestamp", data["stored"])
    if fmt == "ids":
        _ids_only(data)
    elif fmt == "canonical":
        _one_language(data, list(languages))
    return data


def _agent_ids(agent: object) -> object:
    if not isinstance(agent, dict):
        return agent
    slim = {k: v for k, v in agent.items() if k == "objectType" or k in IFI_KEYS}
    if agent.get("objectType") == "Group" and not any(k in agent for k in IFI_KEYS):
        slim["member"] = [_agent_ids(m) for m in agent.get("member") or []]
    return slim


def _activity_ids(activity: object) -> object:
    if not isinstance(activity, dict):
        return activity
    return {k: v for k, v in activity.items() if k in ("objectType", "id")}


def _ids_only(part: dict[str, Any]) -> None:
    """format=ids: only what identifies agents, groups, verbs and activities."""
    for key in ("actor", "authority"):
        if key in part:
            part[key] = _agent_ids(part[key])
    if isinstance(part.get("verb"), dict):
        part["verb"] = {"id": part["verb"].get("id")}
    obj = part.get("object")
    if isinstance(obj, dict):
        kind = obj.get("objectType", "Activity")
        if kind == "Activity":
            part["object"] = _activity_ids(obj)
        elif kind in ("Agent", "Group"):
            part["object"] = _agent_ids(obj)
        elif kind == "SubStatement":
            _ids_only(obj)
    context = part.get("context")
    if isinstance(context, dict):
        for key in ("instructor", "team"):
            if key in context:
                context[key] = _agent_ids(context[key])
        for entry_key, entry in (context.get("contextActivities") or {}).items():
            context["contextActivities"][entry_key] = [_activity_ids(a) for a in entry]


def accepted_languages(header: str) -> list[str]:
    """Language tags of an Accept-Language header, most wanted first."""
    weighted = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, position, tag.strip().lower()))
    return [tag for _, _, tag in sorted(weighted)]


def _pick(language_map: object, languages: list[str]) -> object:
    if not isinstance(language_map, dict) or len(language_map) <= 1:
        return language_map
    lowered = {k.lower(): k for k in language_map}
    for wanted in languages:
        if wanted in lowered:
            return {lowered[wanted]: language_map[lowered[wanted]]}
        for tag, key in lowered.items():
            if tag.split("-")[0] == wanted.split("-")[0] and wanted != "*":
                return {key: language_map[key]}
    first = next(iter(language_map))
    return {first: language_map[first]}


def _canonical_activity(activity: object, languages: list[str]) -> None:
    if not isinstance(activity, dict) or not isinstance(activity.get("definition"), dict):
        return
    definition = activity["definition"]
    for key in ("name", "description"):
        if key in definition:
            definition[key] = _pick(definition[key], languages)
    for key in ("choices", "scale", "source", "target", "steps"):
        for component in definition.get(key) or []:
            if isinstance(component, dict) and "description" in component:
                component["description"] = _pick(component["description"], languages)


def _one_language(part: dict[str, Any], languages: list[str]) -> None:
    """format=canonical: one language per language map, chosen by Accept-Language."""
    if isinstance(part.get("verb"), dict) and "display" in part["verb"]:
        part["verb"]["display"] = _pick(part["verb"]["display"], languages)
    obj = part.get("object")
    if isinstance(obj, dict):
        if obj.get("objectType", "Activity") == "Activity":
            _canonical_activity(obj, languages)
        elif obj.get("objectType") == "SubStatement":
            _one_language(obj, languages)
    context = part.get("context")
    if isinstance(context, dict):
        for entry in (context.get("contextActivities") or {}).values():
            for activity in entry:
                _canonical_activity(activity, languages)
