"""Analytics dashboards: every table is a region's figures (the `total` row) and one row per
child region (drill down by following a row's `region_code`), or per month / fund source for
the tables that are not about regions. Figures come from the precomputed RegionStats nodes
(refreshed by the chunked `bangfu.stats.nightly` job; each table says how fresh in
`computed_at`), projects are summed live from the Project nodes.

Scope: an official or field worker sees their own region and below; admins and auditors the
whole province (api/policy.py, READ_ANALYTICS). A region outside the caller's scope is 404, as
for every record. Labels are Chinese by default and English with `lang=en`.

Public, stable for the dashboard pages: `AnalyticsService.catalogue`, `.table`, `.export`.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bangfu.errors import NotFoundError
from bangfu.vocabulary import (
    Employment,
    LabourAbility,
    MonitorType,
    NeedCategory,
    NeedStatus,
    PovertyCause,
    ProjectStage,
    RegionLevel,
    label_zh,
)
from graph.ingest.export import csv_lines, write_xlsx
from graph.models import ProjectGroup, RegionFigures
from graph.repositories.analytics import AnalyticsRepository
from graph.synthetic.scales import BIG_COUNTY_PERSONS, BIG_TOWN_PERSONS
from matching.needs import Caller

Cell = str | int | float | None
Figures = dict[str, int]
Row = dict[str, Cell]


class TableName(StrEnum):
    HEADLINE = "headline"  # the seed document's figures: regions per level, big counties ...
    HOUSEHOLDS = "households"  # households and people by status
    CAUSES = "causes"  # main cause of poverty
    INCOME = "income"  # income and its sources
    SPENDING = "spending"  # medical and education spending
    EMPLOYMENT = "employment"  # members by employment and labour ability
    NEEDS = "needs"  # needs by status, claims
    NEED_CATEGORIES = "need_categories"
    FULFILMENT = "fulfilment"  # time from publication to fulfilment
    EXITS = "exits"  # exits by year and returns
    VILLAGES = "villages"  # infrastructure (collective economy: no data)
    PROJECTS = "projects"  # projects by stage and their funds
    PROJECT_FUNDS = "project_funds"  # rows: fund sources
    MONTHLY = "monthly"  # rows: months


class Language(StrEnum):
    ZH = "zh"
    EN = "en"


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"

    @property
    def media_type(self) -> str:
        if self is ExportFormat.CSV:
            return "text/csv; charset=utf-8"
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RowsAre(StrEnum):
    CHILDREN = "children"  # one row per child region: drill down by region_code
    FUND_SOURCES = "fund_sources"
    MONTHS = "months"


class Column(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    label: str
    unit: str | None = None


class AnalyticsTable(BaseModel):
    """A dashboard table: `total` is the region's own row, `rows` its children (or months, or
    fund sources, see `rows_are`); every row carries region_code and region_name."""

    table: TableName
    title: str
    language: Language
    region_code: str
    region_name: str
    level: RegionLevel
    rows_are: RowsAre
    child_level: RegionLevel | None
    columns: list[Column]
    total: Row
    rows: list[Row]
    # The oldest village figure any row rests on (projects: the time of the query).
    computed_at: datetime | None
    notes: list[str]


class TableInfo(BaseModel):
    table: TableName
    title: str
    rows_are: RowsAre


@dataclass(frozen=True)
class ExportFile:
    filename: str
    media_type: str
    content: bytes

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Disposition": f'attachment; filename="{self.filename}"'}


# --- labels -------------------------------------------------------------------------------------

_EN = {
    "region_code": "Region code",
    "region_name": "Region",
    "households": "Households",
    "people": "People",
    "villages": "Villages",
}
_ZH = {"region_code": "区划代码", "region_name": "地区", "households": "户数", "people": "人数"}
_ZH["villages"] = "村数"

_STATUS_ZH = {"poor": "未脱贫", "exited": "已脱贫", "monitored": "监测对象"}
_NEED_STATUS_ZH = {
    "pending_review": "待审核",
    "open": "待认领",
    "claimed": "已认领",
    "in_progress": "帮扶中",
    "fulfilled": "已完成",
    "confirmed": "已确认",
    "closed": "已关闭",
    "cancelled": "已取消",
    "expired": "已过期",
}
_EMPLOYMENT_ZH = {
    "farming": "务农",
    "local_wage": "本地务工",
    "migrant": "外出务工",
    "self_employed": "自主经营",
    "public_welfare_job": "公益岗位",
    "student": "在校生",
    "none": "无业",
}
_LABOUR_ZH = {
    "normal": "普通劳动力",
    "skilled": "技能劳动力",
    "weak": "弱劳动力",
    "none": "无劳动力",
}
_STAGE_ZH = {
    "proposed": "立项申报",
    "approved": "已批准",
    "implementation": "实施中",
    "operation": "运营中",
    "completed": "已完成",
    "rejected": "未批准",
}
_INCOME_ZH = {
    "wage": "工资性收入",
    "farm": "生产经营性收入(农业)",
    "business": "生产经营性收入(非农)",
    "transfer": "转移性收入",
    "property": "财产性收入",
}
_INCOME_EN = {
    "wage": "Wages",
    "farm": "Farming",
    "business": "Business",
    "transfer": "Transfers",
    "property": "Property",
}


def _words(value: str) -> str:
    return value.replace("_", " ").capitalize()


# --- table definitions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """One column: its key, both labels, the unit and how its value comes from the figures."""

    key: str
    zh: str
    en: str
    value: Callable[[Figures], Cell]
    unit: str | None = None


def _get(key: str) -> Callable[[Figures], Cell]:
    return lambda f: f.get(key, 0)


def _pct(
    part: Callable[[Figures], Cell], whole: Callable[[Figures], Cell]
) -> Callable[[Figures], Cell]:
    def value(f: Figures) -> Cell:
        p, w = part(f), whole(f)
        if not isinstance(p, int | float) or not isinstance(w, int | float) or not w:
            return None
        return round(100.0 * p / w, 2)

    return value


def _ratio(
    part: Callable[[Figures], Cell], whole: Callable[[Figures], Cell], digits: int = 0
) -> Callable[[Figures], Cell]:
    def value(f: Figures) -> Cell:
        p, w = part(f), whole(f)
        if not isinstance(p, int | float) or not isinstance(w, int | float) or not w:
            return None
        return round(p / w, digits) if digits else round(p / w)

    return value


def _const(value: Cell) -> Callable[[Figures], Cell]:
    return lambda f: value


def _sum(*keys: str) -> Callable[[Figures], Cell]:
    return lambda f: sum(f.get(k, 0) for k in keys)


INCOME_SOURCES = ("wage", "farm", "business", "transfer", "property")
_INCOME_TOTAL = _sum(*(f"income:{s}" for s in INCOME_SOURCES))
# The seed document's top five main causes; the rest is "other" (11.2% in the seed).
SEED_TOP_CAUSES = (
    PovertyCause.ILLNESS,
    PovertyCause.LACK_OF_LABOUR,
    PovertyCause.DISABILITY,
    PovertyCause.SCHOOLING,
    PovertyCause.LACK_OF_FUNDS,
)
_OTHER_CAUSES = tuple(f"cause:{c.value}" for c in PovertyCause if c not in SEED_TOP_CAUSES)
_HH = _get("households")


def _household_specs() -> list[Spec]:
    specs = [
        Spec("households", "户数", "Households", _get("households"), "户"),
        Spec("people", "人数", "People", _get("people"), "人"),
    ]
    for status in ("poor", "exited", "monitored"):
        zh = _STATUS_ZH[status]
        specs.append(
            Spec(
                f"households_{status}",
                f"{zh}户数",
                f"{status.capitalize()} households",
                _get(f"households:{status}"),
                "户",
            )
        )
        specs.append(
            Spec(
                f"people_{status}",
                f"{zh}人数",
                f"{status.capitalize()} people",
                _get(f"people:{status}"),
                "人",
            )
        )
    for kind in MonitorType:
        specs.append(
            Spec(
                f"monitored_{kind.value}",
                label_zh(kind.value),
                _words(kind.value),
                _get(f"monitored:{kind.value}"),
                "户",
            )
        )
    return specs


def _cause_share(cause: PovertyCause) -> Spec:
    return Spec(
        f"cause_{cause.value}_pct",
        f"{label_zh(cause.value)}占比",
        f"{_words(cause.value)} %",
        _pct(_get(f"cause:{cause.value}"), _HH),
        "%",
    )


def _other_causes_share() -> Spec:
    return Spec(
        "cause_other_pct", "其他原因占比", "Other causes %", _pct(_sum(*_OTHER_CAUSES), _HH), "%"
    )


def _cause_specs() -> list[Spec]:
    specs = [Spec("households", "户数", "Households", _HH, "户")]
    for cause in PovertyCause:
        key = f"cause:{cause.value}"
        specs.append(
            Spec(
                f"cause_{cause.value}", label_zh(cause.value), _words(cause.value), _get(key), "户"
            )
        )
        specs.append(_cause_share(cause))
    specs.append(
        Spec(
            "cause_top5_pct",
            "前五位原因合计占比",
            "Top five causes %",
            _pct(_sum(*(f"cause:{c.value}" for c in SEED_TOP_CAUSES)), _HH),
            "%",
        )
    )
    specs.append(_other_causes_share())
    return specs


def _income_specs() -> list[Spec]:
    specs = [
        Spec("households", "户数", "Households", _HH, "户"),
        Spec("people", "人数", "People", _get("people"), "人"),
        Spec("income_total", "年收入合计", "Income, total", _INCOME_TOTAL, "元"),
        Spec(
            "income_per_capita",
            "人均年收入",
            "Income per person",
            _ratio(_INCOME_TOTAL, _get("people")),
            "元",
        ),
    ]
    for s in INCOME_SOURCES:
        specs.append(Spec(f"income_{s}", _INCOME_ZH[s], _INCOME_EN[s], _get(f"income:{s}"), "元"))
        specs.append(
            Spec(
                f"income_{s}_pct",
                f"{_INCOME_ZH[s]}占比",
                f"{_INCOME_EN[s]} %",
                _pct(_get(f"income:{s}"), _INCOME_TOTAL),
                "%",
            )
        )
    specs.append(
        Spec(
            "below_line",
            "人均收入低于监测线户数",
            "Households below the monitoring line",
            _get("below_line"),
            "户",
        )
    )
    specs.append(
        Spec(
            "below_line_pct",
            "低于监测线占比",
            "Below the line %",
            _pct(_get("below_line"), _HH),
            "%",
        )
    )
    return specs


def _spending_specs() -> list[Spec]:
    return [
        Spec("households", "户数", "Households", _HH, "户"),
        Spec("spend_medical", "医疗支出", "Medical spending", _get("spend_medical"), "元"),
        Spec(
            "spend_medical_per_household",
            "户均医疗支出",
            "Medical per household",
            _ratio(_get("spend_medical"), _HH),
            "元",
        ),
        Spec("spend_education", "教育支出", "Education spending", _get("spend_education"), "元"),
        Spec(
            "spend_education_per_household",
            "户均教育支出",
            "Education per household",
            _ratio(_get("spend_education"), _HH),
            "元",
        ),
        Spec(
            "spend_to_income_pct",
            "医疗教育支出占收入比",
            "Medical + education / income %",
            _pct(_sum("spend_medical", "spend_education"), _INCOME_TOTAL),
            "%",
        ),
    ]


def _employment_specs() -> list[Spec]:
    specs = [Spec("persons", "家庭成员数", "Members", _get("persons"), "人")]
    for e in Employment:
        specs.append(
            Spec(
                f"employment_{e.value}",
                _EMPLOYMENT_ZH[e.value],
                _words(e.value),
                _get(f"employment:{e.value}"),
                "人",
            )
        )
    working = _sum(
        *(
            f"employment:{e}"
            for e in ("local_wage", "migrant", "self_employed", "public_welfare_job")
        )
    )
    specs.append(
        Spec(
            "employed",
            "务工与经营人数",
            "In work (wage, migrant, business, welfare job)",
            working,
            "人",
        )
    )
    for a in LabourAbility:
        specs.append(
            Spec(
                f"labour_{a.value}",
                _LABOUR_ZH[a.value],
                f"Labour: {a.value}",
                _get(f"labour:{a.value}"),
                "人",
            )
        )
    able = _sum("labour:normal", "labour:skilled", "labour:weak")
    specs.append(
        Spec(
            "employed_of_labour_pct",
            "劳动力务工经营率",
            "In work / labour force %",
            _pct(working, able),
            "%",
        )
    )
    return specs


def _need_specs() -> list[Spec]:
    specs = [Spec("needs", "需求数", "Needs", _get("needs"), "条")]
    for s in NeedStatus:
        specs.append(
            Spec(
                f"needs_{s.value}",
                _NEED_STATUS_ZH[s.value],
                _words(s.value),
                _get(f"needs:{s.value}"),
                "条",
            )
        )
    specs.append(Spec("claimed_ever", "已被认领过", "Claimed (ever)", _get("needs_claimed"), "条"))
    specs.append(
        Spec("claimed_pct", "认领率", "Claimed %", _pct(_get("needs_claimed"), _get("needs")), "%")
    )
    specs.append(Spec("needs_amount", "需求金额合计", "Amount asked", _get("needs_amount"), "元"))
    return specs


def _need_category_specs() -> list[Spec]:
    specs = [Spec("needs", "需求数", "Needs", _get("needs"), "条")]
    for c in NeedCategory:
        specs.append(
            Spec(
                f"category_{c.value}",
                label_zh(c.value),
                _words(c.value),
                _get(f"need_category:{c.value}"),
                "条",
            )
        )
    return specs


def _fulfilment_specs() -> list[Spec]:
    return [
        Spec("needs", "需求数", "Needs", _get("needs"), "条"),
        Spec("claimed_ever", "已被认领过", "Claimed (ever)", _get("needs_claimed"), "条"),
        Spec("fulfilled", "已完成帮扶", "Fulfilled", _get("fulfilled"), "条"),
        Spec("fulfilled_pct", "完成率", "Fulfilled %", _pct(_get("fulfilled"), _get("needs")), "%"),
        Spec(
            "fulfil_days_mean",
            "平均完成天数",
            "Mean days to fulfil",
            _ratio(_get("fulfil_days"), _get("fulfilled"), 1),
            "天",
        ),
        Spec("fulfil_le7", "7天内", "Within 7 days", _get("fulfil_le7"), "条"),
        Spec("fulfil_le30", "8-30天", "8-30 days", _get("fulfil_le30"), "条"),
        Spec("fulfil_le90", "31-90天", "31-90 days", _get("fulfil_le90"), "条"),
        Spec("fulfil_gt90", "90天以上", "Over 90 days", _get("fulfil_gt90"), "条"),
    ]


def _village_specs() -> list[Spec]:
    return [
        Spec("villages", "村数", "Villages", _get("villages"), "个"),
        Spec(
            "villages_safe",
            "住房饮水全部安全的村",
            "Villages with safe housing and water for all",
            _get("villages_safe"),
            "个",
        ),
        Spec(
            "villages_safe_pct",
            "达标村占比",
            "Such villages %",
            _pct(_get("villages_safe"), _get("villages")),
            "%",
        ),
        Spec("households", "户数", "Households", _HH, "户"),
        Spec(
            "housing_unsafe",
            "住房不安全户数",
            "Households in unsafe housing",
            _get("housing_unsafe"),
            "户",
        ),
        Spec(
            "water_unsafe",
            "饮水不安全户数",
            "Households without safe water",
            _get("water_unsafe"),
            "户",
        ),
    ]


def _exit_specs(years: Sequence[str]) -> list[Spec]:
    specs = [
        Spec("households", "户数", "Households", _HH, "户"),
        Spec("households_exited", "已脱贫户数", "Exited", _get("households:exited"), "户"),
        Spec("households_poor", "未脱贫户数", "Not yet exited", _get("households:poor"), "户"),
    ]
    for y in years:
        specs.append(Spec(f"exits_{y}", f"{y}年脱贫", f"Exited in {y}", _get(f"exits:{y}"), "户"))
    specs.append(
        Spec(
            "returned",
            "脱贫后纳入监测(返贫风险)户数",
            "Exited, then monitored (unstable or sudden hardship)",
            _get("returned"),
            "户",
        )
    )
    specs.append(
        Spec(
            "returned_pct",
            "返贫风险占已脱贫比",
            "Of those exited %",
            _pct(_get("returned"), _sum("households:exited", "returned")),
            "%",
        )
    )
    return specs


def _headline_specs() -> list[Spec]:
    specs = [
        Spec("villages", "村数", "Villages", _get("villages"), "个"),
        Spec("households", "户数", "Households", _HH, "户"),
        Spec("people", "人数", "People", _get("people"), "人"),
    ]
    specs += [_cause_share(c) for c in SEED_TOP_CAUSES]
    specs.append(_other_causes_share())
    return specs


_FIGURE_TABLES: dict[TableName, tuple[str, str, Callable[[], list[Spec]]]] = {
    TableName.HOUSEHOLDS: (
        "贫困户与人口(按状态)",
        "Households and people by status",
        _household_specs,
    ),
    TableName.CAUSES: ("主要致贫原因", "Main causes of poverty", _cause_specs),
    TableName.INCOME: ("收入及来源", "Income and its sources", _income_specs),
    TableName.SPENDING: ("支出情况", "Spending", _spending_specs),
    TableName.EMPLOYMENT: ("就业情况", "Employment", _employment_specs),
    TableName.NEEDS: ("帮扶需求与认领", "Needs and claims", _need_specs),
    TableName.NEED_CATEGORIES: ("需求类别", "Needs by category", _need_category_specs),
    TableName.FULFILMENT: ("需求完成时间", "Fulfilment times", _fulfilment_specs),
    TableName.VILLAGES: ("村基础设施", "Village infrastructure", _village_specs),
}
_OTHER_TITLES: dict[TableName, tuple[str, str]] = {
    TableName.HEADLINE: ("总体情况(对照种子文件)", "Headline figures (as in the seed document)"),
    TableName.EXITS: ("脱贫退出与返贫风险", "Exits and returns"),
    TableName.PROJECTS: ("扶贫项目与资金", "Projects and funds"),
    TableName.PROJECT_FUNDS: ("项目资金来源", "Project funds by source"),
    TableName.MONTHLY: ("月度趋势", "Monthly series"),
}
_ROWS_ARE = {TableName.PROJECT_FUNDS: RowsAre.FUND_SOURCES, TableName.MONTHLY: RowsAre.MONTHS}

_NOTES: dict[TableName, tuple[str, str]] = {
    TableName.VILLAGES: (
        "村集体经济收入：图中没有该数据（生成器不产生），不作统计；基础设施以农户住房和饮水安全代替。",
        "Village collective economy: the graph holds no such data (the generator has none), so "
        "it is not shown; infrastructure is approximated by households' housing and water safety.",
    ),
    TableName.EXITS: (
        "返贫风险：已脱贫后又被列为脱贫不稳定户或突发严重困难户的监测对象。",
        "Returns: households with an exit year now monitored as unstable or in sudden hardship.",
    ),
    TableName.PROJECTS: (
        "项目按所在村统计，县级项目计入“本级”行；受益户数按项目累计，一户受益于多个项目时重复计数。",
        "Projects count where they are (village); county-wide ones in the 'own level' row. "
        "Beneficiaries are summed over projects: a household in two projects counts twice.",
    ),
    TableName.SPENDING: (
        "仅有医疗和教育支出数据。",
        "Only medical and education spending are recorded.",
    ),
}


def _title(table: TableName, lang: Language) -> str:
    zh, en = (_FIGURE_TABLES[table][:2]) if table in _FIGURE_TABLES else _OTHER_TITLES[table]
    return zh if lang is Language.ZH else en


def _columns(specs: Iterable[Spec], lang: Language, lead: Sequence[str]) -> list[Column]:
    labels = _ZH if lang is Language.ZH else _EN
    head = [Column(key=k, label=labels.get(k, k)) for k in lead]
    return head + [
        Column(key=s.key, label=s.zh if lang is Language.ZH else s.en, unit=s.unit) for s in specs
    ]


def _row(region: RegionFigures, specs: Iterable[Spec]) -> Row:
    row: Row = {"region_code": region.code, "region_name": region.name}
    for s in specs:
        row[s.key] = s.value(region.figures)
    return row


def _oldest(*times: datetime | None) -> datetime | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None


def _child_level(level: RegionLevel) -> RegionLevel | None:
    order = list(RegionLevel)
    i = order.index(level)
    return order[i + 1] if i + 1 < len(order) else None


class AnalyticsService:
    def __init__(self, repository: AnalyticsRepository) -> None:
        self.repository = repository

    # --- public ----------------------------------------------------------------------------

    def catalogue(self, lang: Language = Language.ZH) -> list[TableInfo]:
        """Every table, with its title and what its rows are."""
        return [
            TableInfo(table=t, title=_title(t, lang), rows_are=_ROWS_ARE.get(t, RowsAre.CHILDREN))
            for t in TableName
        ]

    def table(
        self,
        caller: Caller,
        table: TableName,
        region: str | None = None,
        lang: Language = Language.ZH,
    ) -> AnalyticsTable:
        """One table for `region` (default: the caller's own region, or the province for those
        who see everything). 404 when the region does not exist or lies outside the scope."""
        figures = self._region(caller, region)
        if table in _FIGURE_TABLES:
            return self._figure_table(table, figures, _FIGURE_TABLES[table][2](), lang)
        if table is TableName.EXITS:
            return self._exits(figures, lang)
        if table is TableName.HEADLINE:
            return self._headline(figures, lang)
        if table is TableName.PROJECTS:
            return self._projects(figures, lang)
        if table is TableName.PROJECT_FUNDS:
            return self._project_funds(figures, lang)
        return self._monthly(figures, lang)

    def export(
        self,
        caller: Caller,
        table: TableName,
        fmt: ExportFormat,
        region: str | None = None,
        lang: Language = Language.ZH,
    ) -> ExportFile:
        """The table as CSV (UTF-8 with BOM) or an Excel workbook: the total row first, then
        the rows; cells that a spreadsheet would take for a formula are neutralised."""
        result = self.table(caller, table, region, lang)
        header = [c.label for c in result.columns]
        rows = [[row.get(c.key) for c in result.columns] for row in (result.total, *result.rows)]
        name = f"{result.table.value}_{result.region_code}"
        if fmt is ExportFormat.CSV:
            return ExportFile(
                filename=f"{name}.csv",
                media_type=fmt.media_type,
                content=b"".join(csv_lines(header, rows)),
            )
        buffer = io.BytesIO()
        write_xlsx(buffer, header, rows, sheet_title=result.table.value)
        return ExportFile(
            filename=f"{name}.xlsx",
            media_type=fmt.media_type,
            content=buffer.getvalue(),
        )

    # --- scope ------------------------------------------------------------------------------

    def _region(self, caller: Caller, region: str | None) -> RegionFigures:
        code = region if region is not None else self._default_region(caller)
        if code is None or not any(code.startswith(p) for p in caller.prefixes):
            raise NotFoundError(f"region {region} not found", message_zh="未找到该区划")
        found = self.repository.region(code)
        if found is None:
            raise NotFoundError(f"region {region} not found", message_zh="未找到该区划")
        return found

    def _default_region(self, caller: Caller) -> str | None:
        if "" in caller.prefixes:
            roots = self.repository.roots()
            return roots[0] if roots else None
        return caller.prefixes[0] if caller.prefixes else None

    # --- tables -----------------------------------------------------------------------------

    def _frame(
        self,
        table: TableName,
        region: RegionFigures,
        lang: Language,
        columns: list[Column],
        total: Row,
        rows: list[Row],
        computed_at: datetime | None,
        notes: list[str] | None = None,
    ) -> AnalyticsTable:
        note = _NOTES.get(table)
        all_notes = list(notes or [])
        if note:
            all_notes.append(note[0] if lang is Language.ZH else note[1])
        if computed_at is None and table not in (TableName.PROJECTS, TableName.PROJECT_FUNDS):
            all_notes.append(
                "尚无统计数据：请运行统计任务（bangfu jobs stats）。"
                if lang is Language.ZH
                else "No statistics yet: run the statistics job (bangfu jobs stats)."
            )
        rows_are = _ROWS_ARE.get(table, RowsAre.CHILDREN)
        return AnalyticsTable(
            table=table,
            title=_title(table, lang),
            language=lang,
            region_code=region.code,
            region_name=region.name,
            level=region.level,
            rows_are=rows_are,
            child_level=_child_level(region.level) if rows_are is RowsAre.CHILDREN else None,
            columns=columns,
            total=total,
            rows=rows,
            computed_at=computed_at,
            notes=all_notes,
        )

    def _figure_table(
        self, table: TableName, region: RegionFigures, specs: list[Spec], lang: Language
    ) -> AnalyticsTable:
        children = self.repository.children(region.code)
        return self._frame(
            table,
            region,
            lang,
            _columns(specs, lang, ("region_code", "region_name")),
            _row(region, specs),
            [_row(c, specs) for c in children],
            _oldest(region.computed_at, *(c.computed_at for c in children)),
        )

    def _exits(self, region: RegionFigures, lang: Language) -> AnalyticsTable:
        children = self.repository.children(region.code)
        years = sorted(
            {
                k.split(":", 1)[1]
                for f in (region, *children)
                for k in f.figures
                if k.startswith("exits:")
            }
        )
        specs = _exit_specs(years)
        return self._frame(
            TableName.EXITS,
            region,
            lang,
            _columns(specs, lang, ("region_code", "region_name")),
            _row(region, specs),
            [_row(c, specs) for c in children],
            _oldest(region.computed_at, *(c.computed_at for c in children)),
        )

    def _headline(self, region: RegionFigures, lang: Language) -> AnalyticsTable:
        headline = self.repository.headline(region.code, BIG_COUNTY_PERSONS, BIG_TOWN_PERSONS)
        order = list(RegionLevel)
        below = order[order.index(region.level) + 1 :]
        level_specs = [
            Spec(
                f"{lv.value}_count",
                f"{label_zh(lv.value)}数",
                f"{lv.value.capitalize()} count",
                _const(headline.regions_by_level.get(lv.value, 0)),
                "个",
            )
            for lv in below
        ]
        big_specs = [
            Spec(
                "big_counties",
                f"贫困人口{BIG_COUNTY_PERSONS // 10_000}万人以上的县",
                f"Counties with >= {BIG_COUNTY_PERSONS:,} people",
                _const(headline.big_counties),
                "个",
            ),
            Spec(
                "big_towns",
                f"贫困人口{BIG_TOWN_PERSONS:,}人以上的乡镇",
                f"Towns with >= {BIG_TOWN_PERSONS:,} people",
                _const(headline.big_towns),
                "个",
            ),
        ]
        figure_specs = _headline_specs()
        total = _row(region, [*level_specs, *big_specs, *figure_specs])
        children = self.repository.children(region.code)
        rows = [_row(c, figure_specs) for c in children]
        notes = []
        villages = headline.regions_by_level.get(RegionLevel.VILLAGE.value, 0)
        computed = region.figures.get("villages", 0)
        if villages and computed != villages:
            notes.append(
                f"{villages} 个村中只有 {computed} 个村有统计数据。"
                if lang is Language.ZH
                else f"Only {computed} of {villages} villages have statistics."
            )
        return self._frame(
            TableName.HEADLINE,
            region,
            lang,
            _columns(
                [*level_specs, *big_specs, *figure_specs], lang, ("region_code", "region_name")
            ),
            total,
            rows,
            _oldest(region.computed_at, *(c.computed_at for c in children)),
            notes,
        )

    def _projects(self, region: RegionFigures, lang: Language) -> AnalyticsTable:
        child = _child_level(region.level)
        length = child.code_length if child else len(region.code)
        groups = self.repository.projects_by_child(region.code, length)
        names = {c.code: c.name for c in self.repository.children(region.code)}
        own = "本级" if lang is Language.ZH else "own level"
        by_key: dict[str, list[ProjectGroup]] = {}
        for g in groups:
            by_key.setdefault(g.key, []).append(g)
        columns = [
            *_columns([], lang, ("region_code", "region_name")),
            Column(
                key="projects", label="项目数" if lang is Language.ZH else "Projects", unit="个"
            ),
            *[
                Column(
                    key=f"stage_{s.value}",
                    label=_STAGE_ZH[s.value] if lang is Language.ZH else _words(s.value),
                    unit="个",
                )
                for s in ProjectStage
            ],
            Column(
                key="funds_allocated",
                label="下达资金" if lang is Language.ZH else "Funds allocated",
                unit="元",
            ),
            Column(
                key="funds_disbursed",
                label="已拨付资金" if lang is Language.ZH else "Funds disbursed",
                unit="元",
            ),
            Column(
                key="disbursed_pct",
                label="资金拨付率" if lang is Language.ZH else "Disbursed %",
                unit="%",
            ),
            Column(
                key="beneficiaries",
                label="受益户次" if lang is Language.ZH else "Beneficiary households (per project)",
                unit="户次",
            ),
        ]

        def row(code: str, name: str, parts: list[ProjectGroup]) -> Row:
            allocated = sum(p.funds_allocated for p in parts)
            disbursed = sum(p.funds_disbursed for p in parts)
            r: Row = {
                "region_code": code,
                "region_name": name,
                "projects": sum(p.projects for p in parts),
            }
            for s in ProjectStage:
                r[f"stage_{s.value}"] = sum(p.projects for p in parts if p.stage == s.value)
            r["funds_allocated"] = round(allocated, 2)
            r["funds_disbursed"] = round(disbursed, 2)
            r["disbursed_pct"] = round(100 * disbursed / allocated, 2) if allocated else None
            r["beneficiaries"] = sum(p.beneficiaries for p in parts)
            return r

        # A village has no children: its total is all there is.
        rows = (
            [row(code, names.get(code, own), by_key[code]) for code in sorted(by_key)]
            if child is not None
            else []
        )
        return self._frame(
            TableName.PROJECTS,
            region,
            lang,
            columns,
            row(region.code, region.name, groups),
            rows,
            datetime.now(UTC),
        )

    def _project_funds(self, region: RegionFigures, lang: Language) -> AnalyticsTable:
        groups = self.repository.projects_by_source(region.code)
        zh = lang is Language.ZH
        columns = [
            *_columns([], lang, ("region_code", "region_name")),
            Column(key="fund_source", label="资金来源" if zh else "Fund source"),
            Column(key="projects", label="项目数" if zh else "Projects", unit="个"),
            Column(key="funds_allocated", label="下达资金" if zh else "Funds allocated", unit="元"),
            Column(
                key="funds_disbursed", label="已拨付资金" if zh else "Funds disbursed", unit="元"
            ),
            Column(key="disbursed_pct", label="资金拨付率" if zh else "Disbursed %", unit="%"),
        ]

        def row(source: str, parts: list[ProjectGroup]) -> Row:
            allocated = sum(p.funds_allocated for p in parts)
            disbursed = sum(p.funds_disbursed for p in parts)
            return {
                "region_code": region.code,
                "region_name": region.name,
                "fund_source": source,
                "projects": sum(p.projects for p in parts),
                "funds_allocated": round(allocated, 2),
                "funds_disbursed": round(disbursed, 2),
                "disbursed_pct": round(100 * disbursed / allocated, 2) if allocated else None,
            }

        return self._frame(
            TableName.PROJECT_FUNDS,
            region,
            lang,
            columns,
            row("合计" if zh else "all", groups),
            [row(g.key, [g]) for g in groups],
            datetime.now(UTC),
        )

    def _monthly(self, region: RegionFigures, lang: Language) -> AnalyticsTable:
        zh = lang is Language.ZH
        created = {
            k.split(":", 1)[1]: v
            for k, v in region.figures.items()
            if k.startswith("needs_created:")
        }
        fulfilled = {
            k.split(":", 1)[1]: v
            for k, v in region.figures.items()
            if k.startswith("needs_fulfilled:")
        }
        projects = {g.key: g for g in self.repository.projects_by_start_month(region.code)}
        columns = [
            *_columns([], lang, ("region_code", "region_name")),
            Column(key="month", label="月份" if zh else "Month"),
            Column(key="needs_created", label="新增需求" if zh else "Needs published", unit="条"),
            Column(key="needs_fulfilled", label="完成需求" if zh else "Needs fulfilled", unit="条"),
            Column(
                key="projects_started", label="新开工项目" if zh else "Projects started", unit="个"
            ),
            Column(
                key="funds_allocated",
                label="新项目下达资金" if zh else "Funds of projects started",
                unit="元",
            ),
        ]

        def row(month: str, months: Iterable[str]) -> Row:
            ms = list(months)
            return {
                "region_code": region.code,
                "region_name": region.name,
                "month": month,
                "needs_created": sum(created.get(m, 0) for m in ms),
                "needs_fulfilled": sum(fulfilled.get(m, 0) for m in ms),
                "projects_started": sum(projects[m].projects for m in ms if m in projects),
                "funds_allocated": round(
                    sum(projects[m].funds_allocated for m in ms if m in projects), 2
                ),
            }

        months = sorted(created.keys() | fulfilled.keys() | projects.keys())
        return self._frame(
            TableName.MONTHLY,
            region,
            lang,
            columns,
            row("合计" if zh else "all", months),
            [row(m, [m]) for m in months],
            region.computed_at,
        )
