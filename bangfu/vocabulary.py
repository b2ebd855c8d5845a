"""Domain vocabulary shared by every layer (DESIGN.md, "Domain vocabulary").

Enum values are the stored and serialised form (English, stable); `label_zh` gives the text users
read.
"""

from __future__ import annotations

from enum import StrEnum


class RegionLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWN = "town"
    VILLAGE = "village"

    @property
    def code_length(self) -> int:
        """Digits of a statistical division code at this level (省 2, 市 4, 县 6, 镇 9, 村 12)."""
        return _CODE_LENGTH[self]

    @classmethod
    def of_code(cls, code: str) -> RegionLevel:
        for level, length in _CODE_LENGTH.items():
            if len(code) == length:
                return level
        raise ValueError(f"region code must have 2, 4, 6, 9 or 12 digits, got {len(code)}")


_CODE_LENGTH = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWN: 9,
    RegionLevel.VILLAGE: 12,
}


class HouseholdStatus(StrEnum):
    POOR = "poor"  # 建档立卡贫困户, not yet exited
    EXITED = "exited"  # 已脱贫
    MONITORED = "monitored"  # 监测对象


class MonitorType(StrEnum):
    UNSTABLE = "unstable"  # 脱贫不稳定户
    MARGINAL = "marginal"  # 边缘易致贫户
    SUDDEN_HARDSHIP = "sudden_hardship"  # 突发严重困难户


class PovertyCause(StrEnum):
    ILLNESS = "illness"  # 因病
    DISABILITY = "disability"  # 因残
    SCHOOLING = "schooling"  # 因学
    DISASTER = "disaster"  # 因灾
    LACK_OF_LAND = "lack_of_land"  # 缺土地
    LACK_OF_WATER = "lack_of_water"  # 缺水
    LACK_OF_SKILLS = "lack_of_skills"  # 缺技术
    LACK_OF_LABOUR = "lack_of_labour"  # 缺劳力
    LACK_OF_FUNDS = "lack_of_funds"  # 缺资金
    POOR_TRANSPORT = "poor_transport"  # 交通条件落后
    LACK_OF_DRIVE = "lack_of_drive"  # 自身发展动力不足


class NeedCategory(StrEnum):
    MEDICAL_AID = "medical_aid"
    ASSISTIVE_DEVICE = "assistive_device"
    TUITION = "tuition"
    SKILLS_TRAINING = "skills_training"
    JOB = "job"
    HOUSING_REPAIR = "housing_repair"
    WATER = "water"
    FARM_INPUTS = "farm_inputs"
    MICRO_CREDIT = "micro_credit"
    CARE = "care"

    @property
    def kind(self) -> NeedKind:
        return _NEED_KIND[self]


class NeedKind(StrEnum):
    """How a need is fulfilled: cash needs may be pledged in parts, the others are claimed whole."""

    SERVICE = "service"
    IN_KIND = "in_kind"
    CASH = "cash"


_NEED_KIND = {
    NeedCategory.MEDICAL_AID: NeedKind.CASH,
    NeedCategory.ASSISTIVE_DEVICE: NeedKind.IN_KIND,
    NeedCategory.TUITION: NeedKind.CASH,
    NeedCategory.SKILLS_TRAINING: NeedKind.SERVICE,
    NeedCategory.JOB: NeedKind.SERVICE,
    NeedCategory.HOUSING_REPAIR: NeedKind.IN_KIND,
    NeedCategory.WATER: NeedKind.IN_KIND,
    NeedCategory.FARM_INPUTS: NeedKind.IN_KIND,
    NeedCategory.MICRO_CREDIT: NeedKind.CASH,
    NeedCategory.CARE: NeedKind.SERVICE,
}


class NeedStatus(StrEnum):
    PENDING_REVIEW = "pending_review"  # entered by a field worker, not yet verified
    OPEN = "open"
    CLAIMED = "claimed"
    IN_PROGRESS = "in_progress"
    FULFILLED = "fulfilled"
    CONFIRMED = "confirmed"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Urgency(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


class HelperKind(StrEnum):
    HELPER_UNIT = "helper_unit"  # 帮扶单位 (government / public institution)
    ENTERPRISE = "enterprise"
    CHARITY = "charity"
    WOMENS_FEDERATION = "womens_federation"  # 妇联
    DISABLED_FEDERATION = "disabled_federation"  # 残联


class CadreRole(StrEnum):
    FIRST_SECRETARY = "first_secretary"  # 驻村第一书记
    WORK_TEAM = "work_team"  # 驻村工作队员
    RESPONSIBLE_PERSON = "responsible_person"  # 帮扶责任人


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class Relation(StrEnum):
    HEAD = "head"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    GRANDCHILD = "grandchild"
    OTHER = "other"


class Health(StrEnum):
    HEALTHY = "healthy"
    CHRONIC = "chronic"  # 长期慢性病
    SERIOUS = "serious"  # 患有大病


class Schooling(StrEnum):
    NONE = "none"  # 文盲或半文盲
    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"
    COLLEGE = "college"
    PRESCHOOL = "preschool"
    IN_SCHOOL = "in_school"  # 在校生


class LabourAbility(StrEnum):
    NORMAL = "normal"  # 普通劳动力
    SKILLED = "skilled"  # 技能劳动力
    WEAK = "weak"  # 弱劳动力或半劳动力
    NONE = "none"  # 丧失劳动力 / 无劳动力


class Employment(StrEnum):
    FARMING = "farming"
    LOCAL_WAGE = "local_wage"
    MIGRANT = "migrant"  # 外出务工
    SELF_EMPLOYED = "self_employed"
    PUBLIC_WELFARE_JOB = "public_welfare_job"  # 公益岗位
    STUDENT = "student"
    NONE = "none"


class ProjectStage(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    IMPLEMENTATION = "implementation"
    OPERATION = "operation"
    COMPLETED = "completed"
    REJECTED = "rejected"  # refused at approval (a reason is recorded); nothing follows


class ProjectType(StrEnum):
    INDUSTRY = "industry"  # 产业
    INFRASTRUCTURE = "infrastructure"
    EMPLOYMENT = "employment"
    HOUSING = "housing"
    WATER = "water"
    EDUCATION = "education"
    HEALTH = "health"


LABEL_ZH: dict[str, str] = {
    "province": "省",
    "city": "市",
    "county": "县",
    "town": "镇",
    "village": "村",
    "poor": "贫困户",
    "exited": "已脱贫",
    "monitored": "监测对象",
    "unstable": "脱贫不稳定户",
    "marginal": "边缘易致贫户",
    "sudden_hardship": "突发严重困难户",
    "illness": "因病",
    "disability": "因残",
    "schooling": "因学",
    "disaster": "因灾",
    "lack_of_land": "缺土地",
    "lack_of_water": "缺水",
    "lack_of_skills": "缺技术",
    "lack_of_labour": "缺劳力",
    "lack_of_funds": "缺资金",
    "poor_transport": "交通条件落后",
    "lack_of_drive": "自身发展动力不足",
    "medical_aid": "医疗救助",
    "assistive_device": "辅助器具",
    "tuition": "学费资助",
    "skills_training": "技能培训",
    "job": "就业岗位",
    "housing_repair": "危房改造",
    "water": "饮水安全",
    "farm_inputs": "农资帮扶",
    "micro_credit": "小额信贷",
    "care": "照料服务",
    "helper_unit": "帮扶单位",
    "enterprise": "企业",
    "charity": "慈善机构",
    "womens_federation": "妇联",
    "disabled_federation": "残联",
}


def label_zh(value: str) -> str:
    """Chinese label of a vocabulary value, or the value itself when none is defined."""
    return LABEL_ZH.get(value, value)


class AlertStatus(StrEnum):
    """Steps of the monitoring procedure a risk alert (返贫致贫风险预警) goes through."""

    NEW = "new"  # raised by the model or a rule, waiting to be accepted
    ACCEPTED = "accepted"  # 受理 (within 2 days)
    VISITED = "visited"  # 入户核实 and data comparison done
    NOTICED = "noticed"  # 村级评议 done, public notice (公示) running for at least 5 days
    TOWN_REVIEWED = "town_reviewed"  # 乡镇审核
    CONFIRMED = "confirmed"  # 县级审定: the household is a monitored household
    ELIMINATED = "eliminated"  # 风险消除
    DISMISSED = "dismissed"  # not a risk (a reason is required)


class AlertReason(StrEnum):
    """Why an alert was raised: the model, or one of the official monitoring rules."""

    MODEL = "model"
    INCOME_BELOW_LINE = "income_below_line"
    MEDICAL_BURDEN = "medical_burden"
    EDUCATION_BURDEN = "education_burden"
    DISASTER = "disaster"
    LABOUR_LOSS = "labour_loss"


LABEL_ZH.update(
    {
        "new": "待受理",
        "accepted": "已受理",
        "visited": "已入户核实",
        "noticed": "公示中",
        "town_reviewed": "乡镇已审核",
        "confirmed": "已纳入监测",
        "eliminated": "风险已消除",
        "dismissed": "已排除",
        "model": "模型预警",
        "income_below_line": "人均纯收入低于监测线",
        "medical_burden": "医疗支出负担重",
        "education_burden": "教育支出负担重",
        "labour_loss": "劳动力骤减",
    }
)


class FundSource(StrEnum):
    """Where a project's money comes from (资金来源), one allocation per source and project."""

    CENTRAL = "central_finance"  # 中央财政衔接资金 / 专项扶贫资金
    PROVINCIAL = "provincial_finance"  # 省级财政
    CITY = "city_finance"  # 市级财政
    COUNTY = "county_finance"  # 县级财政 (incl. 统筹整合涉农资金)
    EAST_WEST = "east_west"  # 东西部协作 / 对口帮扶 pairing funds
    SOCIAL = "social"  # 社会帮扶 donations
    LOAN = "loan"  # 扶贫小额信贷 and other bank loans
    SELF_RAISED = "self_raised"  # 帮扶单位 or the operator's own money


class ProjectAnomaly(StrEnum):
    """What the project checks flag (matching/project_lifecycle.py says why each is a flag)."""

    DISBURSED_WITHOUT_PROGRESS = "disbursed_without_progress"
    INELIGIBLE_BENEFICIARY = "ineligible_beneficiary"
    STALLED = "stalled"
    TOO_MANY_PROJECTS = "too_many_projects"


LABEL_ZH.update(
    {
        "proposed": "已申报",
        "approved": "已批复",
        "implementation": "实施中",
        "operation": "运营中",
        "completed": "已完成",
        "rejected": "未批准",
        "industry": "产业项目",
        "infrastructure": "基础设施",
        "employment": "就业项目",
        "housing": "住房保障",
        "education": "教育项目",
        "health": "医疗卫生",
        "central_finance": "中央财政资金",
        "provincial_finance": "省级财政资金",
        "city_finance": "市级财政资金",
        "county_finance": "县级财政资金",
        "east_west": "东西部协作资金",
        "social": "社会帮扶资金",
        "loan": "信贷资金",
        "self_raised": "自筹资金",
        "disbursed_without_progress": "资金拨付超前于项目进度",
        "ineligible_beneficiary": "受益户非贫困户或监测对象",
        "stalled": "项目停滞",
        "too_many_projects": "同一户受益项目过多",
    }
)


class CrossCheckRule(StrEnum):
    """Cross-checks (数据比对) of the platform's records against department data. Eligibility
    rules find households that should not be identified as poor; the others find records that
    disagree with a department's."""

    DECEASED_LISTED = "deceased_listed"  # 已死亡仍在册
    VEHICLE_OWNER = "vehicle_owner"  # 有车辆（小汽车、货车）
    BUSINESS_OWNER = "business_owner"  # 有存续的工商登记（合作社除外）
    PUBLIC_EMPLOYEE = "public_employee"  # 财政供养人员
    CHILD_NOT_ENROLLED = "child_not_enrolled"  # 义务教育阶段适龄儿童未在学籍
    DISABILITY_UNRECORDED = "disability_unrecorded"  # 持残疾人证但未登记残疾
    INCOME_ABOVE_LINE = "income_above_line"  # 部门工资数据显示收入超线


# Rules whose confirmed finding means the household was identified in error (识别错误): the
# identification error rate counts these (verification/report.py).
ELIGIBILITY_RULES = frozenset(
    {
        CrossCheckRule.VEHICLE_OWNER,
        CrossCheckRule.BUSINESS_OWNER,
        CrossCheckRule.PUBLIC_EMPLOYEE,
        CrossCheckRule.INCOME_ABOVE_LINE,
    }
)


class FindingStatus(StrEnum):
    OPEN = "open"  # a verification task (核查任务) waiting for the field worker
    CONFIRMED = "confirmed"  # the department's data is right: the record was corrected
    DISMISSED = "dismissed"  # the household's record is right (reason kept)


class ExitKind(StrEnum):
    HOUSEHOLD = "household"  # 脱贫退出
    VILLAGE = "village"  # 贫困村出列


class ExitStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


class Guarantee(StrEnum):
    """What an exit is judged on: the income line and 两不愁三保障."""

    INCOME = "income"  # 人均纯收入达到标准
    FOOD = "food"  # 不愁吃
    CLOTHING = "clothing"  # 不愁穿
    COMPULSORY_EDUCATION = "compulsory_education"  # 义务教育有保障
    BASIC_MEDICAL = "basic_medical"  # 基本医疗有保障
    SAFE_HOUSING = "safe_housing"  # 住房安全有保障
    SAFE_WATER = "safe_water"  # 饮水安全有保障


# Statuses are labelled here, not in LABEL_ZH: "confirmed" already means an alert's 已纳入监测.
FINDING_STATUS_ZH = {"open": "待核查", "confirmed": "核实属实", "dismissed": "核实不属实"}
EXIT_STATUS_ZH = {"proposed": "待审批", "approved": "已批准", "rejected": "未批准"}

LABEL_ZH.update(
    {
        "deceased_listed": "已死亡人员仍在册",
        "vehicle_owner": "家庭成员有车辆",
        "business_owner": "家庭成员有工商登记",
        "public_employee": "家庭成员为财政供养人员",
        "child_not_enrolled": "义务教育适龄儿童未在学籍",
        "disability_unrecorded": "持残疾人证未登记残疾",
        "income_above_line": "部门工资数据显示人均收入超过标准",
        "income": "人均纯收入达到标准",
        "food": "不愁吃",
        "clothing": "不愁穿",
        "compulsory_education": "义务教育有保障",
        "basic_medical": "基本医疗有保障",
        "safe_housing": "住房安全有保障",
        "safe_water": "饮水安全有保障",
    }
)
