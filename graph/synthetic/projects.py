"""Poverty-alleviation projects of one county: their stage, milestones, money by source and the
households each one benefits (带贫益贫), with anomalies planted at known rates.

What the project checks (graph/repositories/projects.py) must find is written to the
`project_anomaly_truth` table (never loaded, like helper_truth). Clean projects keep clear of
every check's threshold with a margin, so each check finds exactly the planted cases for any
threshold inside the margins:
- money ahead of progress: clean projects at most 0.1 (plus rounding) of the allocation ahead,
  planted ones at least 0.5: any `advance_share` in [0.15, 0.5) (default 0.3);
- stalled: clean active projects achieved a milestone (or were approved) at most 100 days before
  AS_OF, planted ones 260-400 days: any `stall_days` in [100, 260) (default 180);
- beneficiaries: drawn from poor and monitored households only; planted projects add one exited
  household;
- too many projects: no household benefits from more than CLEAN_MAX_PROJECTS (4); planted
  households benefit from PLANTED_PROJECTS (8): any threshold in [4, 8) (default 5).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from bangfu.vocabulary import FundSource, ProjectAnomaly, ProjectStage, ProjectType
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
# The main source as the project record names it, and its FundSource.
_FUND_SOURCES = (
    "中央财政专项扶贫资金",
    "省级财政专项扶贫资金",
    "市县财政配套资金",
    "珠三角对口帮扶资金",
    "统筹整合涉农资金",
    "社会帮扶资金",
    "帮扶单位自筹资金",
)
_SOURCE_OF = {
    "中央财政专项扶贫资金": FundSource.CENTRAL,
    "省级财政专项扶贫资金": FundSource.PROVINCIAL,
    "市县财政配套资金": FundSource.CITY,
    "珠三角对口帮扶资金": FundSource.EAST_WEST,
    "统筹整合涉农资金": FundSource.COUNTY,
    "社会帮扶资金": FundSource.SOCIAL,
    "帮扶单位自筹资金": FundSource.SELF_RAISED,
}
_SOURCES = tuple(FundSource)
# Milestones of every project: its progress once each is achieved.
_MILESTONES = (("立项设计与招标", 25), ("开工建设", 50), ("主体完工", 75), ("竣工验收", 100))
CLEAN_MAX_PROJECTS = 4
PLANTED_PROJECTS = 8
# Planting rates: of active (approved or implementation) projects, stalled and money ahead of
# progress; of all projects, one exited household among the beneficiaries; per county, households
# written into too many projects (when the county has enough county-wide projects for it).
STALLED_RATE = 0.10
UNEARNED_RATE = 0.15
INELIGIBLE_RATE = 0.04
TOO_MANY_PER_COUNTY = 2
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


def _day(base: date, days: int) -> str:
    return (base + timedelta(days=days)).isoformat()


def _split(rng: np.random.Generator, total: int, parts: int) -> list[int]:
    """`total` yuan in `parts` shares rounded to 100 yuan, the first the largest; sums exactly."""
    if parts == 1:
        return [total]
    shares = np.sort(rng.dirichlet(np.full(parts, 2.0)))[::-1]
    amounts = [int(round(total * float(x), -2)) for x in shares[1:]]
    return [total - sum(amounts), *amounts]


def _pay(parts: list[int], disbursed: int) -> list[int]:
    """Disbursed money by source, in proportion to what each allocated (100-yuan steps), never
    more than a source allocated; sums exactly to `disbursed` (at most the sum of `parts`)."""
    total = sum(parts)
    paid = [0, *(min(a, disbursed * a // total // 100 * 100) for a in parts[1:])]
    paid[0] = disbursed - sum(paid)
    k = 1
    while paid[0] > parts[0]:  # rounding left the main source short of room: others take it
        move = min(paid[0] - parts[0], parts[k] - paid[k])
        paid[k] += move
        paid[0] -= move
        k += 1
    return paid


def build_projects(
    county: CountyPlan, pop: Population, rng: np.random.Generator
) -> dict[str, list[Row]]:
    """About one project per two villages; 3 in 4 belong to one village, the rest to the county.
    Returns the tables projects, project_beneficiaries, project_milestones, project_funds and
    project_anomaly_truth."""
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
    stalled = rng.random(n) < STALLED_RATE
    unearned = rng.random(n) < UNEARNED_RATE
    ineligible = rng.random(n) < INELIGIBLE_RATE

    def pick(options: tuple[str, ...]) -> str:
        return options[int(rng.integers(len(options)))]

    eligible = pop.status != 0  # STATUSES[0] is exited: poor and monitored households qualify
    counts = np.zeros(pop.size.size, dtype=np.int64)  # projects each household benefits from
    projects: list[Row] = []
    members: list[list[int]] = []
    milestones: list[Row] = []
    funds: list[Row] = []
    truth: list[Row] = []
    county_wide: list[int] = []
    as_of = AS_OF.toordinal()
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
        budget = int(
            round(_MEDIAN_FUNDS[ptype] * (1 if local else 3) * rng.lognormal(0.0, 0.5), -3)
        )
        budget = max(budget, 10_000)
        first_year, last_year = _START_YEARS[int(stage[i])]
        start = date(int(rng.integers(first_year, last_year + 1)), 1, 1).toordinal()
        start += int(rng.integers(0, 365))
        start = min(start, as_of)
        project_id = f"P{county.code}{i + 1:04d}"

        # Timeline and progress by stage (see the module docstring for the margins).
        active = pstage in (ProjectStage.APPROVED, ProjectStage.IMPLEMENTATION)
        is_stalled = active and bool(stalled[i])
        is_unearned = active and bool(unearned[i])
        achieved = 0
        approved: int | None = None
        last: int | None = None
        if pstage is ProjectStage.APPROVED:
            gap = int(rng.integers(260, 401)) if is_stalled else int(rng.integers(10, 101))
            approved = as_of - gap
        elif pstage is ProjectStage.IMPLEMENTATION:
            achieved = 1 if is_unearned else int(rng.integers(1, 4))
            gap = int(rng.integers(260, 401)) if is_stalled else int(rng.integers(5, 101))
            last = as_of - gap
            approved = last - int(rng.integers(40 * achieved, 300))
        elif pstage in (ProjectStage.OPERATION, ProjectStage.COMPLETED):
            achieved = len(_MILESTONES)
            approved = start
            last = min(as_of, start + int(rng.integers(180, 541)))
        if approved is not None and active:
            start = approved
        progress = _MILESTONES[achieved - 1][1] if achieved else 0
        if pstage is ProjectStage.PROPOSED:
            allocated, disbursed = 0, 0  # no money before approval
        else:
            allocated = budget
            if is_unearned:
                share = float(rng.uniform(0.8, 1.0)) if achieved else float(rng.uniform(0.6, 0.9))
            elif pstage is ProjectStage.COMPLETED:
                share = 1.0
            elif pstage is ProjectStage.OPERATION:
                share = float(rng.uniform(0.85, 1.0))
            elif pstage is ProjectStage.APPROVED:
                share = float(rng.uniform(0.0, 0.1))
            else:
                share = float(rng.uniform(max(0.0, progress / 100 - 0.1), progress / 100 + 0.1))
            disbursed = min(allocated, int(round(allocated * share, -2)))
        if is_stalled:
            truth.append(
                {"rule": ProjectAnomaly.STALLED.value, "project_id": project_id, "household_id": ""}
            )
        if is_unearned:
            truth.append(
                {
                    "rule": ProjectAnomaly.DISBURSED_WITHOUT_PROGRESS.value,
                    "project_id": project_id,
                    "household_id": "",
                }
            )

        # Milestones planned evenly over the build; the first `achieved` of them done.
        if approved is not None:
            span = int(rng.integers(240, 720))
            for seq, (name, pct) in enumerate(_MILESTONES, start=1):
                done = ""
                if seq <= achieved:
                    assert last is not None
                    done = date.fromordinal(
                        last - (achieved - seq) * (last - approved) // max(achieved, 1)
                    ).isoformat()
                milestones.append(
                    {
                        "id": f"{project_id}-M{seq:02d}",
                        "project_id": project_id,
                        "seq": seq,
                        "name": name,
                        "planned_date": date.fromordinal(approved + span * seq // 4).isoformat(),
                        "achieved_date": done,
                        "progress_pct": pct,
                    }
                )

        # Money by source: the main source and up to two others.
        main_name = pick(_FUND_SOURCES)
        main = _SOURCE_OF[main_name]
        others = [s for s in _SOURCES if s is not main]
        extra = int(rng.integers(0, 3))
        chosen = [main, *(others[int(j)] for j in rng.choice(len(others), extra, replace=False))]
        if allocated:
            parts = _split(rng, allocated, len(chosen))
            paid = _pay(parts, disbursed)
            for source, a, d in zip(chosen, parts, paid, strict=True):
                funds.append(
                    {
                        "id": f"{project_id}:{source.value}",
                        "project_id": project_id,
                        "source": source.value,
                        "allocated": a,
                        "disbursed": d,
                    }
                )

        projects.append(
            {
                "project_id": project_id,
                "name": pick(_NAMES[ptype]).format(**fields),
                "type": ptype.value,
                "stage": pstage.value,
                "county_code": county.code,
                "village_code": v.code if local else "",
                "fund_source": main_name,
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
                "budget": budget,
                "progress_pct": progress,
                "approved_at": date.fromordinal(approved).isoformat() if approved else "",
                "last_milestone_at": date.fromordinal(last).isoformat() if last else "",
            }
        )

        # Beneficiaries: poor and monitored households of the project's region, none of them
        # in more than CLEAN_MAX_PROJECTS projects.
        if local:
            first, size = int(village_first[int(village[i])]), v.households
        else:
            first, size = 0, pop.size.size
            county_wide.append(i)
        region = np.arange(first, first + size)
        pool = region[eligible[region] & (counts[region] < CLEAN_MAX_PROJECTS)]
        take = min(pool.size, int(n_beneficiaries[i]))
        chosen_h = rng.choice(pool, size=take, replace=False).tolist() if take else []
        if ineligible[i]:
            exited = region[~eligible[region] & (counts[region] < CLEAN_MAX_PROJECTS)]
            if exited.size:
                h = int(exited[int(rng.integers(exited.size))])
                chosen_h.append(h)
                truth.append(
                    {
                        "rule": ProjectAnomaly.INELIGIBLE_BENEFICIARY.value,
                        "project_id": project_id,
                        "household_id": pop.household_ids[h],
                    }
                )
        counts[chosen_h] += 1
        members.append(chosen_h)

    # Households written into too many projects: eligible ones, added to county-wide projects.
    if len(county_wide) >= PLANTED_PROJECTS + CLEAN_MAX_PROJECTS:
        candidates = np.flatnonzero(eligible & (counts <= CLEAN_MAX_PROJECTS))
        planted = rng.choice(
            candidates, size=min(TOO_MANY_PER_COUNTY, candidates.size), replace=False
        )
        for h in sorted(int(x) for x in planted):
            free = [i for i in county_wide if h not in members[i]]
            need = PLANTED_PROJECTS - int(counts[h])
            for i in rng.choice(len(free), size=need, replace=False).tolist():
                members[free[i]].append(h)
            counts[h] = PLANTED_PROJECTS
            truth.append(
                {
                    "rule": ProjectAnomaly.TOO_MANY_PROJECTS.value,
                    "project_id": "",
                    "household_id": pop.household_ids[h],
                }
            )

    beneficiaries = [
        {"project_id": projects[i]["project_id"], "household_id": pop.household_ids[h]}
        for i, chosen_h in enumerate(members)
        for h in sorted(chosen_h)
    ]
    return {
        "projects": projects,
        "project_beneficiaries": beneficiaries,
        "project_milestones": milestones,
        "project_funds": funds,
        "project_anomaly_truth": truth,
    }
