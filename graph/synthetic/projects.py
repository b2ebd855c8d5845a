"""Poverty-alleviation projects of one county and the households each one benefits (带贫益贫)."""

from __future__ import annotations

from datetime import date

import numpy as np

from bangfu.vocabulary import ProjectStage, ProjectType
from graph.synthetic.households import Population
from graph.synthetic.layout import CountyPlan
from graph.synthetic.sampling import categorical, uniform_int
from graph.synthetic.scales import AS_OF
from graph.synthetic.tables import Row

_TYPES = tuple(ProjectType)
_TYPE_P = {
    ProjectType.INDUSTRY: 0.38,
    ProjectType.INFRASTRUCTURE: 0.20,
    ProjectType.EMPLOYMENT: 0.10,
    ProjectType.HOUSING: 0.08,
    ProjectType.WATER: 0.09,
    ProjectType.EDUCATION: 0.08,
    ProjectType.HEALTH: 0.07,
}
_STAGES = tuple(ProjectStage)
_STAGE_P = (
    0.05,
    0.10,
    0.20,
    0.30,
    0.35,
)  # proposed, approved, implementation, operation, completed
# Share of the allocation paid out, by stage (low, high).
_DISBURSED = ((0.0, 0.0), (0.0, 0.1), (0.2, 0.8), (0.85, 1.0), (1.0, 1.0))
# First and last start year by stage.
_START_YEARS = ((2025, 2026), (2025, 2026), (2023, 2025), (2016, 2023), (2016, 2022))
_MEDIAN_FUNDS = {
    ProjectType.INDUSTRY: 500_000,
    ProjectType.INFRASTRUCTURE: 800_000,
    ProjectType.EMPLOYMENT: 300_000,
    ProjectType.HOUSING: 400_000,
    ProjectType.WATER: 600_000,
    ProjectType.EDUCATION: 500_000,
    ProjectType.HEALTH: 300_000,
}
_CROPS = (
    "百香果",
    "沙糖桔",
    "油茶",
    "茶叶",
    "蜜柚",
    "丝苗米",
    "砂仁",
    "三华李",
    "蔬菜",
    "花卉苗木",
)
_ANIMALS = ("鸡", "鹅", "肉牛", "生猪", "蜜蜂", "罗非鱼")
_NAMES: dict[ProjectType, tuple[str, ...]] = {
    ProjectType.INDUSTRY: (
        "{place}{crop}种植基地建设项目",
        "{place}{animal}养殖扶贫项目",
        "{place}光伏扶贫电站项目",
        "{place}农产品加工车间项目",
        "{place}{crop}产业园项目",
    ),
    ProjectType.INFRASTRUCTURE: (
        "{place}道路硬底化工程",
        "{place}路灯安装工程",
        "{place}文化广场建设项目",
        "{place}桥梁修建工程",
    ),
    ProjectType.EMPLOYMENT: (
        "{place}扶贫车间建设项目",
        "{place}脱贫劳动力技能培训项目",
        "{place}公益性岗位开发项目",
    ),
    ProjectType.HOUSING: ("{place}农村危房改造项目", "{place}危旧房拆除重建项目"),
    ProjectType.WATER: (
        "{place}集中供水工程",
        "{place}农田水利灌溉工程",
        "{place}饮水安全巩固提升工程",
    ),
    ProjectType.EDUCATION: (
        "{place}小学校舍改造项目",
        "{place}困难学生助学项目",
        "{place}幼儿园建设项目",
    ),
    ProjectType.HEALTH: (
        "{place}卫生站标准化建设项目",
        "{place}大病医疗救助项目",
        "{place}卫生室设备购置项目",
    ),
}
_MANAGING_DEPT = {
    ProjectType.INDUSTRY: "农业农村局",
    ProjectType.INFRASTRUCTURE: "交通运输局",
    ProjectType.EMPLOYMENT: "人力资源和社会保障局",
    ProjectType.HOUSING: "住房和城乡建设局",
    ProjectType.WATER: "水务局",
    ProjectType.EDUCATION: "教育局",
    ProjectType.HEALTH: "卫生健康局",
}
_FUND_SOURCES = (
    "中央财政专项扶贫资金",
    "省级财政专项扶贫资金",
    "市县财政配套资金",
    "珠三角对口帮扶资金",
    "统筹整合涉农资金",
    "社会帮扶资金",
    "帮扶单位自筹资金",
)
_OPERATORS: dict[ProjectType, tuple[str, ...]] = {
    ProjectType.INDUSTRY: (
        "{village}股份经济合作社",
        "{county}{brand}农业专业合作社",
        "{brand}农业发展有限公司",
    ),
    ProjectType.INFRASTRUCTURE: (
        "{town}人民政府",
        "{village}村民委员会",
        "{brand}建筑工程有限公司",
    ),
    ProjectType.EMPLOYMENT: (
        "{brand}服装有限公司",
        "{county}职业技术学校",
        "{village}股份经济合作社",
    ),
    ProjectType.HOUSING: ("{town}人民政府", "{brand}建筑工程有限公司"),
    ProjectType.WATER: (
        "{county}供水有限公司",
        "{village}村民委员会",
        "{brand}水利水电工程有限公司",
    ),
    ProjectType.EDUCATION: ("{town}中心小学", "{county}教育基金会", "{town}中心幼儿园"),
    ProjectType.HEALTH: ("{town}卫生院", "{county}人民医院", "{village}卫生站"),
}
_BRANDS = (
    "丰源",
    "金穗",
    "绿野",
    "嘉禾",
    "兴农",
    "宏达",
    "恒信",
    "南粤",
    "青山",
    "瑞丰",
    "众诚",
    "富民",
)
_SUPERVISORS = ("{county}纪委监委", "{county}财政局", "{county}审计局", "{town}纪委")


def build_projects(
    county: CountyPlan, pop: Population, rng: np.random.Generator
) -> tuple[list[Row], list[Row]]:
    """About one project per two villages; 3 in 4 belong to one village, the rest to the county."""
    villages = county.villages
    town_of = {v.code: t for t in county.towns for v in t.villages}
    village_households = np.array([v.households for v in villages], dtype=np.int64)
    village_first = np.concatenate(([0], np.cumsum(village_households)[:-1]))
    n = max(1, round(len(villages) / 2))
    kind = categorical(rng, list(_TYPE_P.values()), n)
    stage = categorical(rng, _STAGE_P, n)
    at_village = rng.random(n) < 0.75
    village = rng.choice(len(villages), size=n, p=village_households / village_households.sum())
    n_beneficiaries = uniform_int(rng, 5, 40, n)

    def pick(options: tuple[str, ...]) -> str:
        return options[int(rng.integers(len(options)))]

    projects: list[Row] = []
    beneficiaries: list[Row] = []
    n_h = pop.size.size
    for i in range(n):
        ptype = _TYPES[int(kind[i])]
        pstage = _STAGES[int(stage[i])]
        v = villages[int(village[i])]
        town = town_of[v.code]
        local = bool(at_village[i])
        place = f"{town.name}{v.name}" if local else county.name
        fields = {
            "place": place,
            "crop": pick(_CROPS),
            "animal": pick(_ANIMALS),
            "village": v.name,
            "town": town.name,
            "county": county.name,
            "brand": pick(_BRANDS),
        }
        allocated = int(
            round(_MEDIAN_FUNDS[ptype] * (1 if local else 3) * rng.lognormal(0.0, 0.5), -3)
        )
        allocated = max(allocated, 10_000)
        low, high = _DISBURSED[int(stage[i])]
        disbursed = min(allocated, int(round(allocated * rng.uniform(low, high), -2)))
        first_year, last_year = _START_YEARS[int(stage[i])]
        start = date(int(rng.integers(first_year, last_year + 1)), 1, 1).toordinal()
        start += int(rng.integers(0, 365))
        start = min(start, AS_OF.toordinal())
        project_id = f"P{county.code}{i + 1:04d}"
        projects.append(
            {
                "project_id": project_id,
                "name": pick(_NAMES[ptype]).format(**fields),
                "type": ptype.value,
                "stage": pstage.value,
                "county_code": county.code,
                "village_code": v.code if local else "",
                "fund_source": pick(_FUND_SOURCES),
                "funds_allocated": allocated,
                "funds_disbursed": disbursed,
                "managing_body": (
                    f"{county.name}{_MANAGING_DEPT[ptype]}"
                    if rng.random() < 0.7 or not local
                    else f"{town.name}人民政府"
                ),
                "operating_body": pick(_OPERATORS[ptype]).format(**fields),
                "supervising_body": pick(_SUPERVISORS).format(**fields),
                "start_date": date.fromordinal(start).isoformat(),
            }
        )
        if local:
            first, count = int(village_first[int(village[i])]), v.households
        else:
            first, count = 0, n_h
        chosen = first + rng.choice(count, size=min(count, int(n_beneficiaries[i])), replace=False)
        beneficiaries += [
            {"project_id": project_id, "household_id": pop.household_ids[h]}
            for h in np.sort(chosen).tolist()
        ]
    return projects, beneficiaries
