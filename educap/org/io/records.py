"""What the unit importers hand to the import service: plain records and problems.

Nothing here touches the database; `educap.org.importing` decides what to store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

# Languages that may carry a translated unit name next to the default (English) one.
NAME_LANGUAGES = ("ar", "fr", "lo")


class OrgImportErrorCode(StrEnum):
    """Stable codes for every problem an org-unit import can report."""

    FILE_UNREADABLE = "import_file_unreadable"
    FILE_STRUCTURE = "import_file_structure"
    FILE_EMPTY = "import_file_empty"
    MISSING_COLUMN = "import_missing_column"
    DUPLICATE_COLUMN = "import_duplicate_column"
    TOO_MANY_CELLS = "import_too_many_cells"
    REQUIRED = "import_value_required"
    INVALID_VALUE = "import_invalid_value"
    INVALID_CODE = "import_invalid_code"
    TOO_LONG = "import_value_too_long"
    DATE_ORDER = "import_date_order"
    DUPLICATE_CODE = "import_duplicate_code"
    DUPLICATE_EXTERNAL_ID = "import_duplicate_external_id"
    DUPLICATE_TARGET = "import_duplicate_target"
    CYCLE = "import_cycle"
    UNKNOWN_LEVEL = "import_unknown_level"
    UNKNOWN_PARENT = "import_unknown_parent"
    DANGLING_PARENT = "import_dangling_parent"
    LEVEL_ORDER = "import_level_order"
    CODE_CLASH = "import_code_clash"
    EXTERNAL_ID_CLASH = "import_external_id_clash"
    PLAN_HAS_PROBLEMS = "import_plan_has_problems"
    PLAN_STALE = "import_plan_stale"
    NOT_ALLOWED = "import_not_allowed"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input. `row` 0 means the file as a whole."""

    row: int
    column: str
    code: str
    message: str

    def __str__(self) -> str:
        if self.row == 0:
            return f"file: {self.message}"
        if not self.column:
            return f"row {self.row}: {self.message}"
        return f"row {self.row}, column {self.column}: {self.message}"


@dataclass(frozen=True, slots=True)
class UnitRecord:
    """One unit as a file describes it.

    Empty strings and None mean "the file does not say": the importer leaves such
    values of an existing unit alone. `parent_code` names a unit in the file or in
    the database; `parent_external_id` (DHIS2) names an existing unit by its external
    id. Without `level_code` the level comes from `level_depth` (0 is the top), and
    without that from the unit's depth in the resulting tree.
    """

    row: int
    code: str
    name: str
    names: dict[str, str] = field(default_factory=dict)
    level_code: str = ""
    parent_code: str = ""
    external_id: str = ""
    parent_external_id: str = ""
    level_depth: int | None = None
    opened_on: dt.date | None = None
    closed_on: dt.date | None = None


class ParseResult(NamedTuple):
    records: list[UnitRecord]
    problems: list[Problem]


def decode_text(data: bytes | str) -> str:
    """UTF-8 text with any byte-order mark removed (raises UnicodeDecodeError)."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    return text.removeprefix("\ufeff")
