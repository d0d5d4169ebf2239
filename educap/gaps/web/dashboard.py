"""The unit dashboard's content, shared by the page and its exports (CSV, XLSX, PDF).

Everything comes from the gap selectors; this module only decides how a number is shown:
which measure, which colour class from the fixed heat scale, and "<5" for suppressed cells.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from html import escape
from typing import TYPE_CHECKING

from django.conf import settings
from django.template.defaultfilters import floatformat
from django.utils import numberformat
from django.utils.formats import get_format, number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from educap.gaps import selectors
from educap.gaps.selectors import (
    CalibrationTable,
    GapFilters,
    GapStats,
    Need,
    RecruitmentNeed,
    UnitMatrix,
)
from educap.org.models import OrgUnit
from educap.people.models import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from educap.accounts.models import User
    from educap.frameworks.models import FrameworkItem

HEAT_STEPS = 10
# Mean gaps of this many levels or more take the darkest colour.
GAP_AT_DARKEST = 2.0
# Weighted gap indexes of this share or more take the darkest colour.
INDEX_AT_DARKEST = 0.5
# Role x sex pairs of a training need shown before the rest are folded away.
SPLIT_SHOWN = 4
# Self ratings this far above the supervisor's (in levels) are highlighted.
SELF_RUNS_HIGH = 0.5


def measure_value(stats: GapStats, measure: str) -> float | None:
    if measure == "gap":
        return stats.mean_gap
    if measure == "index":
        return stats.weighted_gap_index
    return stats.share_meeting


def heat_step(value: float, measure: str) -> int:
    """0 (all well) … 10 (worst) on the fixed scale whatever the measure."""
    if measure == "gap":
        badness = value / GAP_AT_DARKEST
    elif measure == "index":
        badness = value / INDEX_AT_DARKEST
    else:
        badness = 1 - value
    return max(0, min(HEAT_STEPS, round(badness * HEAT_STEPS)))


def grouping_formatter() -> Callable[[int], str]:
    """`number_format(n, force_grouping=True)` in the active locale, its separators read
    once (a TNA's split formats a few hundred numbers)."""
    decimal = get_format("DECIMAL_SEPARATOR")
    grouping = get_format("NUMBER_GROUPING")
    thousands = get_format("THOUSAND_SEPARATOR")

    def grouped(number: int) -> str:
        return numberformat.format(
            number, decimal, grouping=grouping, thousand_sep=thousands, force_grouping=True
        )

    return grouped


# A heat-map cell's tooltip after the competency (gettext_noop: translated when shown).
DETAIL = gettext_noop("%(meeting)s of %(assessed)s assessed meet it; %(unknown)s not assessed")


@dataclass(frozen=True)
class HeatCell:
    stats: GapStats
    measure: str
    item: FrameworkItem | None = None
    # "code statement", the same for a whole column: built once per page, not per cell.
    label: str = ""

    @property
    def text(self) -> str:
        """What the cell shows: "<5" when suppressed, a dash without anyone assessed, else
        the measure (a percentage, or a mean gap with one decimal in the reader's locale)."""
        return self._look()[1]

    @property
    def css(self) -> str:
        return self._look()[0]

    def _look(self) -> tuple[str, str]:
        """(css, text), the measure computed once: a page shows a thousand cells."""
        if self.stats.suppressed:
            return "heat-suppressed", f"<{settings.EDUCAP_SMALL_CELL_THRESHOLD}"
        value = measure_value(self.stats, self.measure)
        if value is None:
            return "heat-none", "–"
        css = f"heat-{heat_step(value, self.measure)}"
        if self.is_percent:
            return css, f"{round(value * 100)}%"
        return css, str(number_format(round(value, 1), 1))

    @property
    def title(self) -> str:
        """The cell's tooltip: the competency and, when shown, who meets it."""
        return self._title(_(DETAIL))

    def _title(self, detail: str) -> str:
        stats = self.stats
        if stats.suppressed or not stats.in_scope:
            return self.label
        counts = {"meeting": stats.meeting, "assessed": stats.assessed, "unknown": stats.unknown}
        return f"{self.label} — {detail % counts}"

    def parts(self, detail: str) -> tuple[str, str, str]:
        """(css, title, text) at once, `detail` being the translated `DETAIL`: what a page
        of a thousand cells asks for, without looking the translation up each time."""
        css, text = self._look()
        return css, self._title(detail), text

    @property
    def value(self) -> float | None:
        if self.stats.suppressed:
            return None
        return measure_value(self.stats, self.measure)

    @property
    def is_percent(self) -> bool:
        return self.measure in ("share", "index")

    @property
    def percent(self) -> int | None:
        value = self.value
        return None if value is None else round(value * 100)


@dataclass(frozen=True)
class HeatRow:
    unit: OrgUnit
    overall: HeatCell
    cells: list[HeatCell]
    is_total: bool = False

    @property
    def cells_html(self) -> str:
        """The row's competency cells as HTML, built here in one pass: a thousand cells
        through the template engine cost a national page about 30 ms, and through
        `format_html` still about 15. Every value is escaped with the standard library's
        `html.escape` (quotes included), which is what makes the string safe."""
        detail = _(DETAIL)
        cells = []
        for cell in self.cells:
            css, title, text = cell.parts(detail)
            cells.append(
                f'<td class="heat-cell {escape(css)}" title="{escape(title)}">{escape(text)}</td>'
            )
        return mark_safe("".join(cells))  # noqa: S308 - each value escaped above


@dataclass(frozen=True)
class DomainGroup:
    domain: FrameworkItem | None
    competencies: list[FrameworkItem]


@dataclass
class Dashboard:
    unit: OrgUnit
    filters: GapFilters
    measure: str
    matrix: UnitMatrix
    people: int
    needs: list[Need]
    recruitment: list[RecruitmentNeed]
    calibration: CalibrationTable
    roles: dict[int, Role]
    threshold: int

    @property
    def suppressed(self) -> bool:
        return self.matrix.suppressed

    @property
    def schools_unsplit(self) -> bool:
        """A past period with a role or sex filter: units without child units kept no such
        split, so they show no figures (see selectors.subtree_rows)."""
        return self.filters.snapshot is not None and self.filters.splits

    @property
    def people_hidden(self) -> bool:
        """A partner viewer looking at a subtree of fewer people than the threshold."""
        return self.suppressed and 0 < self.people < self.threshold

    @property
    def total(self) -> GapStats:
        return self.matrix.total

    @property
    def competencies(self) -> list[FrameworkItem]:
        return self.matrix.competencies

    @property
    def domains(self) -> list[DomainGroup]:
        groups: list[DomainGroup] = []
        for item in self.matrix.competencies:
            if groups and groups[-1].domain == item.parent:
                groups[-1].competencies.append(item)
            else:
                groups.append(DomainGroup(item.parent, [item]))
        return groups

    def _overall(self, total: GapStats, cells: dict[int, GapStats]) -> GapStats:
        """A unit's total over all competencies, hidden from partner viewers when it may
        count fewer people than the threshold.

        `in_scope` of a total adds people x competencies, so it cannot be compared with the
        threshold; each competency's `in_scope` counts people, and a unit has at least as
        many people as its largest competency: below the threshold there, it is hidden."""
        if not self.suppressed:
            return total
        people = max((c.in_scope for c in cells.values()), default=0)
        if 0 < people < self.threshold:
            hidden = GapStats(**{**vars(total), "suppressed": True})
            return hidden
        return total

    def _row(
        self, unit: OrgUnit, total: GapStats, cells: dict[int, GapStats], labels: list[str]
    ) -> HeatRow:
        return HeatRow(
            unit,
            HeatCell(self._overall(total, cells), self.measure),
            [
                HeatCell(cells.get(i.pk) or GapStats(), self.measure, i, label)
                for i, label in zip(self.competencies, labels, strict=True)
            ],
        )

    @cached_property
    def heat_rows(self) -> list[HeatRow]:
        """The unit's own total first, then one row per child unit with staff in scope."""
        labels = [f"{i.code} {i.statement}" for i in self.competencies]
        total = self._row(self.unit, self.matrix.total, self.matrix.columns, labels)
        rows = [HeatRow(total.unit, total.overall, total.cells, is_total=True)]
        rows += [
            self._row(child, stats, cells, labels) for child, stats, cells in self.matrix.children
        ]
        return rows

    @property
    def role_sex_columns(self) -> list[tuple[int, str]]:
        """(role, sex) pairs that appear in the TNA's breakdowns, in a stable order."""
        pairs = {pair for need in self.needs for pair in need.below_by_role_sex}

        def name(role_id: int) -> str:
            role = self.roles.get(role_id)
            return str(role.name) if role else ""

        return sorted(pairs, key=lambda p: (name(p[0]), p[1]))

    @property
    def recruitment_rows(self) -> list[tuple[RecruitmentNeed, int | None]]:
        """Each need with its staff in post, None when a partner viewer may not see it."""
        return [
            (need, None if self.suppressed and 0 < need.in_post < self.threshold else need.in_post)
            for need in self.recruitment
        ]

    @property
    def tna_rows(self) -> list[tuple[Need, list[tuple[Role | None, str, int]]]]:
        """Each training need with its people below by role and sex, largest first."""
        return [
            (
                need,
                sorted(
                    (
                        (self.roles.get(role_id), sex, n)
                        for (role_id, sex), n in need.below_by_role_sex.items()
                    ),
                    key=lambda entry: -entry[2],
                ),
            )
            for need in self.needs
        ]

    @property
    def tna_page_rows(self) -> list[tuple[Need, str]]:
        """Each training need with its people below by role and sex as HTML: the first
        few, the rest folded in a <details>. Built here: ten needs of up to a few dozen
        role x sex pairs each cost the template engine a quarter of a national page."""
        sexes = {"F": escape(_("women")), "M": escape(_("men"))}
        # Looked up once per page: a translated name costs a lookup per access, and
        # number_format the locale's separators per call.
        shown = {role_id for need in self.needs for role_id, _sex in need.below_by_role_sex}
        names = {pk: escape(str(role.name)) for pk, role in self.roles.items() if pk in shown}
        grouped = grouping_formatter()
        rows = []
        for need, split in self.tna_rows:
            entries = [
                '<span class="text-nowrap"><span dir="auto">{}</span>, {}: {}</span>'.format(
                    names.get(role.pk, "") if role else "",
                    sexes.get(sex, ""),
                    escape(grouped(n)),
                )
                for role, sex, n in split
            ]
            html = "<br>".join(entries[:SPLIT_SHOWN]) or '<span class="text-muted">–</span>'
            if len(entries) > SPLIT_SHOWN:
                more = len(entries) - SPLIT_SHOWN
                summary = ngettext("%(count)s more", "%(count)s more", more) % {"count": more}
                folded = "<br>".join(entries[SPLIT_SHOWN:])
                html += f"<details><summary>{escape(summary)}</summary>{folded}</details>"
            rows.append((need, mark_safe(html)))  # noqa: S308 - each value escaped above
        return rows

    @property
    def calibration_rows(self) -> list[tuple[OrgUnit, bool, SafeString]]:
        """The unit's total, then each child unit, with its cells as HTML: per top
        competency the mean of self minus supervisor, marked where self ratings run high.
        Built here in one pass, as the heat map's cells are."""
        units = [(self.unit, True, self.matrix.columns)]
        units += [(child, False, cells) for child, cells in self.calibration.rows]
        suppressed = f"&lt;{self.threshold}"
        runs_high = escape(_("self runs high"))
        high_note = f'<span class="visually-hidden"> ({runs_high})</span>'
        rows = []
        for unit, is_total, cells in units:
            out = []
            for item in self.calibration.competencies:
                stats = cells.get(item.pk) or GapStats()
                diff = None if stats.suppressed else stats.mean_self_minus_supervisor
                high = diff is not None and diff >= SELF_RUNS_HIGH
                if stats.suppressed:
                    text = suppressed
                elif diff is None:
                    text = "–"
                else:
                    sign = "+" if diff > 0 else ""
                    text = f"{sign}{escape(str(floatformat(diff, 1)))}"
                    if high:
                        text = f'<span aria-hidden="true">▲</span> {text}{high_note}'
                css = "text-center calib-high" if high else "text-center"
                out.append(f'<td class="{css}" dir="ltr">{text}</td>')
            rows.append((unit, is_total, mark_safe("".join(out))))  # noqa: S308 - escaped above
        return rows


def dashboard_read(
    *,
    user: User | AnonymousUser,
    unit: OrgUnit,
    filters: GapFilters,
    measure: str,
    children_page: tuple[int, int] | None = None,
) -> Dashboard:
    """Every number of a unit dashboard, in a fixed number of queries; with
    `children_page` = (offset, limit) only that page of child units (the page), else all
    of them (the exports)."""
    matrix = selectors.unit_matrix(
        user=user, unit=unit, filters=filters, children_page=children_page
    )
    # One read of the subtree by role and sex for the TNA and the headcount; the
    # competencies of the heat map and every role (a few dozen) for the TNA and the
    # recruitment needs.
    by_role_sex = selectors.subtree_by_role_sex(user=user, unit=unit, filters=filters)
    items = {item.pk: item for item in matrix.competencies}
    roles = Role.objects.in_bulk()
    needs = selectors.training_needs(
        user=user, unit=unit, filters=filters, rows=by_role_sex, items=items
    )
    return Dashboard(
        unit=unit,
        filters=filters,
        measure=measure,
        matrix=matrix,
        people=selectors.unit_headcount(user=user, unit=unit, filters=filters, rows=by_role_sex),
        needs=needs,
        # On a page, the units it shows: the unit and its page of child units.
        recruitment=selectors.recruitment_needs(
            user=user,
            unit=unit,
            filters=filters,
            children=matrix.child_units if children_page else None,
            items=items,
            roles=roles,
        ),
        calibration=selectors.calibration_table(matrix=matrix),
        roles=roles,
        threshold=settings.EDUCAP_SMALL_CELL_THRESHOLD,
    )
