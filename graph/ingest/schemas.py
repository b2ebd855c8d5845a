"""Declared schemas of every importable source: its columns (English name and the Chinese header a
department's spreadsheet carries; either is accepted), what each column holds, which columns
identify a record (the natural key) and which cross-column checks apply.

Three sources are the generator's own CSV format (graph/synthetic/tables.py TABLE_COLUMNS):
households, persons (members) and needs. The others are department data; each names a person by
national ID and carries the facts, dates and amounts a cross-check (数据比对) needs, plus the code
of the region that reported it (so an official imports only their own region's rows).

Department sources (natural key, then the facts):

- civil_affairs.dibao 低保: national_id, start_date; household_size, monthly_amount, end_date
- civil_affairs.tekun 特困供养: national_id, start_date; care_mode, monthly_amount, end_date
- civil_affairs.deaths 死亡(殡葬): national_id; death_date, record_no
- education.enrolment 学籍: national_id, school_year; school_name, stage, grade, status
- hrss.employment 就业登记: national_id, employer, start_date; employer_credit_code,
  monthly_wage, end_date
- hrss.pensions 养老保险: national_id, scheme; status, monthly_benefit, since
- hrss.public_employees 财政供养人员: national_id, unit_name; position, start_date, end_date
- public_security.hukou 户籍: national_id; sex, birth_date, registration_status, as_of
- public_security.deaths 死亡注销: national_id; death_date, cancelled_on
- public_security.vehicles 机动车: national_id, plate_no; vehicle_type, registered_on, status
- medical_insurance.enrolment 医保参保: national_id, year; scheme, subsidised, status
- medical_insurance.expenses 医疗费用结算: settlement_no; hospital, admitted_on, discharged_on,
  total_cost, insurance_paid, out_of_pocket
- disabled_federation.certificates 残疾人证: national_id, issued_on; certificate_no (sealed like
  an ID: it embeds one), disability_type, grade, valid_until
- market_regulation.businesses 市场主体登记: national_id, credit_code; business_name,
  business_type, registered_capital, registered_on, status

Every department source also has national_id, name and region_code. Amounts are yuan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from bangfu.vocabulary import (
    Employment,
    Health,
    HouseholdStatus,
    LabourAbility,
    MonitorType,
    NeedCategory,
    NeedKind,
    NeedStatus,
    PovertyCause,
    Relation,
    Schooling,
    Sex,
    Urgency,
    label_zh,
)
from graph.synthetic.tables import TABLE_COLUMNS


class Kind(StrEnum):
    """What a column holds; validation.py has one parser per kind."""

    NATIONAL_ID = "national_id"  # GB 11643, 18 characters; stored sealed (hash + ciphertext)
    PHONE = "phone"  # mainland mobile; stored sealed
    SEALED = "sealed"  # another personal identifier (certificate numbers); stored sealed
    REGION = "region"  # a known region code at any level (2, 4, 6, 9 or 12 digits)
    VILLAGE = "village"  # a known village code (12 digits)
    REGION_PART = "region_part"  # a derived code (town_code ...) that must prefix the village
    KEY = "key"  # an identifier matching `pattern`
    TEXT = "text"
    DATE = "date"
    NUMBER = "number"
    INTEGER = "integer"
    CHOICE = "choice"  # one of `choices` (or its Chinese label)
    CHOICES = "choices"  # ";"-joined values of `choices`
    BOOL = "bool"
    CREDIT_CODE = "credit_code"  # 统一社会信用代码 (GB 32100-2015), with its check character


class Entity(StrEnum):
    """Where a source's rows go in the graph."""

    HOUSEHOLDS = "households"
    PERSONS = "persons"
    NEEDS = "needs"
    DEPT = "dept"  # (:DeptRecord)-[:ABOUT]->(:Person)


class Department(StrEnum):
    GENERATOR = "generator"  # the platform's own format (建档立卡 records)
    CIVIL_AFFAIRS = "civil_affairs"  # 民政
    EDUCATION = "education"  # 教育
    HRSS = "hrss"  # 人力资源和社会保障
    PUBLIC_SECURITY = "public_security"  # 公安
    MEDICAL_INSURANCE = "medical_insurance"  # 医保
    DISABLED_FEDERATION = "disabled_federation"  # 残联
    MARKET_REGULATION = "market_regulation"  # 市场监管


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    kind: Kind
    required: bool = True
    choices: tuple[str, ...] = ()
    # Chinese (or other) spellings accepted for a choice, mapped to the stored value.
    aliases: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    max_length: int = 200
    past_only: bool = False  # a date that cannot lie in the future (births, deaths, events)


@dataclass(frozen=True)
class Check:
    """A rule across columns of one row, implemented in validation.py under `name`."""

    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class SourceSchema:
    name: str
    title_en: str
    title_zh: str
    department: Department
    entity: Entity
    columns: tuple[Column, ...]
    # Natural key: identifies a record in the file and in the graph (MERGE).
    key: tuple[str, ...]
    # Further column sets that must be unique within a file (persons: national_id).
    unique: tuple[tuple[str, ...], ...] = ()
    region_column: str = "region_code"
    checks: tuple[Check, ...] = ()

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def date_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.kind is Kind.DATE)


def _enum(
    name: str,
    zh: str,
    values: type[StrEnum],
    *,
    required: bool = True,
    kind: Kind = Kind.CHOICE,
    extra: Mapping[str, str] | None = None,
) -> Column:
    """A column holding a vocabulary enum: the stored English value, or the Chinese label users
    read (bangfu.vocabulary.LABEL_ZH), or one of `extra`'s spellings."""
    aliases = {label_zh(v.value): v.value for v in values if label_zh(v.value) != v.value}
    aliases.update(extra or {})
    return Column(
        name,
        zh,
        kind,
        required=required,
        choices=tuple(v.value for v in values),
        aliases=MappingProxyType(aliases),
    )


_SEX_ZH = {"男": "male", "女": "female"}
# Amount ceilings: far above any real value, low enough to catch a misplaced decimal point or
# an ID number pasted into an amount column (18 digits).
_MONTHLY_MAX = 100_000
_YEARLY_MAX = 10_000_000
_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"

# --- the generator's format (graph/synthetic/tables.py) ---------------------------------------

_HOUSEHOLD_COLUMNS = {
    "household_id": Column("household_id", "户编号", Kind.KEY, pattern=_ID_PATTERN),
    "village_code": Column("village_code", "行政村代码", Kind.VILLAGE),
    "town_code": Column("town_code", "乡镇代码", Kind.REGION_PART),
    "county_code": Column("county_code", "县区代码", Kind.REGION_PART),
    "city_code": Column("city_code", "地市代码", Kind.REGION_PART),
    "status": _enum("status", "户状态", HouseholdStatus),
    "monitor_type": _enum("monitor_type", "监测类型", MonitorType, required=False),
    "main_cause": _enum("main_cause", "主要致贫原因", PovertyCause),
    "other_causes": _enum(
        "other_causes", "其他致贫原因", PovertyCause, required=False, kind=Kind.CHOICES
    ),
    "size": Column("size", "家庭人口数", Kind.INTEGER, minimum=1, maximum=20),
    "address": Column("address", "住址", Kind.TEXT),
    "phone": Column("phone", "联系电话", Kind.PHONE, required=False),
    "income_wage": Column("income_wage", "工资性收入", Kind.NUMBER, minimum=0, maximum=_YEARLY_MAX),
    "income_farm": Column(
        "income_farm", "生产经营性收入", Kind.NUMBER, minimum=0, maximum=_YEARLY_MAX
    ),
    "income_business": Column(
        "income_business", "经营性收入", Kind.NUMBER, minimum=0, maximum=_YEARLY_MAX
    ),
    "income_transfer": Column(
        "income_transfer", "转移性收入", Kind.NUMBER, minimum=0, maximum=_YEARLY_MAX
    ),
    "income_property": Column(
        "income_property", "财产性收入", Kind.NUMBER, minimum=0, maximum=_YEARLY_MAX
    ),
    "income_per_capita": Column(
        "income_per_capita", "人均纯收入", Kind.NUMBER, minimum=0, maximum=_YEARLY_MAX
    ),
    "spend_medical": Column(
        "spend_medical", "医疗支出", Kind.NUMBER, minimum=0, maximum=_YEARLY_MAX
    ),
    "spend_education": Column(
        "spend_education", "教育支出", Kind.NUMBER, minimum=0, maximum=_YEARLY_MAX
    ),
    "housing_safe": Column("housing_safe", "住房安全", Kind.BOOL),
    "water_safe": Column("water_safe", "饮水安全", Kind.BOOL),
    "registered_year": Column(
        "registered_year", "识别年度", Kind.INTEGER, required=False, minimum=2000, maximum=2100
    ),
    "exit_year": Column(
        "exit_year", "脱贫年度", Kind.INTEGER, required=False, minimum=2000, maximum=2100
    ),
}

_PERSON_COLUMNS = {
    "person_id": Column("person_id", "成员编号", Kind.KEY, pattern=_ID_PATTERN),
    "household_id": Column("household_id", "户编号", Kind.KEY, pattern=_ID_PATTERN),
    "national_id": Column("national_id", "身份证号", Kind.NATIONAL_ID),
    "name": Column("name", "姓名", Kind.TEXT, max_length=50),
    "sex": _enum("sex", "性别", Sex, extra=_SEX_ZH),
    "birth_date": Column("birth_date", "出生日期", Kind.DATE, past_only=True),
    "relation": _enum(
        "relation",
        "与户主关系",
        Relation,
        extra={
            "户主": "head",
            "配偶": "spouse",
            "子女": "child",
            "父母": "parent",
            "孙子女": "grandchild",
            "其他": "other",
        },
    ),
    "health": _enum(
        "health",
        "健康状况",
        Health,
        extra={"健康": "healthy", "长期慢性病": "chronic", "患有大病": "serious"},
    ),
    "disability_grade": Column("disability_grade", "残疾等级", Kind.INTEGER, minimum=0, maximum=4),
    "schooling": _enum("schooling", "文化程度", Schooling),
    "labour_ability": _enum("labour_ability", "劳动能力", LabourAbility),
    "employment": _enum("employment", "务工状况", Employment),
    "phone": Column("phone", "联系电话", Kind.PHONE, required=False),
}

_NEED_COLUMNS = {
    "need_id": Column("need_id", "需求编号", Kind.KEY, pattern=_ID_PATTERN),
    "household_id": Column("household_id", "户编号", Kind.KEY, pattern=_ID_PATTERN),
    "village_code": Column("village_code", "行政村代码", Kind.VILLAGE),
    "category": _enum("category", "需求类别", NeedCategory),
    "kind": _enum("kind", "帮扶方式", NeedKind),
    "title": Column("title", "标题", Kind.TEXT, max_length=100),
    "text": Column("text", "需求描述", Kind.TEXT, max_length=2000),
    "amount": Column("amount", "金额", Kind.NUMBER, minimum=0, maximum=_YEARLY_MAX),
    "urgency": _enum("urgency", "紧急程度", Urgency),
    "status": _enum("status", "状态", NeedStatus),
    "created_at": Column("created_at", "发布日期", Kind.DATE, past_only=True),
    "claimed_by": Column("claimed_by", "认领主体", Kind.KEY, required=False, pattern=_ID_PATTERN),
    "fulfilled_at": Column("fulfilled_at", "完成日期", Kind.DATE, required=False, past_only=True),
}


def _in_table_order(table: str, spec: Mapping[str, Column]) -> tuple[Column, ...]:
    """The generator's columns in its order; a column added there and not here fails loudly at
    import time rather than silently refusing every file."""
    names = TABLE_COLUMNS[table]
    if set(names) != set(spec):
        raise RuntimeError(f"import schema of {table} out of step with TABLE_COLUMNS")
    return tuple(spec[name] for name in names)


# --- department columns -------------------------------------------------------------------------


def _nid() -> Column:
    return Column("national_id", "身份证号", Kind.NATIONAL_ID)


def _name(required: bool = True) -> Column:
    return Column("name", "姓名", Kind.TEXT, required=required, max_length=50)


def _region() -> Column:
    return Column("region_code", "行政区划代码", Kind.REGION)


def _date(name: str, zh: str, required: bool = True, past_only: bool = False) -> Column:
    return Column(name, zh, Kind.DATE, required=required, past_only=past_only)


def _money(name: str, zh: str, maximum: float, required: bool = True) -> Column:
    return Column(name, zh, Kind.NUMBER, required=required, minimum=0, maximum=maximum)


def _choice(name: str, zh: str, values: Mapping[str, str], required: bool = True) -> Column:
    """`values` maps each stored value to its Chinese label."""
    return Column(
        name,
        zh,
        Kind.CHOICE,
        required=required,
        choices=tuple(values),
        aliases=MappingProxyType({label: value for value, label in values.items()}),
    )


def _dates_ordered(first: str, then: str) -> Check:
    return Check("dates_ordered", (first, then))


_ID_BIRTH_SEX = Check("matches_national_id", ("national_id", "birth_date", "sex"))

SOURCES: Mapping[str, SourceSchema] = MappingProxyType(
    {
        s.name: s
        for s in (
            SourceSchema(
                "households",
                "Households (generator CSV format)",
                "建档立卡户",
                Department.GENERATOR,
                Entity.HOUSEHOLDS,
                _in_table_order("households", _HOUSEHOLD_COLUMNS),
                key=("household_id",),
                region_column="village_code",
                checks=(
                    Check(
                        "region_parts", ("village_code", "town_code", "county_code", "city_code")
                    ),
                    Check(
                        "per_capita",
                        (
                            "income_per_capita",
                            "size",
                            "income_wage",
                            "income_farm",
                            "income_business",
                            "income_transfer",
                            "income_property",
                        ),
                    ),
                    Check("monitor_type", ("status", "monitor_type")),
                    Check("years_ordered", ("registered_year", "exit_year")),
                ),
            ),
            SourceSchema(
                "persons",
                "Household members (generator CSV format)",
                "家庭成员",
                Department.GENERATOR,
                Entity.PERSONS,
                _in_table_order("persons", _PERSON_COLUMNS),
                key=("person_id",),
                unique=(("national_id",),),
                region_column="",  # the household's village, looked up in the graph
                checks=(_ID_BIRTH_SEX,),
            ),
            SourceSchema(
                "needs",
                "Needs (generator CSV format)",
                "帮扶需求",
                Department.GENERATOR,
                Entity.NEEDS,
                _in_table_order("needs", _NEED_COLUMNS),
                key=("need_id",),
                region_column="village_code",
                checks=(
                    Check("need_kind", ("category", "kind")),
                    _dates_ordered("created_at", "fulfilled_at"),
                ),
            ),
            SourceSchema(
                "civil_affairs.dibao",
                "Civil affairs: minimum living allowance (dibao)",
                "民政：最低生活保障",
                Department.CIVIL_AFFAIRS,
                Entity.DEPT,
                (
                    _nid(),
                    _name(),
                    _region(),
                    Column(
                        "household_size",
                        "保障人数",
                        Kind.INTEGER,
                        required=False,
                        minimum=1,
                        maximum=20,
                    ),
                    _money("monthly_amount", "月保障金额", _MONTHLY_MAX),
                    _date("start_date", "开始日期"),
                    _date("end_date", "终止日期", required=False),
                ),
                key=("national_id", "start_date"),
                checks=(_dates_ordered("start_date", "end_date"),),
            ),
            SourceSchema(
                "civil_affairs.tekun",
                "Civil affairs: extreme-poverty support (tekun)",
                "民政：特困人员供养",
                Department.CIVIL_AFFAIRS,
                Entity.DEPT,
                (
                    _nid(),
                    _name(),
                    _region(),
                    _choice(
                        "care_mode",
                        "供养方式",
                        {"centralized": "集中供养", "dispersed": "分散供养"},
                    ),
                    _money("monthly_amount", "月供养金额", _MONTHLY_MAX),
                    _date("start_date", "开始日期"),
                    _date("end_date", "终止日期", required=False),
                ),
                key=("national_id", "start_date"),
                checks=(_dates_ordered("start_date", "end_date"),),
            ),
            SourceSchema(
                "civil_affairs.deaths",
                "Civil affairs: deaths (funeral and cremation records)",
                "民政：死亡（殡葬）信息",
                Department.CIVIL_AFFAIRS,
                Entity.DEPT,
                (
                    _nid(),
                    _name(),
                    _region(),
                    _date("death_date", "死亡日期", past_only=True),
                    Column("record_no", "火化证明编号", Kind.TEXT, required=False, max_length=40),
                ),
                key=("national_id",),
            ),
            SourceSchema(
                "education.enrolment",
                "Education: school enrolment",
                "教育：学籍信息",
                Department.EDUCATION,
                Entity.DEPT,
                (
                    _nid(),
                    _name(),
                    _region(),
                    Column("school_name", "学校名称", Kind.TEXT, max_length=100),
                    _choice(
                        "stage",
                        "学段",
                        {
                            "preschool": "学前",
                            "primary": "小学",
                            "junior": "初中",
                            "senior": "高中",
                            "vocational": "中职",
                            "college": "高等教育",
                        },
                    ),
                    Column("grade", "年级", Kind.INTEGER, required=False, minimum=1, maximum=9),
                    Column("school_year", "学年", Kind.INTEGER, minimum=2000, maximum=2100),
                    _choice(
                        "status",
                        "学籍状态",
                        {
                            "enrolled": "在读",
                            "suspended": "休学",
                            "dropped_out": "辍学",
                            "graduated": "毕业",
                            "transferred": "转学",
                        },
                    ),
                ),
                key=("national_id", "school_year"),
            ),
            SourceSchema(
                "hrss.employment",
                "Human resources & social security: employment registrations",
                "人社：就业登记",
                Department.HRSS,
                Entity.DEPT,
                (
                    _nid(),
                    _name(),
                    _region(),
                    Column("employer", "用工单位", Kind.TEXT, max_length=100),
                    Column(
                        "employer_credit_code",
                        "单位统一社会信用代码",
                        Kind.CREDIT_CODE,
                        required=False,
                    ),
                    _date("start_date", "就业日期"),
                    _date("end_date", "离职日期", required=False),
                    _money("monthly_wage", "月工资", _MONTHLY_MAX, required=False),
                ),
                key=("national_id", "employer", "start_date"),
                checks=(_dates_ordered("start_date", "end_date"),),
            ),
            SourceSchema(
                "hrss.pensions",
                "Human resources & social security: pensions",
                "人社：养老保险",
                Department.HRSS,
                Entity.DEPT,
                (
                    _nid(),
                    _name(),
                    _region(),
                    _choice(
                        "scheme",
                        "险种",
                        {
                            "urban_rural_resident": "城乡居民养老保险",
                            "urban_employee": "城镇职工养老保险",
                            "public_institution": "机关事业单位养老保险",
                        },
                    ),
                    _choice(
                        "status",
                        "参保状态",
                        {
                            "contributing": "缴费",
                            "receiving": "领取",
                            "suspended": "暂停",
                            "terminated": "终止",
                        },
                    ),
                    _money("monthly_benefit", "月养老金", _MONTHLY_MAX, required=False),
                    _date("since", "参保日期"),
                ),
                key=("national_id", "scheme"),
            ),
            SourceSchema(
                "hrss.public_employees",
                "Human resources & social security: public employees",
                "人社：财政供养人员",
                Department.HRSS,
                Entity.DEPT,
                (
                    _nid(),
                    _name(),
                    _region(),
                    Column("unit_name", "工作单位", Kind.TEXT, max_length=100),
                    Column("position", "职务", Kind.TEXT, required=False, max_length=50),
                    _date("start_date", "入职日期"),
                    _date("end_date", "离职日期", required=False),
                ),
                key=("national_id", "unit_name"),
                checks=(_dates_ordered("start_date", "end_date"),),
            ),
            SourceSchema(
                "public_security.hukou",
                "Public security: household registration (hukou)",
                "公安：户籍信息",
                Department.PUBLIC_SECURITY,
                Entity.DEPT,
                (
                    _nid(),
                    _name(),
                    _region(),
                    _choice("sex", "性别", {"male": "男", "female": "女"}),
                    _date("birth_date", "出生日期", past_only=True),
                    _choice(
                        "registration_status",
                        "户籍状态",
                        {"active": "正常", "moved_out": "迁出", "cancelled": "注销"},
                    ),
                    _date("as_of", "数据日期", past_only=True),
                ),
                key=("national_id",),
                checks=(_ID_BIRTH_SEX,),
            ),
            SourceSchema(
                "public_security.deaths",
                "Public security: deaths (registration cancelled)",
                "公安：死亡注销",
                Department.PUBLIC_SECURITY,
                Entity.DEPT,
                (
                    _nid(),
                    _name(),
                    _region(),
                    _date("death_date", "死亡日期", past_only=True),
                    _date("cancelled_on", "注销日期", required=False, past_only=True),
                ),
                key=("national_id",),
                checks=(_dates_ordered("death_date", "cancelled_on"),),
            ),
            SourceSchema(
                "public_security.vehicles",
                "Public security: motor vehicles",
                "公安：机动车登记",
                Department.PUBLIC_SECURITY,
                Entity.DEPT,
                (
                    _nid(),
                    _name(required=False),
                    _region(),
                    # 粤B12345, 粤BD12345 (new energy): a province character, a letter, 5-6 more.
                    Column(
                        "plate_no",
                        "号牌号码",
                        Kind.KEY,
                        pattern=r"^[\u4e00-\u9fff][A-Z][A-Z0-9]{5,6}$",
                    ),
                    _choice(
                        "vehicle_type",
                        "车辆类型",
                        {
                            "car": "小型汽车",
                            "truck": "货车",
                            "motorcycle": "摩托车",
                            "tractor": "拖拉机",
                            "tricycle": "三轮汽车",
                            "other": "其他",
                        },
                    ),
                    _date("registered_on", "登记日期", past_only=True),
                    _choice(
                        "status",
                        "车辆状态",
                        {"normal": "正常", "scrapped": "报废", "transferred": "转移"},
                        required=False,
                    ),
                ),
                key=("national_id", "plate_no"),
            ),
            SourceSchema(
                "medical_insurance.enrolment",
                "Medical insurance: enrolment",
                "医保：参保信息",
                Department.MEDICAL_INSURANCE,
                Entity.DEPT,
                (
                    _nid(),
                    _name(),
                    _region(),
                    Column("year", "参保年度", Kind.INTEGER, minimum=2000, maximum=2100),
                    _choice("scheme", "险种", {"resident": "城乡居民医保", "employee": "职工医保"}),
                    Column("subsidised", "资助参保", Kind.BOOL),
                    _choice("status", "参保状态", {"enrolled": "参保", "lapsed": "断保"}),
                ),
                key=("national_id", "year"),
            ),
            SourceSchema(
                "medical_insurance.expenses",
                "Medical insurance: settled medical expenses",
                "医保：医疗费用结算",
                Department.MEDICAL_INSURANCE,
                Entity.DEPT,
                (
                    _nid(),
                    _name(),
                    _region(),
                    Column("settlement_no", "结算单号", Kind.KEY, pattern=_ID_PATTERN),
                    Column("hospital", "就诊机构", Kind.TEXT, max_length=100),
                    _date("admitted_on", "入院日期", past_only=True),
                    _date("discharged_on", "出院日期", required=False, past_only=True),
                    _money("total_cost", "医疗总费用", _YEARLY_MAX),
                    _money("insurance_paid", "医保支付", _YEARLY_MAX),
                    _money("out_of_pocket", "个人自付", _YEARLY_MAX),
                ),
                key=("settlement_no",),
                checks=(
                    _dates_ordered("admitted_on", "discharged_on"),
                    Check("parts_within_total", ("total_cost", "insurance_paid", "out_of_pocket")),
                ),
            ),
            SourceSchema(
                "disabled_federation.certificates",
                "Disabled persons' federation: disability certificates",
                "残联：残疾人证",
                Department.DISABLED_FEDERATION,
                Entity.DEPT,
                (
                    _nid(),
                    _name(),
                    _region(),
                    # 第二代残疾人证号: the holder's 18-character ID, then type and grade digits.
                    Column(
                        "certificate_no", "残疾人证号", Kind.SEALED, pattern=r"^\d{17}[\dX]\d{2}$"
                    ),
                    _choice(
                        "disability_type",
                        "残疾类别",
                        {
                            "visual": "视力残疾",
                            "hearing": "听力残疾",
                            "speech": "言语残疾",
                            "physical": "肢体残疾",
                            "intellectual": "智力残疾",
                            "mental": "精神残疾",
                            "multiple": "多重残疾",
                        },
                    ),
                    Column("grade", "残疾等级", Kind.INTEGER, minimum=1, maximum=4),
                    _date("issued_on", "发证日期", past_only=True),
                    _date("valid_until", "有效期至", required=False),
                ),
                key=("national_id", "issued_on"),
                checks=(
                    Check(
                        "certificate_matches",
                        ("certificate_no", "national_id", "disability_type", "grade"),
                    ),
                    _dates_ordered("issued_on", "valid_until"),
                ),
            ),
            SourceSchema(
                "market_regulation.businesses",
                "Market regulation: business registrations",
                "市场监管：市场主体登记",
                Department.MARKET_REGULATION,
                Entity.DEPT,
                (
                    _nid(),
                    _name(),
                    _region(),
                    Column("credit_code", "统一社会信用代码", Kind.CREDIT_CODE),
                    Column("business_name", "市场主体名称", Kind.TEXT, max_length=100),
                    _choice(
                        "business_type",
                        "市场主体类型",
                        {
                            "individual": "个体工商户",
                            "company": "有限责任公司",
                            "cooperative": "农民专业合作社",
                            "sole_proprietorship": "个人独资企业",
                            "partnership": "合伙企业",
                        },
                    ),
                    _money("registered_capital", "注册资本", 1e12, required=False),
                    _date("registered_on", "成立日期", past_only=True),
                    _choice(
                        "status",
                        "登记状态",
                        {"active": "存续", "revoked": "吊销", "cancelled": "注销"},
                    ),
                ),
                key=("national_id", "credit_code"),
            ),
        )
    }
)

# Order of the disability types in a certificate number's 19th digit (1 视力 ... 7 多重).
DISABILITY_TYPE_DIGITS = MappingProxyType(
    {
        "visual": "1",
        "hearing": "2",
        "speech": "3",
        "physical": "4",
        "intellectual": "5",
        "mental": "6",
        "multiple": "7",
    }
)


def source_names() -> tuple[str, ...]:
    return tuple(SOURCES)


def department_sources() -> tuple[SourceSchema, ...]:
    return tuple(s for s in SOURCES.values() if s.entity is Entity.DEPT)
