"""Moodle competency frameworks as CSV: the format of Moodle's tool_lpimportcsv.

Moodle's "Export competency framework" writes, and "Import competency framework" reads, one
CSV file with 14 columns (English header shown; Moodle writes them in the site's language):

    Parent ID number, ID number, Short name, Description, Description format, Scale values,
    Scale configuration, Rule type (optional), Rule outcome (optional), Rule config (optional),
    Cross-referenced competency ID numbers, Exported ID (optional), Is framework, Taxonomy

One row has "Is framework" set: its ID number, short name and description are the
framework's, "Scale values" lists the scale's level names (comma-separated, lowest first),
"Scale configuration" is Moodle's JSON (`[{"scaleid":"2"},{"id":1,"scaledefault":1,...}]`) and
"Taxonomy" names the kind of item at each depth ("domain,competency,competency"). Every other
row is a competency whose parent is named by "Parent ID number" (empty at the top).

Pure parse/serialise; `importing.py` decides what to store. Row numbers are the ones a
spreadsheet shows (the header is row 1) and are `Problem.location`; "" is the whole file.
`ParseResult.record` is None whenever there is a problem, so a caller cannot half-import.

Decisions, in one place:

- Reading follows Moodle's reader: UTF-8 with or without byte-order mark (UTF-16 with a BOM
  too), CR LF and CR become LF everywhere (also inside quoted cells), surrounding blank space
  of the file is ignored, and the delimiter is whichever of `,` `;` `:` tab splits the
  header (Moodle's import form offers these four). Headers are matched by their English
  names; a 14-column header in another language is read by position, as Moodle does.
- Level values: Moodle scale item N (1-based) becomes level code "N-1" with value N-1, so
  EduCap's default scale (0 None ... 4 Expert) goes out and comes back unchanged. Moodle's
  default/proficient flags have no place in EduCap and are not kept; export marks the lowest
  level as default and the upper half of the scale as proficient (Proficient and Expert on
  the default scale), which Moodle requires.
- Kinds: the taxonomy term of an item's depth decides: "domain" or "competency" is taken as
  it is; with any other term (or none) an item with children is a domain and a leaf a
  competency. Export writes "domain" or "competency" for a depth of one kind, and "concept"
  for a depth of domains with children and competencies without.
- ID numbers are free text in Moodle but EduCap codes are letters, digits, dot, dash and
  underscore: accents are dropped and other characters become "-" ("RÉF 2023" -> "REF-2023");
  an id number in another script gets `item-<hash>`.
- Identifiers: export writes each item's (and the framework's) UUID into "Exported ID
  (optional)", which Moodle's importer only uses as a lookup key for completion rules, and
  reading takes a UUID found there back. Moodle's own exports hold its database ids; then
  the identifier is a UUID derived from the framework's and the item's codes, so the same
  file always gives the same identifiers.
- Descriptions (format 1 HTML, 0 Moodle auto-format) are turned into plain text; plain (2)
  and Markdown (4) are kept as they are. Export writes HTML (format 1) built so that reading
  it gives back exactly the text that went out.
- Cross-referenced id numbers become `isRelatedTo` relations (one per pair: Moodle lists a
  relation on both rows); an id number not in the file is kept as an external target.
  Completion rules (rule type, outcome, config) are Moodle-only and ignored.
- Moodle holds one language and nothing of: other languages, level descriptors, per-level
  indicators, keywords, role profiles, relations other than "related", version, licence,
  source, publisher. It shortens short names to 100 characters and splits scale values on
  commas (a comma in a level name is written as U+201A, a low quotation mark).
  `export_losses()` lists what an export of a given record leaves out or changes.
- Formula injection: a spreadsheet runs a cell starting with = + - @ as a formula. The plain
  text columns (ID numbers, short names, scale values, cross-references) get a `'` in front
  of such a value, which `parse` strips again; Moodle would keep that `'`, but only on text
  nobody should start that way. Descriptions always start with `<p>` and need nothing.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from html.parser import HTMLParser

from django.utils.translation import gettext as _

from educap.frameworks.io.records import (
    FrameworkRecord,
    ItemRecord,
    LevelRecord,
    ParseResult,
    Problem,
    RelationRecord,
    ScaleRecord,
    Texts,
)
from educap.org.io.units_csv import protect_cell, unprotect_cell

__all__ = [
    "FIELDS",
    "HEADERS",
    "MoodleCsvErrorCode",
    "code_for_id_number",
    "export_losses",
    "html_to_text",
    "parse",
    "serialise",
    "text_to_html",
]

# Moodle's column order and English header names (lang/en/tool_lpimportcsv.php).
HEADERS = (
    "Parent ID number",
    "ID number",
    "Short name",
    "Description",
    "Description format",
    "Scale values",
    "Scale configuration",
    "Rule type (optional)",
    "Rule outcome (optional)",
    "Rule config (optional)",
    "Cross-referenced competency ID numbers",
    "Exported ID (optional)",
    "Is framework",
    "Taxonomy",
)
FIELDS = (
    "parentidnumber",
    "idnumber",
    "shortname",
    "description",
    "descriptionformat",
    "scalevalues",
    "scaleconfiguration",
    "ruletype",
    "ruleoutcome",
    "ruleconfig",
    "relatedidnumbers",
    "exportid",
    "isframework",
    "taxonomy",
)
_REQUIRED_FIELDS = ("parentidnumber", "idnumber", "shortname", "isframework")
_HEADER_OF = dict(zip(FIELDS, HEADERS, strict=True))


def _header_key(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").split()).casefold()


_FIELD_OF_HEADER: dict[str, str] = {}
for _field, _header in _HEADER_OF.items():
    _FIELD_OF_HEADER[_header_key(_header)] = _field
    _FIELD_OF_HEADER[_header_key(_header.removesuffix(" (optional)"))] = _field

# Moodle's description formats (lib/weblib.php).
FORMAT_MOODLE, FORMAT_HTML, FORMAT_PLAIN, FORMAT_WIKI, FORMAT_MARKDOWN = 0, 1, 2, 3, 4

# EduCap's limits (models.py): item and framework codes, statements, titles.
_CODE_MAX, _STATEMENT_MAX, _TITLE_MAX = 100, 500, 300
# Moodle shortens short names to 100 characters on import.
_MOODLE_SHORTNAME_MAX = 100
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_NOT_CODE = re.compile(r"[^A-Za-z0-9_.\-]+")
# Stable identifiers for items that come from Moodle (which has none but the id number).
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://educap.invalid/moodle-competency-framework")
# The default scale, for a record without one (a Moodle framework must have a scale).
_DEFAULT_LEVEL_NAMES = ("None", "Awareness", "Working", "Proficient", "Expert")
# A Moodle taxonomy term that is neither "domain" nor "competency": kind by place in the tree.
_STRUCTURAL_TERM = "concept"


class MoodleCsvErrorCode(StrEnum):
    UNREADABLE = "unreadable_file"
    NOT_UTF8 = "not_utf8"
    EMPTY = "empty_file"
    MALFORMED = "malformed_csv"
    NOT_MOODLE = "not_moodle_framework_csv"
    MISSING_COLUMN = "missing_column"
    DUPLICATE_COLUMN = "duplicate_column"
    CELL_COUNT = "wrong_cell_count"
    NO_FRAMEWORK = "no_framework_row"
    SEVERAL_FRAMEWORKS = "several_framework_rows"
    REQUIRED = "required"
    TOO_LONG = "too_long"
    DUPLICATE_ID_NUMBER = "duplicate_id_number"
    CODE_CLASH = "code_clash"
    UNKNOWN_PARENT = "unknown_parent"
    CYCLE = "cycle"
    NO_SCALE = "no_scale"
    EMPTY_SCALE_VALUE = "empty_scale_value"
    SCALE_CONFIGURATION = "invalid_scale_configuration"
    UNKNOWN_SCALE_VALUE = "unknown_scale_value"
    OWN_SCALE = "competency_scale_differs"
    DESCRIPTION_FORMAT = "invalid_description_format"
    NOT_CARRIED = "not_carried"


Code = MoodleCsvErrorCode


def _problem(location: int | str, code: Code, message: str, column: str = "") -> Problem:
    return Problem(
        location=str(location) if location else "",
        code=code,
        message=message,
        column=_HEADER_OF.get(column, column),
    )


# ------------------------------------------------------------------ descriptions (HTML)

_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "fieldset",
        "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "main", "nav", "ol", "p", "pre", "section", "table", "ul",
    }
)  # fmt: skip
_LINE_TAGS = frozenset({"li", "tr"})
_HIDDEN_TAGS = frozenset({"script", "style", "head", "title", "template"})
# Tokens of the text being built: literal text, one collapsible space, or a break.
_SPACE, _BR, _LINE, _PARA = object(), object(), object(), object()


class _TextExtractor(HTMLParser):
    """HTML to plain text the way a browser shows it: tags go, blocks become line breaks.

    Whitespace written literally collapses; whitespace written as a character reference
    (`&#32;`) is kept, which lets `text_to_html` carry any text through exactly.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.tokens: list[object] = []
        self.hidden = 0
        self.pre = 0
        self.lists: list[list[int]] = []  # per open list: [is_ordered, items so far]

    def _text(self, text: str) -> None:
        if not self.hidden and text:
            self.tokens.append(text)

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        if self.pre:
            for index, line in enumerate(data.split("\n")):
                if index:
                    self.tokens.append(_BR)
                self._text(line)
            return
        for index, part in enumerate(_HTML_SPACE.split(data)):
            if index:
                self.tokens.append(_SPACE)
            self._text(part)

    def handle_charref(self, name: str) -> None:
        try:
            number = int(name[1:], 16) if name[:1] in "xX" else int(name)
        except ValueError:
            self._text(f"&#{name};")
            return
        valid = 0 <= number < 0x110000 and not 0xD800 <= number <= 0xDFFF
        self._text(chr(number) if valid else "\ufffd")

    def handle_entityref(self, name: str) -> None:
        text = html.unescape(f"&{name};")
        self._text(" " if text == "\xa0" else text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self.hidden += 1
        elif tag == "br":
            self.tokens.append(_BR)
        elif tag in _BLOCK_TAGS:
            self.tokens.append(_PARA)
            if tag == "pre":
                self.pre += 1
            elif tag in ("ul", "ol"):
                self.lists.append([tag == "ol", 0])
        elif tag in _LINE_TAGS:
            self.tokens.append(_LINE)
            if tag == "li":
                if self.lists:
                    self.lists[-1][1] += 1
                    ordered, count = self.lists[-1]
                    self._text(f"{count}. " if ordered else "- ")
                else:
                    self._text("- ")
        elif tag in ("td", "th"):
            self.tokens.append(_SPACE)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.tokens.append(_BR)
        elif tag in _BLOCK_TAGS:
            self.tokens.append(_PARA)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.tokens.append(_PARA)
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
            elif tag in ("ul", "ol") and self.lists:
                self.lists.pop()
        elif tag in _LINE_TAGS:
            self.tokens.append(_LINE)

    def text(self) -> str:
        tokens = self.tokens
        out: list[str] = []
        pending_break = ""  # "\n" or "\n\n" owed before the next text
        pending_space = False
        for token in tokens:
            if token is _SPACE:
                pending_space = True
            elif token is _LINE or token is _PARA:
                pending_space = False
                if out:
                    pending_break = "\n\n" if token is _PARA or pending_break == "\n\n" else "\n"
            elif token is _BR:
                pending_space = False
                out.append(pending_break + "\n")
                pending_break = ""
            else:
                assert isinstance(token, str)
                if pending_break:
                    out.append(pending_break)
                    pending_break = ""
                elif pending_space and out and not out[-1].endswith("\n"):
                    out.append(" ")
                pending_space = False
                out.append(token)
        return "".join(out)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML description (paragraphs, line breaks and list items kept)."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    return extractor.text()


def text_to_html(text: str) -> str:
    """HTML that shows `text` and that `html_to_text` turns back into exactly `text`.

    Special characters become entities, line breaks `<br>`, and every space that HTML would
    collapse or drop (doubled, or next to a line break or the edge) a `&#32;`.
    """
    if not text:
        return ""
    out: list[str] = []
    last = len(text) - 1
    for index, char in enumerate(text):
        if char == "\n":
            out.append("<br>\n")
        elif char == " ":
            before = text[index - 1] if index else "\n"
            after = text[index + 1] if index < last else "\n"
            lone = before not in " \t\n\r\f" and after not in " \t\n\r\f"
            out.append(" " if lone else "&#32;")
        elif char < " " or char == "\x7f":  # tab, CR and other controls survive as references
            out.append(f"&#{ord(char)};")
        else:
            out.append(html.escape(char, quote=True))
    return "<p>" + "".join(out) + "</p>"


def _description(raw: str, format_cell: str) -> str | None:
    """Plain text of a description cell; None if the format is not one Moodle knows."""
    format_text = format_cell.strip()
    if not format_text:
        kind = FORMAT_HTML if "<" in raw else FORMAT_PLAIN
    else:
        try:
            kind = int(format_text)
        except ValueError:
            return None
    if kind == FORMAT_HTML:
        return html_to_text(raw)
    if kind == FORMAT_MOODLE:  # Moodle's auto-format: HTML, and line breaks count
        return html_to_text(raw.replace("\n", "<br>"))
    if kind in (FORMAT_PLAIN, FORMAT_WIKI, FORMAT_MARKDOWN):
        return raw
    return None


# ----------------------------------------------------------------------------- reading


def _decode(data: bytes) -> tuple[str, Problem | None]:
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # "Unicode text" from a spreadsheet
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return "", _problem(
            "",
            Code.NOT_UTF8,
            _(
                "The file is not UTF-8 text (first bad byte on line %(line)s). Save it as"
                " CSV UTF-8; Moodle's own exports are."
            )
            % {"line": line},
        )
    if "\x00" in text:
        return "", _problem("", Code.UNREADABLE, _("The file is not a CSV text file."))
    return text, None


def _sniff_delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t", ":")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def _rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for every CSV record; raises csv.Error on broken quoting."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    yield from enumerate(reader, start=1)


def code_for_id_number(id_number: str) -> str:
    """The EduCap code for a Moodle id number (which may hold any text).

    Accents are dropped and other characters become "-"; an id number in a script without
    Latin letters gets `item-` and a hash of it, the same every time.
    """
    if _CODE.match(id_number):
        return id_number
    decomposed = unicodedata.normalize("NFKD", id_number)
    latin = "".join(char for char in decomposed if not unicodedata.combining(char))
    if latin.isascii():
        code = _NOT_CODE.sub("-", latin).lstrip("-_.")[:_CODE_MAX]
        if code:
            return code
    return "item-" + hashlib.sha256(id_number.encode()).hexdigest()[:10]


def _derived_identifier(framework_code: str, code: str | None = None) -> str:
    name = framework_code if code is None else f"{framework_code}\n{code}"
    return str(uuid.uuid5(_NAMESPACE, name))


def _uuid(value: str) -> str:
    """`value` if it is a UUID (an EduCap identifier), else ""."""
    try:
        return str(uuid.UUID(value)) if len(value) == 36 else ""
    except ValueError:
        return ""


def _truthy(value: str) -> bool:
    """PHP's truth: Moodle tests the "Is framework" cell with a plain `if`."""
    value = value.strip()
    return value not in ("", "0")


def _plain(value: str) -> str:
    return unprotect_cell(value.strip())


@dataclass(eq=False)
class _Row:
    row: int
    id_number: str
    parent: str
    shortname: str
    description: str
    related: list[str]
    scale_values: str
    scale_configuration: str
    export_id: str = ""
    code: str = ""
    children: list[_Row] = field(default_factory=list)


@dataclass
class _FrameworkRow:
    row: int
    id_number: str
    shortname: str
    description: str
    scale_values: str
    scale_configuration: str
    taxonomy: list[str]
    export_id: str = ""


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.index: dict[str, int] = {}
        self.width = 0

    def problem(self, location: int | str, code: Code, message: str, column: str = "") -> None:
        self.problems.append(_problem(location, code, message, column))

    # -- header

    def read_header(self, cells: list[str]) -> bool:
        self.width = len(cells)
        index: dict[str, int] = {}
        duplicates: list[str] = []
        for position, cell in enumerate(cells):
            name = _FIELD_OF_HEADER.get(_header_key(cell))
            if name is None:
                continue
            if name in index:
                duplicates.append(name)
            else:
                index[name] = position
        missing = [name for name in _REQUIRED_FIELDS if name not in index]
        if missing and len(cells) == len(FIELDS):
            # Moodle names the columns in the site's language; its importer goes by position.
            self.index = {name: position for position, name in enumerate(FIELDS)}
            return True
        if len(missing) == len(_REQUIRED_FIELDS):
            self.problem(
                1,
                Code.NOT_MOODLE,
                _(
                    "The first row is not the header of a Moodle competency framework"
                    " export (expected columns: %(columns)s)."
                )
                % {"columns": ", ".join(HEADERS)},
            )
            return False
        for name in duplicates:
            self.problem(
                1,
                Code.DUPLICATE_COLUMN,
                _("The column %(column)s appears more than once.") % {"column": _HEADER_OF[name]},
                name,
            )
        for name in missing:
            self.problem(
                1,
                Code.MISSING_COLUMN,
                _("The header has no %(column)s column.") % {"column": _HEADER_OF[name]},
                name,
            )
        self.index = index
        return not self.problems

    # -- rows

    def cells_ok(self, row: int, cells: list[str]) -> bool:
        if len(cells) > self.width and any(cell.strip() for cell in cells[self.width :]):
            self.problem(
                row,
                Code.CELL_COUNT,
                _("The row has %(cells)s cells but the header %(columns)s.")
                % {"cells": len(cells), "columns": self.width},
            )
            return False
        return True

    def get(self, cells: list[str], name: str) -> str:
        position = self.index.get(name)
        if position is None or position >= len(cells):
            return ""
        return cells[position]

    def description(self, row: int, cells: list[str]) -> str:
        text = _description(self.get(cells, "description"), self.get(cells, "descriptionformat"))
        if text is None:
            self.problem(
                row,
                Code.DESCRIPTION_FORMAT,
                _(
                    "%(value)s is not a Moodle description format; use 1 (HTML), 0 (Moodle),"
                    " 2 (plain text) or 4 (Markdown)."
                )
                % {"value": self.get(cells, "descriptionformat").strip()},
                "descriptionformat",
            )
            return ""
        return text

    def framework_row(self, row: int, cells: list[str]) -> _FrameworkRow:
        taxonomy = [term.strip().casefold() for term in self.get(cells, "taxonomy").split(",")]
        return _FrameworkRow(
            row=row,
            id_number=_plain(self.get(cells, "idnumber")),
            shortname=_plain(self.get(cells, "shortname")),
            description=self.description(row, cells),
            scale_values=_plain(self.get(cells, "scalevalues")),
            scale_configuration=self.get(cells, "scaleconfiguration").strip(),
            taxonomy=taxonomy,
            export_id=self.get(cells, "exportid").strip(),
        )

    def competency_row(self, row: int, cells: list[str]) -> _Row:
        related_cell = _plain(self.get(cells, "relatedidnumbers"))
        related = [
            part.strip().replace("%2C", ",") for part in related_cell.split(",") if part.strip()
        ]
        return _Row(
            row=row,
            id_number=_plain(self.get(cells, "idnumber")),
            parent=_plain(self.get(cells, "parentidnumber")),
            shortname=_plain(self.get(cells, "shortname")),
            description=self.description(row, cells),
            related=related,
            scale_values=_plain(self.get(cells, "scalevalues")),
            scale_configuration=self.get(cells, "scaleconfiguration").strip(),
            export_id=self.get(cells, "exportid").strip(),
        )

    # -- scale

    def scale_items(self, row: int, values: str) -> list[str]:
        items = [item.strip() for item in values.split(",")]
        if any(not item for item in items):
            self.problem(
                row,
                Code.EMPTY_SCALE_VALUE,
                _("The scale values %(values)s include an empty one.") % {"values": values},
                "scalevalues",
            )
        return items

    def check_configuration(self, row: int, configuration: str, size: int) -> None:
        """Moodle's JSON: the scale id first, then one object per configured scale item."""
        if not configuration:
            return  # nothing EduCap would keep; Moodle itself needs it, and export writes it
        try:
            entries = json.loads(configuration)
        except (ValueError, RecursionError):
            entries = None
        if (
            not isinstance(entries, list)
            or not entries
            or not isinstance(entries[0], dict)
            or "scaleid" not in entries[0]
            or not all(isinstance(entry, dict) for entry in entries[1:])
        ):
            self.problem(
                row,
                Code.SCALE_CONFIGURATION,
                _(
                    "The scale configuration is not the JSON Moodle writes, such as"
                    ' [{"scaleid":"2"},{"id":1,"scaledefault":1,"proficient":0}].'
                ),
                "scaleconfiguration",
            )
            return
        for entry in entries[1:]:
            number = entry.get("id")
            if isinstance(number, str) and number.strip().isdigit():
                number = int(number)
            if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= size:
                self.problem(
                    row,
                    Code.UNKNOWN_SCALE_VALUE,
                    _(
                        "The scale configuration refers to scale value %(value)s, but the"
                        " scale has %(count)s values."
                    )
                    % {"value": json.dumps(number), "count": size},
                    "scaleconfiguration",
                )


def parse(data: bytes, *, language: str = "en") -> ParseResult:
    """Read a Moodle competency framework CSV. Never raises on bad input.

    `language` is the language of the file's text (Moodle files carry one and do not say
    which); every statement and description is filed under it.
    """
    text, problem = _decode(data)
    if problem is not None:
        return ParseResult(None, [problem])
    text = re.sub(r"\r\n?", "\n", text).strip()
    if not text:
        return ParseResult(None, [_problem("", Code.EMPTY, _("The file is empty."))])
    reader = _Reader()
    framework: _FrameworkRow | None = None
    rows: list[_Row] = []
    last_row = 0
    try:
        for number, cells in _rows(text, _sniff_delimiter(text)):
            last_row = number
            if number == 1:
                if not reader.read_header(cells):
                    return ParseResult(None, reader.problems)
                continue
            if not any(cell.strip() for cell in cells) or not reader.cells_ok(number, cells):
                continue
            if _truthy(reader.get(cells, "isframework")):
                if framework is not None:
                    reader.problem(
                        number,
                        Code.SEVERAL_FRAMEWORKS,
                        _(
                            "This row is marked as the framework, but row %(first)s already"
                            " is; a file holds one framework."
                        )
                        % {"first": framework.row},
                        "isframework",
                    )
                    continue
                framework = reader.framework_row(number, cells)
            else:
                rows.append(reader.competency_row(number, cells))
    except csv.Error as exc:
        reader.problem(
            last_row + 1,
            Code.MALFORMED,
            _("The CSV text cannot be read from here on (%(error)s); check the quotes.")
            % {"error": str(exc)},
        )
    if framework is None:
        if all(problem.code != Code.MALFORMED for problem in reader.problems):
            reader.problem(
                "",
                Code.NO_FRAMEWORK,
                _('No row has "Is framework" set to 1, so the file describes no framework.'),
                "isframework",
            )
        return ParseResult(None, reader.problems)
    return _build(reader, framework, rows, language)


def _check_framework(reader: _Reader, framework: _FrameworkRow) -> list[str]:
    row = framework.row
    if not framework.id_number:
        reader.problem(row, Code.REQUIRED, _("The framework has no ID number."), "idnumber")
    elif len(framework.id_number) > _CODE_MAX:
        reader.problem(
            row,
            Code.TOO_LONG,
            _("The ID number has %(length)s characters; at most %(limit)s are allowed.")
            % {"length": len(framework.id_number), "limit": _CODE_MAX},
            "idnumber",
        )
    if not framework.shortname:
        reader.problem(row, Code.REQUIRED, _("The framework has no short name."), "shortname")
    elif len(framework.shortname) > _TITLE_MAX:
        reader.problem(
            row,
            Code.TOO_LONG,
            _("The short name has %(length)s characters; at most %(limit)s are allowed.")
            % {"length": len(framework.shortname), "limit": _TITLE_MAX},
            "shortname",
        )
    if not framework.scale_values:
        reader.problem(
            row,
            Code.NO_SCALE,
            _("The framework row has no scale values (the levels, lowest first)."),
            "scalevalues",
        )
        return []
    items = reader.scale_items(row, framework.scale_values)
    reader.check_configuration(row, framework.scale_configuration, len(items))
    return items


def _check_rows(reader: _Reader, rows: list[_Row], scale_items: list[str]) -> dict[str, _Row]:
    """Rows by id number; reports missing, long, duplicate and clashing id numbers."""
    by_id_number: dict[str, _Row] = {}
    by_code: dict[str, _Row] = {}
    for entry in rows:
        row = entry.row
        if not entry.id_number:
            reader.problem(row, Code.REQUIRED, _("The competency has no ID number."), "idnumber")
        elif len(entry.id_number) > _CODE_MAX:
            reader.problem(
                row,
                Code.TOO_LONG,
                _("The ID number has %(length)s characters; at most %(limit)s are allowed.")
                % {"length": len(entry.id_number), "limit": _CODE_MAX},
                "idnumber",
            )
        elif entry.id_number in by_id_number:
            reader.problem(
                row,
                Code.DUPLICATE_ID_NUMBER,
                _("The ID number %(id_number)s is already used on row %(first)s.")
                % {"id_number": entry.id_number, "first": by_id_number[entry.id_number].row},
                "idnumber",
            )
        else:
            by_id_number[entry.id_number] = entry
            entry.code = code_for_id_number(entry.id_number)
            other = by_code.get(entry.code)
            if other is not None:
                reader.problem(
                    row,
                    Code.CODE_CLASH,
                    _(
                        "The ID numbers %(id_number)s and %(other)s (row %(first)s) both become"
                        " the code %(code)s; EduCap codes use letters, digits, dot, dash and"
                        " underscore only."
                    )
                    % {
                        "id_number": entry.id_number,
                        "other": other.id_number,
                        "first": other.row,
                        "code": entry.code,
                    },
                    "idnumber",
                )
            else:
                by_code[entry.code] = entry
        if not entry.shortname:
            reader.problem(row, Code.REQUIRED, _("The competency has no short name."), "shortname")
        elif len(entry.shortname) > _STATEMENT_MAX:
            reader.problem(
                row,
                Code.TOO_LONG,
                _("The short name has %(length)s characters; at most %(limit)s are allowed.")
                % {"length": len(entry.shortname), "limit": _STATEMENT_MAX},
                "shortname",
            )
        if entry.scale_values and scale_items:
            own = reader.scale_items(row, entry.scale_values)
            if own != scale_items:
                reader.problem(
                    row,
                    Code.OWN_SCALE,
                    _(
                        "The competency has its own scale (%(values)s); EduCap uses the"
                        " framework's scale (%(framework)s) for every competency."
                    )
                    % {"values": ",".join(own), "framework": ",".join(scale_items)},
                    "scalevalues",
                )
            else:
                reader.check_configuration(row, entry.scale_configuration, len(own))
    return by_id_number


def _check_tree(reader: _Reader, rows: list[_Row], by_id_number: dict[str, _Row]) -> None:
    for entry in rows:
        if not entry.parent or by_id_number.get(entry.id_number) is not entry:
            continue
        if entry.parent == entry.id_number:
            reader.problem(
                entry.row,
                Code.CYCLE,
                _("The competency %(id_number)s is its own parent.")
                % {"id_number": entry.id_number},
                "parentidnumber",
            )
        elif entry.parent not in by_id_number:
            reader.problem(
                entry.row,
                Code.UNKNOWN_PARENT,
                _(
                    "The parent ID number %(parent)s is not the ID number of any competency in"
                    " the file (leave it empty for a top-level competency)."
                )
                % {"parent": entry.parent},
                "parentidnumber",
            )
    # Cycles longer than one: follow parents until the top, a known-bad row, or a repeat.
    settled: set[str] = set()
    for entry in rows:
        path: list[_Row] = []
        on_path: set[str] = set()
        current: _Row | None = entry
        while current is not None and current.id_number not in settled:
            if current.id_number in on_path:
                cycle = path[path.index(current) :]
                if len(cycle) > 1:
                    reader.problem(
                        min(item.row for item in cycle),
                        Code.CYCLE,
                        _("The competencies on rows %(rows)s are each other's ancestors.")
                        % {
                            "rows": ", ".join(
                                str(item.row) for item in sorted(cycle, key=lambda item: item.row)
                            )
                        },
                        "parentidnumber",
                    )
                break
            path.append(current)
            on_path.add(current.id_number)
            parent = current.parent
            current = by_id_number.get(parent) if parent and parent != current.id_number else None
        settled.update(on_path)


def _kind(term: str, has_children: bool) -> str:
    """The kind of an item from its depth's taxonomy term, else from its place in the tree."""
    if term in ("domain", "competency"):
        return term
    return "domain" if has_children else "competency"


def _build(
    reader: _Reader, framework: _FrameworkRow, rows: list[_Row], language: str
) -> ParseResult:
    scale_items = _check_framework(reader, framework)
    by_id_number = _check_rows(reader, rows, scale_items)
    _check_tree(reader, rows, by_id_number)
    if reader.problems:
        return ParseResult(None, reader.problems)

    framework_id = framework.id_number
    top: list[_Row] = []
    for entry in rows:
        (by_id_number[entry.parent].children if entry.parent else top).append(entry)
    framework_code = code_for_id_number(framework_id)
    # EduCap's export keeps identifiers in "Exported ID" (Moodle's own are row ids: ignored).
    identifier: dict[str, str] = {}
    used: set[str] = set()
    for entry in rows:
        kept = _uuid(entry.export_id)
        if not kept or kept in used:  # a copied row: the first one keeps the identifier
            kept = _derived_identifier(framework_code, entry.code)
        identifier[entry.id_number] = kept
        used.add(kept)

    items: list[ItemRecord] = []

    def visit(siblings: list[_Row], parent: str, depth: int) -> None:
        term = framework.taxonomy[depth] if depth < len(framework.taxonomy) else ""
        for sequence, entry in enumerate(siblings, start=1):
            items.append(
                ItemRecord(
                    identifier=identifier[entry.id_number],
                    code=entry.code,
                    kind=_kind(term, bool(entry.children)),
                    statement={language: entry.shortname},
                    parent=identifier[parent] if parent else "",
                    sequence=sequence,
                    description={language: entry.description} if entry.description else {},
                )
            )
            visit(entry.children, entry.id_number, depth + 1)

    visit(top, "", 0)

    relations: list[RelationRecord] = []
    pairs: set[frozenset[str]] = set()
    external: set[tuple[str, str]] = set()
    for entry in rows:
        source = identifier[entry.id_number]
        for target_id_number in entry.related:
            if target_id_number == entry.id_number:
                continue
            if target_id_number in identifier:
                target = identifier[target_id_number]
                # Moodle's relation has no direction and is listed on both rows: keep it once.
                pair = frozenset((source, target))
                if pair in pairs:
                    continue
                pairs.add(pair)
            else:  # not in the file: Moodle ignores it, EduCap keeps it as an external target
                target = target_id_number
                if (source, target) in external:
                    continue
                external.add((source, target))
            relations.append(RelationRecord(source=source, kind="isRelatedTo", target=target))

    digest = hashlib.sha256("\n".join(scale_items).encode()).hexdigest()[:10]
    scale = ScaleRecord(
        code=f"moodle-{digest}",
        name={language: ", ".join(scale_items)},
        levels=[
            LevelRecord(code=str(value), value=value, name={language: name})
            for value, name in enumerate(scale_items)
        ],
    )
    record = FrameworkRecord(
        code=framework_code,
        title={language: framework.shortname},
        identifier=_uuid(framework.export_id) or _derived_identifier(framework_code),
        language=language,
        description={language: framework.description} if framework.description else {},
        scale=scale,
        items=items,
        relations=relations,
    )
    return ParseResult(record, [])


# ----------------------------------------------------------------------------- writing


def _pick(texts: Texts, language: str) -> str:
    """The text in `language`, else English, else any language the record has."""
    for candidate in (language, "en"):
        if texts.get(candidate):
            return texts[candidate]
    return next((text for text in texts.values() if text), "")


def _php_csv_line(cells: list[str]) -> str:
    """One line as PHP's fputcsv writes it, which is what Moodle's exporter uses.

    Quoted when a cell holds the delimiter, a quote, a line break, a tab or a space; quotes
    are doubled. (PHP also quotes cells with a backslash, which its own reader then misreads
    when the backslash ends the cell; leaving those unquoted reads the same everywhere.)
    """
    out = []
    for cell in cells:
        if any(char in cell for char in ',"\n\r\t '):
            out.append('"' + cell.replace('"', '""') + '"')
        else:
            out.append(cell)
    return ",".join(out) + "\n"


def _ordered_items(record: FrameworkRecord) -> list[tuple[ItemRecord, int, bool]]:
    """(item, depth from 0, has children) parents first, siblings by sequence."""
    known = {item.identifier for item in record.items}
    children: dict[str, list[tuple[int, ItemRecord]]] = {}
    for position, item in enumerate(record.items):
        parent = item.parent if item.parent in known and item.parent != item.identifier else ""
        children.setdefault(parent, []).append((position, item))
    ordered: list[tuple[ItemRecord, int, bool]] = []
    done: set[str] = set()

    def visit(parent: str, depth: int) -> None:
        for _position, item in sorted(
            children.get(parent, []), key=lambda pair: (pair[1].sequence, pair[0])
        ):
            if item.identifier in done:
                continue
            done.add(item.identifier)
            ordered.append((item, depth, bool(children.get(item.identifier))))
            visit(item.identifier, depth + 1)

    visit("", 0)
    return ordered


def _level_names(record: FrameworkRecord) -> list[str]:
    if record.scale is None or not record.scale.levels:
        return list(_DEFAULT_LEVEL_NAMES)
    levels = sorted(record.scale.levels, key=lambda level: level.value)
    return [
        _pick(level.name, record.language).replace(",", "\u201a").strip() or level.code
        for level in levels
    ]


def _scale_configuration(size: int) -> str:
    proficient_from = min(size - size // 2, size - 1)
    entries: list[dict[str, object]] = [{"scaleid": "0"}]
    entries += [
        {
            "id": index + 1,
            "scaledefault": int(index == 0),
            "proficient": int(index >= proficient_from),
        }
        for index in range(size)
    ]
    return json.dumps(entries, separators=(",", ":"))


def _taxonomy(ordered: list[tuple[ItemRecord, int, bool]]) -> str:
    """One term per depth that `_kind` turns back into the items' kinds where it can."""
    depths: dict[int, list[tuple[str, bool]]] = {}
    for item, depth, has_children in ordered:
        depths.setdefault(depth, []).append((item.kind, has_children))
    if not depths:
        return "competency"
    terms = []
    for depth in range(max(depths) + 1):
        kinds = {kind for kind, _children in depths.get(depth, [])}
        if len(kinds) == 1:
            terms.append(kinds.pop())
        elif all(_kind(_STRUCTURAL_TERM, children) == kind for kind, children in depths[depth]):
            terms.append(_STRUCTURAL_TERM)
        else:  # cannot be carried; export_losses says which items change
            terms.append("competency")
    return ",".join(terms)


def serialise(record: FrameworkRecord) -> bytes:
    """The framework as Moodle's import tool reads it (UTF-8, comma, LF line ends)."""
    language = record.language
    ordered = _ordered_items(record)
    code_of = {item.identifier: item.code for item in record.items}
    names = _level_names(record)

    related: dict[str, list[str]] = {item.identifier: [] for item in record.items}
    for relation in record.relations:
        if relation.kind != "isRelatedTo" or relation.source not in related:
            continue
        target_code = code_of.get(relation.target)
        if target_code is not None:
            if relation.target == relation.source:
                continue
            # Moodle keeps related competencies symmetric and lists them on both rows.
            pairs = [(relation.source, target_code), (relation.target, code_of[relation.source])]
        else:
            pairs = [(relation.source, relation.target)]
        for source, target in pairs:
            if target and target not in related[source]:
                related[source].append(target)

    lines = [_php_csv_line(list(HEADERS))]
    lines.append(
        _php_csv_line(
            [
                "",
                protect_cell(record.code),
                protect_cell(_pick(record.title, language)),
                text_to_html(_pick(record.description, language)),
                str(FORMAT_HTML),
                protect_cell(",".join(names)),
                _scale_configuration(len(names)),
                "",
                "",
                "",
                "",
                _uuid(record.identifier),
                "1",
                _taxonomy(ordered),
            ]
        )
    )
    for item, _depth, _children in ordered:
        parent_code = code_of.get(item.parent, "") if item.parent != item.identifier else ""
        lines.append(
            _php_csv_line(
                [
                    protect_cell(parent_code),
                    protect_cell(item.code),
                    protect_cell(_pick(item.statement, language)),
                    text_to_html(_pick(item.description, language)),
                    str(FORMAT_HTML),
                    "",
                    "",
                    "",
                    "0",
                    "null",
                    protect_cell(
                        ",".join(target.replace(",", "%2C") for target in related[item.identifier])
                    ),
                    _uuid(item.identifier),
                    "",
                    "",
                ]
            )
        )
    return "".join(lines).encode("utf-8")


def export_losses(record: FrameworkRecord) -> list[Problem]:
    """What a Moodle CSV of `record` leaves out or changes: one problem per kind of loss."""
    losses: list[Problem] = []
    language = record.language

    def lost(message: str, location: str = "") -> None:
        losses.append(Problem(location=location, code=Code.NOT_CARRIED, message=message))

    texts: list[Texts] = [record.title, record.description]
    for item in record.items:
        texts += [item.statement, item.description]
    if record.scale is not None:
        texts += [level.name for level in record.scale.levels]
    other = sorted({lang for texts_ in texts for lang, text in texts_.items() if text} - {language})
    if other:
        lost(
            _("Moodle holds one language (%(language)s); the text in %(languages)s is left out.")
            % {"language": language, "languages": ", ".join(other)}
        )
    if any(item.indicators for item in record.items):
        lost(_("Moodle has no per-level indicators; they are left out."))
    if record.scale is not None and any(level.descriptor for level in record.scale.levels):
        lost(_("Moodle scales have no level descriptors; they are left out."))
    if record.scale is not None:
        levels = sorted(record.scale.levels, key=lambda level: level.value)
        if any(
            level.value != index or level.code != str(index) for index, level in enumerate(levels)
        ):
            lost(
                _("Moodle numbers levels from the lowest; level codes and values become 0, 1, 2...")
            )
        if any("," in _pick(level.name, language) for level in levels):
            lost(
                _("Moodle separates scale values with commas; commas in level names are replaced.")
            )
    if any(item.keywords for item in record.items):
        lost(_("Moodle competencies have no keywords; they are left out."))
    if record.profiles:
        lost(_("Moodle frameworks have no role profiles; they are left out."))
    other_kinds = sorted({relation.kind for relation in record.relations} - {"isRelatedTo"})
    if other_kinds:
        lost(
            _("Moodle only knows related competencies; %(kinds)s relations are left out.")
            % {"kinds": ", ".join(other_kinds)}
        )
    if record.version not in ("", "1.0") or record.licence or record.source or record.publisher:
        lost(_("Moodle has no version, licence, source or publisher; they are left out."))
    ordered = _ordered_items(record)
    taxonomy = _taxonomy(ordered).split(",")
    for item, depth, has_children in ordered:
        statement = _pick(item.statement, language)
        if len(statement) > _MOODLE_SHORTNAME_MAX:
            lost(
                _("Moodle shortens short names to %(limit)s characters.")
                % {"limit": _MOODLE_SHORTNAME_MAX},
                item.code,
            )
        if _kind(taxonomy[depth], has_children) != item.kind:
            lost(
                _(
                    "Moodle's taxonomy names one kind per depth; this %(kind)s comes back as"
                    " a %(other)s."
                )
                % {"kind": item.kind, "other": _kind(taxonomy[depth], has_children)},
                item.code,
            )
    return losses
