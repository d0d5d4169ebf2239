"""DHIS2 organisation-unit metadata: `{"organisationUnits": [...]}` JSON.

Pure parse (plus a small serialiser used for tests and hand-offs). A unit's DHIS2
uid becomes its external id; `parent.id` naming a unit in the file becomes a
`parent_code`, anything else a `parent_external_id` that the import service looks
up among existing units. Parents may be listed after their children.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from educap.org.io.records import (
    NAME_LANGUAGES,
    OrgImportErrorCode,
    ParseResult,
    Problem,
    UnitRecord,
    decode_text,
)

__all__ = [
    "DHIS2_COLUMNS",
    "dhis2_orgunits_json",
    "generated_code",
    "parse_dhis2_orgunits",
]

# How the import service should name record fields when it reports a DHIS2 problem.
DHIS2_COLUMNS = {
    "external_id": "id",
    "parent_code": "parent",
    "parent_external_id": "parent",
    "opened_on": "openingDate",
    "closed_on": "closedDate",
}


@dataclass
class _Entry:
    row: int
    uid: str
    code: str
    name: str
    names: dict[str, str] = field(default_factory=dict)
    depth: int | None = None
    parent_uid: str = ""
    opened_on: dt.date | None = None
    closed_on: dt.date | None = None


def generated_code(name: str, parent_uid: str) -> str:
    """A stable code for a unit that has neither a DHIS2 code nor a uid."""
    digest = hashlib.sha256(f"{name}\x1f{parent_uid}".encode()).hexdigest()
    return f"OU-{digest[:10].upper()}"


def _problem(row: int, column: str, code: OrgImportErrorCode, message: str) -> Problem:
    return Problem(row=row, column=column, code=code, message=message)


def _file_problem(code: OrgImportErrorCode, message: str) -> ParseResult:
    return ParseResult([], [_problem(0, "", code, message)])


def parse_dhis2_orgunits(data: bytes | str) -> ParseResult:
    """Read units from DHIS2 metadata JSON. Never raises on bad input."""
    try:
        document = json.loads(decode_text(data))
    except UnicodeDecodeError as exc:
        return _file_problem(
            OrgImportErrorCode.FILE_UNREADABLE,
            _("The file is not UTF-8 text (bad byte at position %(position)s).")
            % {"position": exc.start},
        )
    except (ValueError, RecursionError) as exc:
        return _file_problem(
            OrgImportErrorCode.FILE_UNREADABLE,
            _("The file is not valid JSON: %(error)s") % {"error": str(exc)[:200]},
        )
    if not isinstance(document, dict) or not isinstance(document.get("organisationUnits"), list):
        return _file_problem(
            OrgImportErrorCode.FILE_STRUCTURE,
            _("The file must be a JSON object with an organisationUnits list."),
        )
    items: list[Any] = document["organisationUnits"]
    if not items:
        return _file_problem(
            OrgImportErrorCode.FILE_EMPTY, _("The organisationUnits list is empty.")
        )
    problems: list[Problem] = []
    entries: list[_Entry] = []
    first_row_of_uid: dict[str, int] = {}
    for position, item in enumerate(items):
        entry = _read_entry(position + 1, item, problems)
        if entry is None:
            continue
        if entry.uid and entry.uid in first_row_of_uid:
            problems.append(
                _problem(
                    entry.row,
                    "id",
                    OrgImportErrorCode.DUPLICATE_EXTERNAL_ID,
                    _("The id %(external_id)s is already used by unit %(first_row)s.")
                    % {"external_id": entry.uid, "first_row": first_row_of_uid[entry.uid]},
                )
            )
            continue
        if entry.uid:
            first_row_of_uid[entry.uid] = entry.row
        entries.append(entry)
    entries = _assign_codes(entries, problems)
    entries = _drop_cycles(entries, problems)
    code_of_uid = {entry.uid: entry.code for entry in entries if entry.uid}
    records = [
        UnitRecord(
            row=entry.row,
            code=entry.code,
            name=entry.name,
            names=entry.names,
            level_code="",
            parent_code=code_of_uid.get(entry.parent_uid, ""),
            external_id=entry.uid,
            parent_external_id=(entry.parent_uid if entry.parent_uid not in code_of_uid else ""),
            level_depth=entry.depth,
            opened_on=entry.opened_on,
            closed_on=entry.closed_on,
        )
        for entry in entries
    ]
    return ParseResult(records, problems)


def _optional_text(item: dict[str, Any], key: str, row: int, problems: list[Problem]) -> str | None:
    """The stripped string at `key`, "" when absent, None (and a problem) when not text."""
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(
            _problem(
                row,
                key,
                OrgImportErrorCode.INVALID_VALUE,
                _("The %(field)s must be text.") % {"field": key},
            )
        )
        return None
    return value.strip()


def _date(item: dict[str, Any], key: str, row: int, problems: list[Problem]) -> dt.date | None:
    """The date part of an ISO date-time at `key`; None (and maybe a problem) otherwise."""
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    problems.append(
        _problem(
            row,
            key,
            OrgImportErrorCode.INVALID_VALUE,
            _("The %(field)s must be an ISO date such as 2020-01-31.") % {"field": key},
        )
    )
    return None


def _read_entry(row: int, item: Any, problems: list[Problem]) -> _Entry | None:
    if not isinstance(item, dict):
        problems.append(
            _problem(
                row, "", OrgImportErrorCode.FILE_STRUCTURE, _("Each unit must be a JSON object.")
            )
        )
        return None
    before = len(problems)
    uid = _optional_text(item, "id", row, problems)
    code = _optional_text(item, "code", row, problems)
    given_name = _optional_text(item, "name", row, problems)
    short_name = _optional_text(item, "shortName", row, problems)
    name = given_name or short_name
    if given_name is not None and short_name is not None and not name:
        problems.append(
            _problem(row, "name", OrgImportErrorCode.REQUIRED, _("The unit has no name."))
        )
    depth: int | None = None
    level = item.get("level")
    if level is not None:
        if isinstance(level, int) and not isinstance(level, bool) and 1 <= level <= 100:
            depth = level - 1
        else:
            problems.append(
                _problem(
                    row,
                    "level",
                    OrgImportErrorCode.INVALID_VALUE,
                    _("The level must be a whole number from 1 (the top)."),
                )
            )
    parent_uid = ""
    parent = item.get("parent")
    if parent is not None:
        parent_id = parent.get("id") if isinstance(parent, dict) else None
        if isinstance(parent_id, str) and parent_id.strip():
            parent_uid = parent_id.strip()
        else:
            problems.append(
                _problem(
                    row,
                    "parent",
                    OrgImportErrorCode.INVALID_VALUE,
                    _('The parent must look like {"id": "..."}.'),
                )
            )
    opened_on = _date(item, "openingDate", row, problems)
    closed_on = _date(item, "closedDate", row, problems)
    names = _translations(item.get("translations"), row, problems)
    if len(problems) > before or uid is None or code is None or not name:
        return None
    if uid and parent_uid == uid:
        problems.append(
            _problem(
                row,
                "parent",
                OrgImportErrorCode.CYCLE,
                _("The unit %(code)s cannot be its own parent.") % {"code": code or uid},
            )
        )
        return None
    return _Entry(
        row=row,
        uid=uid,
        code=code,
        name=name,
        names=names,
        depth=depth,
        parent_uid=parent_uid,
        opened_on=opened_on,
        closed_on=closed_on,
    )


def _translations(value: Any, row: int, problems: list[Problem]) -> dict[str, str]:
    names: dict[str, str] = {}
    if value is None:
        return names
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        problems.append(
            _problem(
                row,
                "translations",
                OrgImportErrorCode.INVALID_VALUE,
                _("The translations must be a list of objects."),
            )
        )
        return names
    for translation in value:
        prop, locale, text = (translation.get(k) for k in ("property", "locale", "value"))
        if not (isinstance(prop, str) and isinstance(locale, str) and isinstance(text, str)):
            continue
        # DHIS2 locales look like "fr" or "ar_SD"; only the language matters here.
        lang = locale.replace("-", "_").split("_")[0].lower()
        if prop.upper() == "NAME" and lang in NAME_LANGUAGES and text.strip():
            names[lang] = text.strip()
    return names


def _assign_codes(entries: list[_Entry], problems: list[Problem]) -> list[_Entry]:
    """Code = DHIS2 code, else the uid, else a generated one; drop duplicate codes."""
    kept: list[_Entry] = []
    first_row_of_code: dict[str, int] = {}
    for entry in entries:
        code = entry.code or entry.uid
        if not code:
            continue
        if code in first_row_of_code:
            problems.append(
                _problem(
                    entry.row,
                    "code",
                    OrgImportErrorCode.DUPLICATE_CODE,
                    _("The code %(code)s is already used by unit %(first_row)s.")
                    % {"code": code, "first_row": first_row_of_code[code]},
                )
            )
            continue
        first_row_of_code[code] = entry.row
    for entry in entries:
        if entry.code or entry.uid:
            code = entry.code or entry.uid
            if first_row_of_code.get(code) == entry.row:
                entry.code = code
                kept.append(entry)
            continue
        base = generated_code(entry.name, entry.parent_uid)
        code, n = base, 1
        while code in first_row_of_code:
            n += 1
            code = f"{base}-{n}"
        first_row_of_code[code] = entry.row
        entry.code = code
        kept.append(entry)
    kept.sort(key=lambda e: e.row)
    return kept


def _drop_cycles(entries: list[_Entry], problems: list[Problem]) -> list[_Entry]:
    """Report and drop units whose in-file parent chain loops back on itself."""
    by_uid = {entry.uid: entry for entry in entries if entry.uid}
    state: dict[str, int] = {}  # 1 = on the current walk, 2 = known to reach a root
    in_cycle: set[str] = set()
    for start in by_uid:
        walk: list[str] = []
        uid = start
        while uid in by_uid and uid not in state:
            state[uid] = 1
            walk.append(uid)
            uid = by_uid[uid].parent_uid
        if uid in state and state[uid] == 1:
            in_cycle.update(walk[walk.index(uid) :])
        for seen in walk:
            state[seen] = 2
    if not in_cycle:
        return entries
    for entry in entries:
        if entry.uid in in_cycle:
            problems.append(
                _problem(
                    entry.row,
                    "parent",
                    OrgImportErrorCode.CYCLE,
                    _("The unit %(code)s is its own ancestor through its parents.")
                    % {"code": entry.code},
                )
            )
    return [entry for entry in entries if entry.uid not in in_cycle]


def dhis2_orgunits_json(records: Iterable[UnitRecord]) -> str:
    """DHIS2 metadata JSON for records that carry external ids (the DHIS2 uids)."""
    records = list(records)
    uid_of_code = {r.code: r.external_id for r in records if r.external_id}
    units: list[dict[str, Any]] = []
    for record in records:
        unit: dict[str, Any] = {"code": record.code, "name": record.name}
        if record.external_id:
            unit["id"] = record.external_id
        if record.level_depth is not None:
            unit["level"] = record.level_depth + 1
        parent_uid = (
            uid_of_code.get(record.parent_code, "")
            if record.parent_code
            else record.parent_external_id
        )
        if parent_uid:
            unit["parent"] = {"id": parent_uid}
        if record.opened_on:
            unit["openingDate"] = f"{record.opened_on.isoformat()}T00:00:00.000"
        if record.closed_on:
            unit["closedDate"] = f"{record.closed_on.isoformat()}T00:00:00.000"
        if record.names:
            unit["translations"] = [
                {"property": "NAME", "locale": lang, "value": value}
                for lang, value in sorted(record.names.items())
            ]
        units.append(unit)
    return json.dumps({"organisationUnits": units}, ensure_ascii=False, indent=1)
