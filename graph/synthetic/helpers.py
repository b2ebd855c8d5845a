"""Helpers (helper units, enterprises, charities, women's and disabled persons' federations).

Province- and city-level helpers belong to the first batch; each county batch adds its own
federations, charities, enterprises and the helper units paired with its villages. Descriptions
are composed from per-capability phrases and the names of the regions served, so the text of a
helper and the text of a need it can meet share words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bangfu.vocabulary import HelperKind, NeedCategory
from graph.synthetic.layout import PROVINCE_CODE, PROVINCE_NAME, CountyPlan, Layout
from graph.synthetic.sampling import largest_remainder
from graph.synthetic.scales import (
    PROVINCE_CHARITIES,
    PROVINCE_ENTERPRISES,
    PROVINCE_VILLAGES,
)
from graph.synthetic.tables import Row

N = NeedCategory
K = HelperKind


@dataclass(frozen=True)
class Helper:
    helper_id: str
    kind: HelperKind
    name: str
    description: str
    capabilities: tuple[NeedCategory, ...]
    service_regions: tuple[str, ...]
    capacity: int
    home_region_code: str
    # Hidden truth for evaluating matching: chance a claim gets fulfilled, typical days to fulfil.
    quality: float
    speed_days: int

    def serves(self, region_code: str) -> bool:
        return any(region_code.startswith(code) for code in self.service_regions)

    def row(self) -> Row:
        return {
            "helper_id": self.helper_id,
            "kind": self.kind.value,
            "name": self.name,
            "description": self.description,
            "capabilities": ";".join(c.value for c in self.capabilities),
            "service_regions": ";".join(self.service_regions),
            "capacity": self.capacity,
            "home_region_code": self.home_region_code,
        }

    def truth_row(self) -> Row:
        return {
            "helper_id": self.helper_id,
            "true_quality": self.quality,
            "true_speed_days": self.speed_days,
        }


_ID_PREFIX = {
    K.HELPER_UNIT: "U",
    K.ENTERPRISE: "E",
    K.CHARITY: "C",
    K.WOMENS_FEDERATION: "W",
    K.DISABLED_FEDERATION: "D",
}
_QUALITY_BETA = {
    K.HELPER_UNIT: (8.0, 2.5),
    K.ENTERPRISE: (5.0, 2.5),
    K.CHARITY: (3.0, 2.0),
    K.WOMENS_FEDERATION: (7.0, 2.5),
    K.DISABLED_FEDERATION: (7.0, 2.0),
}
_SPEED_MEAN_DAYS = {
    K.HELPER_UNIT: 25.0,
    K.ENTERPRISE: 15.0,
    K.CHARITY: 18.0,
    K.WOMENS_FEDERATION: 20.0,
    K.DISABLED_FEDERATION: 30.0,
}

# Phrases saying what a helper does for each category; a description uses up to three.
_DOES: dict[NeedCategory, tuple[str, ...]] = {
    N.MEDICAL_AID: (
        "为因病致贫返贫家庭提供大病医疗救助和住院费用补助",
        "资助慢性病患者购药、透析和化疗费用",
        "开展义诊并为重病患者提供二次医疗救助",
    ),
    N.ASSISTIVE_DEVICE: (
        "为持证残疾人免费适配轮椅、助听器、假肢等辅助器具",
        "提供辅助器具评估适配和上门维修服务",
    ),
    N.TUITION: (
        "设立助学金资助困难家庭学生完成学业",
        "资助考上大学和中职的困难家庭学生学费和生活费",
        "为寄宿学生发放生活补助，防止因贫辍学",
    ),
    N.SKILLS_TRAINING: (
        "组织电工、焊工、家政、电商直播等职业技能培训",
        "开展果树栽培和畜禽养殖技术培训及田间指导",
        "举办育婴师、母婴护理、养老护理等家政服务培训",
    ),
    N.JOB: (
        "提供车间、保洁、物流等就业岗位，优先吸纳脱贫劳动力",
        "组织专场招聘会和劳务输出，帮助脱贫劳动力稳定就业",
        "开发乡村公益性岗位，安置弱劳动力就近就业",
    ),
    N.HOUSING_REPAIR: (
        "出资帮助困难户开展危房改造和房屋修缮",
        "为受灾家庭修复损毁房屋，保障住房安全",
    ),
    N.WATER: (
        "援建村级集中供水工程，铺设入户自来水管道",
        "为分散农户安装净水设备、修建蓄水池，解决饮水安全问题",
    ),
    N.FARM_INPUTS: (
        "免费提供种苗、化肥、饲料等农资，扶持发展种养产业",
        "以“公司+农户”模式赊销种苗并保价收购农产品",
    ),
    N.MICRO_CREDIT: (
        "发放免抵押、免担保的扶贫小额信贷",
        "提供贴息贷款支持脱贫户发展种养和小本经营",
    ),
    N.CARE: (
        "组织志愿者为独居老人和重度残疾人提供上门照料",
        "开展留守老人、留守儿童关爱探访服务",
        "提供日间照料、助餐和托养服务",
    ),
}

# Two-character trade names (字号) for charities and enterprises.
_BRAND_CHARS = (
    "春晖德馨善行同心阳光暖阳携手乐善仁爱启明明德厚德博爱晨曦青禾惠民益心丰年嘉禾金穗"
    "绿源润泽鸿运恒信宏达兴业华盛聚力众诚新农田园绿野山海翠峰南粤岭南客韵潮韵侨乡海韵"
    "长青永安康宁福源万家百合丰泽锦绣瑞丰东升远航正和致远立信诚达天禾绿康"
)
_BRANDS = tuple(_BRAND_CHARS[i : i + 2] for i in range(0, len(_BRAND_CHARS), 2))

# Charity themes: name patterns, capabilities always held, capabilities sometimes held, focus.
_CHARITY_THEMES: tuple[
    tuple[tuple[str, ...], tuple[NeedCategory, ...], tuple[NeedCategory, ...], str], ...
] = (
    (
        ("{brand}医疗救助基金会", "{place}{brand}大病救助基金会"),
        (N.MEDICAL_AID,),
        (N.ASSISTIVE_DEVICE, N.CARE),
        "因病致贫家庭",
    ),
    (
        ("{place}{brand}助学促进会", "{brand}教育基金会"),
        (N.TUITION,),
        (N.SKILLS_TRAINING,),
        "困难家庭学生",
    ),
    (
        ("{place}{brand}敬老协会", "{brand}长者关爱服务中心"),
        (N.CARE,),
        (N.MEDICAL_AID,),
        "农村独居和留守老人",
    ),
    (
        ("{place}{brand}助残志愿者协会", "{brand}康复服务中心"),
        (N.ASSISTIVE_DEVICE, N.CARE),
        (N.SKILLS_TRAINING, N.JOB),
        "重度残疾人",
    ),
    (
        ("{place}{brand}安居公益基金会", "{brand}乡村建设促进会"),
        (N.HOUSING_REPAIR,),
        (N.WATER,),
        "住房和饮水困难家庭",
    ),
    (
        ("{place}{brand}关爱留守儿童协会", "{brand}儿童公益基金会"),
        (N.TUITION, N.CARE),
        (),
        "留守儿童和困境儿童",
    ),
    (
        ("{place}{brand}公益基金会", "{place}{brand}义工联合会", "{place}乡贤{brand}公益基金会"),
        (N.MEDICAL_AID,),
        (N.TUITION, N.CARE, N.HOUSING_REPAIR, N.WATER, N.FARM_INPUTS),
        "困难群众",
    ),
)
# Enterprise lines of business: name patterns, capabilities, optional capabilities, business,
# share of enterprises, and how this line of business words its skills and job offers.
_ENTERPRISE_TYPES: tuple[
    tuple[
        tuple[str, ...],
        tuple[NeedCategory, ...],
        tuple[NeedCategory, ...],
        str,
        float,
        dict[NeedCategory, str],
    ],
    ...,
] = (
    (
        (
            "{place}{brand}农业发展有限公司",
            "{brand}生态农业科技有限公司",
            "{place}{brand}茶业有限公司",
            "{brand}果蔬专业合作社",
        ),
        (N.FARM_INPUTS, N.JOB),
        (N.SKILLS_TRAINING,),
        "特色种养和农产品销售",
        0.30,
        {
            N.SKILLS_TRAINING: "开展果树栽培和畜禽养殖技术培训及田间指导",
            N.JOB: "在种植基地和分拣车间提供季节性和长期岗位",
        },
    ),
    (
        ("{brand}食品有限公司", "{place}{brand}农产品加工有限公司"),
        (N.JOB,),
        (N.FARM_INPUTS, N.SKILLS_TRAINING),
        "农产品加工",
        0.12,
        {N.SKILLS_TRAINING: "开展食品加工岗前培训", N.JOB: "在加工车间提供包装、分拣等就业岗位"},
    ),
    (
        (
            "{brand}电子科技有限公司",
            "{brand}服装有限公司",
            "{brand}五金制品有限公司",
            "{brand}陶瓷有限公司",
        ),
        (N.JOB, N.SKILLS_TRAINING),
        (N.TUITION,),
        "制造业",
        0.20,
        {N.SKILLS_TRAINING: "开展电工、焊工、缝纫等岗前技能培训"},
    ),
    (
        ("{place}{brand}建筑工程有限公司", "{brand}水利水电工程有限公司"),
        (N.HOUSING_REPAIR,),
        (N.WATER, N.JOB),
        "建筑和水利工程",
        0.10,
        {N.JOB: "优先招用脱贫劳动力参与工程建设"},
    ),
    (
        ("{place}{brand}村镇银行", "{place}农村信用合作联社{brand}信用社"),
        (N.MICRO_CREDIT,),
        (N.TUITION,),
        "农村金融服务",
        0.08,
        {},
    ),
    (
        ("{brand}医药有限公司", "{brand}康复器材有限公司"),
        (N.MEDICAL_AID, N.ASSISTIVE_DEVICE),
        (N.CARE,),
        "医药和康复器材",
        0.06,
        {},
    ),
    (
        ("{place}{brand}电子商务有限公司", "{brand}物流有限公司"),
        (N.JOB, N.SKILLS_TRAINING),
        (N.FARM_INPUTS,),
        "电商和物流",
        0.08,
        {N.SKILLS_TRAINING: "开展电商直播和网店运营培训", N.JOB: "提供快递分拣、客服和配送岗位"},
    ),
    (
        ("{place}{brand}家政服务有限公司",),
        (N.JOB, N.SKILLS_TRAINING, N.CARE),
        (),
        "家政服务",
        0.06,
        {
            N.SKILLS_TRAINING: "开展家政服务、母婴护理和养老护理培训",
            N.JOB: "推荐学员到县城和珠三角从事家政工作",
        },
    ),
)

_PROVINCE_UNITS = (
    "广东省发展和改革委员会",
    "广东省教育厅",
    "广东省科学技术厅",
    "广东省工业和信息化厅",
    "广东省民政厅",
    "广东省财政厅",
    "广东省人力资源和社会保障厅",
    "广东省自然资源厅",
    "广东省生态环境厅",
    "广东省住房和城乡建设厅",
    "广东省交通运输厅",
    "广东省水利厅",
    "广东省农业农村厅",
    "广东省商务厅",
    "广东省文化和旅游厅",
    "广东省卫生健康委员会",
    "广东省审计厅",
    "广东省市场监督管理局",
    "广东省统计局",
    "广东省林业局",
    "广东省供销合作联社",
    "广东省气象局",
    "中山大学",
    "华南理工大学",
    "华南农业大学",
    "广东工业大学",
    "广东省人民医院",
    "广东电网有限责任公司",
    "广东省交通集团有限公司",
    "广东省能源集团有限公司",
    "广东省建筑工程集团有限公司",
    "中国农业银行广东省分行",
    "中国建设银行广东省分行",
    "中国邮政储蓄银行广东省分行",
)
_PRD_DISTRICTS = (
    "广州市越秀区",
    "广州市海珠区",
    "广州市天河区",
    "广州市白云区",
    "广州市黄埔区",
    "广州市番禺区",
    "广州市花都区",
    "广州市南沙区",
    "深圳市福田区",
    "深圳市罗湖区",
    "深圳市南山区",
    "深圳市宝安区",
    "深圳市龙岗区",
    "深圳市龙华区",
    "佛山市禅城区",
    "佛山市南海区",
    "佛山市顺德区",
    "珠海市香洲区",
    "珠海市斗门区",
    "东莞市",
    "中山市",
)
_LOCAL_DEPTS = (
    "发展和改革局",
    "教育局",
    "科技局",
    "工业和信息化局",
    "民政局",
    "财政局",
    "人力资源和社会保障局",
    "自然资源局",
    "生态环境局",
    "住房和城乡建设局",
    "交通运输局",
    "水务局",
    "农业农村局",
    "商务局",
    "文化广电旅游体育局",
    "卫生健康局",
    "审计局",
    "市场监督管理局",
    "统计局",
    "税务局",
    "公安局",
    "司法局",
    "应急管理局",
    "退役军人事务局",
    "医疗保障局",
    "供销合作社",
    "总工会",
    "团委",
    "人民医院",
    "农村商业银行",
)
_UNIT_CAPABILITIES = (
    N.MEDICAL_AID,
    N.TUITION,
    N.HOUSING_REPAIR,
    N.WATER,
    N.FARM_INPUTS,
    N.JOB,
    N.SKILLS_TRAINING,
    N.CARE,
    N.ASSISTIVE_DEVICE,
)
_WOMENS_CAPABILITIES = (N.SKILLS_TRAINING, N.JOB, N.CARE, N.TUITION, N.MICRO_CREDIT)
_DISABLED_CAPABILITIES = (N.ASSISTIVE_DEVICE, N.CARE, N.JOB, N.SKILLS_TRAINING, N.MEDICAL_AID)
# How the federations word what they do; they have programmes of their own.
_WOMENS_PHRASES = {
    N.SKILLS_TRAINING: "举办巾帼家政、电商直播等技能培训",
    N.JOB: "组织巾帼专场招聘会，帮助农村妇女就近就业",
    N.CARE: "开展留守儿童和留守老人关爱服务",
    N.TUITION: "开展“春蕾计划”资助困难家庭女童上学",
    N.MICRO_CREDIT: "协助发放妇女创业担保贷款",
}
_DISABLED_PHRASES = {
    N.ASSISTIVE_DEVICE: "为持证残疾人免费适配轮椅、助听器、假肢等辅助器具",
    N.CARE: "为重度残疾人提供托养和居家照护服务",
    N.JOB: "推进残疾人按比例就业和辅助性就业",
    N.SKILLS_TRAINING: "举办残疾人实用技术培训",
    N.MEDICAL_AID: "实施残疾人精准康复和白内障复明手术救助",
}


@dataclass(frozen=True)
class HelperCounts:
    """How many charities and enterprises sit at each level, scaled to the scale's villages."""

    province_charities: int
    city_charities: int
    county_charities: tuple[int, ...]
    province_enterprises: int
    city_enterprises: int
    county_enterprises: tuple[int, ...]

    @classmethod
    def for_layout(cls, layout: Layout) -> HelperCounts:
        villages = np.array([len(c.villages) for c in layout.counties], dtype=np.float64)
        f = villages.sum() / PROVINCE_VILLAGES
        charities = PROVINCE_CHARITIES * f
        enterprises = PROVINCE_ENTERPRISES * f
        prov_c, city_c = round(0.10 * charities), round(0.15 * charities)
        prov_e, city_e = round(0.05 * enterprises), round(0.15 * enterprises)
        # Every scale has at least one helper of each kind, at county level if nowhere else.
        county_c = largest_remainder(max(1, round(charities) - prov_c - city_c), villages)
        county_e = largest_remainder(max(1, round(enterprises) - prov_e - city_e), villages)
        return cls(
            province_charities=prov_c,
            city_charities=city_c,
            county_charities=tuple(int(x) for x in county_c),
            province_enterprises=prov_e,
            city_enterprises=city_e,
            county_enterprises=tuple(int(x) for x in county_e),
        )


class _Builder:
    """Creates helpers of one batch, numbering ids per (kind, region) and drawing their truth."""

    def __init__(self, rng: np.random.Generator, region_code: str) -> None:
        self.rng = rng
        self.region_code = region_code
        self.helpers: list[Helper] = []
        self._seq: dict[HelperKind, int] = {}

    def pick(self, options: Sequence[str]) -> str:
        return options[int(self.rng.integers(len(options)))]

    def subset(
        self, core: Sequence[NeedCategory], optional: Sequence[NeedCategory], p: float = 0.5
    ) -> tuple[NeedCategory, ...]:
        extra = [c for c in optional if self.rng.random() < p]
        chosen = set(core) | set(extra)
        return tuple(c for c in NeedCategory if c in chosen)

    def add(
        self,
        kind: HelperKind,
        name: str,
        intro: str,
        *,
        capabilities: tuple[NeedCategory, ...],
        regions: tuple[str, ...],
        where: str,
        capacity: int,
        home: str,
        phrases: dict[NeedCategory, str] | None = None,
    ) -> Helper:
        seq = self._seq.get(kind, 0) + 1
        self._seq[kind] = seq
        a, b = _QUALITY_BETA[kind]
        mean_days = _SPEED_MEAN_DAYS[kind]
        helper = Helper(
            helper_id=f"{_ID_PREFIX[kind]}{self.region_code}-{seq:04d}",
            kind=kind,
            name=name,
            description=self._describe(intro, capabilities, where, phrases or {}),
            capabilities=capabilities,
            service_regions=regions,
            capacity=int(np.clip(capacity, 2, 200)),
            home_region_code=home,
            quality=round(float(self.rng.beta(a, b)), 3),
            speed_days=max(1, round(float(self.rng.gamma(3.0, mean_days / 3.0)))),
        )
        self.helpers.append(helper)
        return helper

    def _describe(
        self,
        intro: str,
        capabilities: Sequence[NeedCategory],
        where: str,
        phrases: dict[NeedCategory, str],
    ) -> str:
        shown = list(capabilities)
        if len(shown) > 3:
            idx = sorted(self.rng.choice(len(shown), size=3, replace=False).tolist())
            shown = [shown[i] for i in idx]
        does = "；".join(phrases.get(c) or self.pick(_DOES[c]) for c in shown)
        closing = self.pick(
            (
                f"服务范围覆盖{where}。",
                f"重点服务{where}的脱贫户和监测户。",
                f"主要在{where}开展帮扶。",
            )
        )
        return f"{intro}{does}。{closing}"

    def lognormal_int(self, median: float, sigma: float) -> int:
        return int(self.rng.lognormal(np.log(median), sigma))


def _federations(
    b: _Builder, code: str, place: str, *, level: str, capacity: tuple[int, int], full: bool
) -> None:
    low, high = capacity
    womens = (
        _WOMENS_CAPABILITIES
        if full
        else b.subset((N.SKILLS_TRAINING, N.JOB), (N.CARE, N.TUITION, N.MICRO_CREDIT), 0.6)
    )
    b.add(
        K.WOMENS_FEDERATION,
        f"{place}妇女联合会",
        b.pick(
            (
                f"{place}妇联是党和政府联系妇女群众的桥梁和纽带，",
                f"{place}妇联长期关注辖区内农村困难妇女和留守儿童，",
                f"{place}妇联围绕巾帼脱贫和乡村振兴开展工作，",
            )
        ),
        capabilities=tuple(c for c in NeedCategory if c in womens),
        regions=(code,),
        where=place if level != "全省" else "全省各地",
        capacity=int(b.rng.integers(low, high + 1)),
        home=code,
        phrases=_WOMENS_PHRASES,
    )
    disabled = (
        _DISABLED_CAPABILITIES
        if full
        else b.subset((N.ASSISTIVE_DEVICE, N.CARE), (N.JOB, N.SKILLS_TRAINING, N.MEDICAL_AID), 0.6)
    )
    b.add(
        K.DISABLED_FEDERATION,
        f"{place}残疾人联合会",
        b.pick(
            (
                f"{place}残联负责{level}残疾人事业的组织协调和康复服务，",
                f"{place}残联为{level}持证残疾人提供康复、就业和托养服务，",
                f"{place}残联落实残疾人两项补贴并推进残疾人精准康复，",
            )
        ),
        capabilities=tuple(c for c in NeedCategory if c in disabled),
        regions=(code,),
        where=place if level != "全省" else "全省各地",
        capacity=int(b.rng.integers(low, high + 1)),
        home=code,
        phrases=_DISABLED_PHRASES,
    )


def _charity(
    b: _Builder, place: str, *, regions: tuple[str, ...], where: str, home: str, size: float
) -> None:
    theme = _CHARITY_THEMES[int(b.rng.integers(len(_CHARITY_THEMES)))]
    patterns, core, optional, focus = theme
    name = b.pick(patterns).format(place=place, brand=b.pick(_BRANDS))
    year = int(b.rng.integers(1995, 2022))
    intro = b.pick(
        (
            f"{name}成立于{year}年，是关注{focus}的公益慈善组织，",
            f"{name}由本地企业家和乡贤发起，长期帮扶{focus}，",
            f"{name}是在民政部门登记的慈善组织，面向{focus}，",
        )
    )
    b.add(
        K.CHARITY,
        name,
        intro,
        capabilities=b.subset(core, optional, 0.4),
        regions=regions,
        where=where,
        capacity=int(b.lognormal_int(15, 0.7) * size),
        home=home,
    )


def _enterprise(
    b: _Builder, place: str, *, regions: tuple[str, ...], where: str, home: str, size: float
) -> None:
    shares = np.array([t[4] for t in _ENTERPRISE_TYPES])
    patterns, core, optional, business, _, phrases = _ENTERPRISE_TYPES[
        int(b.rng.choice(len(_ENTERPRISE_TYPES), p=shares / shares.sum()))
    ]
    name = b.pick(patterns).format(place=place, brand=b.pick(_BRANDS))
    staff = int(b.lognormal_int(120, 0.9)) + 10
    intro = b.pick(
        (
            f"{name}是一家从事{business}的企业，现有员工{staff}人，",
            f"{name}主营{business}，积极参与“万企帮万村”行动，",
            f"{name}扎根本地{business}行业多年，",
        )
    )
    b.add(
        K.ENTERPRISE,
        name,
        intro,
        capabilities=b.subset(core, optional, 0.5),
        regions=regions,
        where=where,
        capacity=int(b.lognormal_int(25, 0.7) * size),
        home=home,
        phrases=phrases,
    )


def province_helpers(
    layout: Layout, counts: HelperCounts, rng: np.random.Generator
) -> list[Helper]:
    """Province and city federations, and the charities and enterprises above county level."""
    b = _Builder(rng, PROVINCE_CODE)
    _federations(b, PROVINCE_CODE, PROVINCE_NAME, level="全省", capacity=(150, 200), full=True)
    for _ in range(counts.province_charities):
        _charity(
            b, PROVINCE_NAME, regions=(PROVINCE_CODE,), where="全省", home=PROVINCE_CODE, size=3.0
        )
    for _ in range(counts.province_enterprises):
        chosen = rng.choice(
            len(layout.cities), size=min(len(layout.cities), int(rng.integers(2, 5))), replace=False
        )
        cities = [layout.cities[i] for i in sorted(chosen.tolist())]
        _enterprise(
            b,
            "广东",
            regions=tuple(c.code for c in cities),
            where="、".join(c.name for c in cities),
            home=PROVINCE_CODE,
            size=2.0,
        )
    helpers = b.helpers
    # City-level helpers go round-robin from a random city so small scales still get some.
    offset = int(rng.integers(len(layout.cities)))
    for i, city in enumerate(layout.cities):
        cb = _Builder(rng, city.code)
        _federations(cb, city.code, city.name, level="全市", capacity=(40, 120), full=True)
        n_c = _share(counts.city_charities, len(layout.cities), (i + offset) % len(layout.cities))
        n_e = _share(counts.city_enterprises, len(layout.cities), (i + offset) % len(layout.cities))
        for _ in range(n_c):
            _charity(cb, city.name, regions=(city.code,), where=city.name, home=city.code, size=2.0)
        for _ in range(n_e):
            _enterprise(
                cb, city.name, regions=(city.code,), where=city.name, home=city.code, size=1.5
            )
        helpers += cb.helpers
    return helpers


def _share(total: int, parts: int, i: int) -> int:
    return total // parts + (1 if i < total % parts else 0)


@dataclass(frozen=True)
class CountyHelpers:
    helpers: list[Helper]
    # The helper unit paired with each of the county's villages, in county.villages order.
    village_unit: list[Helper]


def county_helpers(
    county: CountyPlan, charities: int, enterprises: int, rng: np.random.Generator
) -> CountyHelpers:
    b = _Builder(rng, county.code)
    _federations(b, county.code, county.name, level="全县", capacity=(15, 60), full=False)
    for _ in range(charities):
        if len(county.towns) > 1 and rng.random() < 0.3:
            k = int(rng.integers(1, min(3, len(county.towns)) + 1))
            towns = [
                county.towns[i] for i in sorted(rng.choice(len(county.towns), k, False).tolist())
            ]
            regions = tuple(t.code for t in towns)
            where = county.name + "、".join(t.name for t in towns)
        else:
            regions, where = (county.code,), county.name
        _charity(b, county.name, regions=regions, where=where, home=county.code, size=1.0)
    for _ in range(enterprises):
        _enterprise(
            b, county.name, regions=(county.code,), where=county.name, home=county.code, size=1.0
        )

    village_unit: list[Helper] = []
    villages = county.villages
    town_name = {v.code: t.name for t in county.towns for v in t.villages}
    # A unit is paired with 1-4 neighbouring villages, 2.5 on average (one unit per 2-3 villages).
    group_sizes = rng.choice([1, 2, 3, 4], size=len(villages), p=[0.15, 0.35, 0.35, 0.15])
    i = 0
    for g in group_sizes.tolist():
        if i >= len(villages):
            break
        group = villages[i : i + g]
        i += g
        where = county.name + "、".join(town_name[v.code] + v.name for v in group)
        unit = _unit(b, county, tuple(v.code for v in group), where, len(group))
        village_unit += [unit] * len(group)
    return CountyHelpers(helpers=b.helpers, village_unit=village_unit)


def _unit(
    b: _Builder, county: CountyPlan, villages: tuple[str, ...], where: str, n_villages: int
) -> Helper:
    source = b.rng.random()
    if source < 0.25:
        name, home = b.pick(_PROVINCE_UNITS), PROVINCE_CODE
    elif source < 0.55:
        # Pearl River Delta units are based outside the 14 cities; home is the province.
        name, home = b.pick(_PRD_DISTRICTS) + b.pick(_LOCAL_DEPTS), PROVINCE_CODE
    elif source < 0.8:
        name, home = county.city_name + b.pick(_LOCAL_DEPTS), county.city_code
    else:
        name, home = county.name + b.pick(_LOCAL_DEPTS), county.code
    k = int(b.rng.integers(5, 9))
    chosen = b.rng.choice(len(_UNIT_CAPABILITIES), size=k, replace=False).tolist()
    caps = {_UNIT_CAPABILITIES[j] for j in chosen}
    if "银行" in name:
        caps.add(N.MICRO_CREDIT)
    intro = b.pick(
        (
            f"{name}按照“定单位、定人、定点、定责”的要求开展结对帮扶，",
            f"{name}派驻第一书记和驻村工作队常驻帮扶村，",
            f"{name}是{county.name}的结对帮扶单位，",
        )
    )
    capacity = 10 + 12 * n_villages + int(b.rng.integers(0, 21))
    return b.add(
        K.HELPER_UNIT,
        name,
        intro,
        capabilities=tuple(c for c in NeedCategory if c in caps),
        regions=villages,
        where=where,
        capacity=capacity,
        home=home,
    )
