"""The synthetic generator: determinism, calibration, format validity and referential integrity.

Village and county scales are generated for real; the province is checked through its layout,
which fixes every count the province run then reproduces.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from bangfu.identity import validate_national_id, validate_phone
from bangfu.vocabulary import (
    CadreRole,
    Employment,
    Health,
    HelperKind,
    HouseholdStatus,
    LabourAbility,
    MonitorType,
    NeedCategory,
    NeedKind,
    NeedStatus,
    PovertyCause,
    ProjectAnomaly,
    ProjectStage,
    ProjectType,
    RegionLevel,
    Relation,
    Schooling,
    Sex,
    Urgency,
)
from graph.synthetic import (
    TABLE_COLUMNS,
    Batch,
    Scale,
    build_layout,
    generate,
    province_layout,
    write_csv,
)
from graph.synthetic.helpers import HelperCounts
from graph.synthetic.identifiers import PHONE_PREFIXES
from graph.synthetic.layout import households_by_cause_total
from graph.synthetic.sampling import apportion, largest_remainder
from graph.synthetic.scales import CALIBRATION, MAIN_CAUSE_SHARES

Row = dict[str, object]
COUNTY_SEED = 11
CLAIMED = {"claimed", "in_progress", "fulfilled", "confirmed", "closed"}
DONE = {"fulfilled", "confirmed", "closed"}


@pytest.fixture(scope="module")
def county() -> list[Batch]:
    return list(generate(Scale.COUNTY, COUNTY_SEED))


@pytest.fixture(scope="module")
def village() -> list[Batch]:
    return list(generate(Scale.VILLAGE, 5))


def rows(batches: list[Batch], table: str) -> list[Row]:
    return [r for b in batches for r in b.tables[table]]


def by_id(batches: list[Batch], table: str, key: str) -> dict[object, Row]:
    return {r[key]: r for r in rows(batches, table)}


# --- shape and determinism ---------------------------------------------------------------


@pytest.mark.parametrize("scale_fixture", ["village", "county"])
def test_every_batch_has_every_table_with_exact_columns_and_plain_values(
    scale_fixture: str, request: pytest.FixtureRequest
) -> None:
    batches: list[Batch] = request.getfixturevalue(scale_fixture)
    assert len(batches) == 2  # the upper-level batch and one county
    for batch in batches:
        assert set(batch.tables) == set(TABLE_COLUMNS)
        for table, table_rows in batch.tables.items():
            for row in table_rows:
                assert tuple(row) == TABLE_COLUMNS[table]
                for value in row.values():
                    assert type(value) in (str, int, float, bool), (table, value)
    assert batches[0].tables["regions"] and not batches[1].tables["regions"]
    assert not batches[0].tables["households"]


def test_same_seed_gives_identical_rows_and_another_seed_differs() -> None:
    first = [b.tables for b in generate(Scale.VILLAGE, 42)]
    again = [b.tables for b in generate(Scale.VILLAGE, 42, progress=True)]
    other = [b.tables for b in generate(Scale.VILLAGE, 43)]
    assert first == again
    assert first[1]["persons"] != other[1]["persons"]
    assert first[1]["needs"] != other[1]["needs"]


def test_county_scale_is_deterministic(county: list[Batch]) -> None:
    assert [b.tables for b in generate(Scale.COUNTY, COUNTY_SEED)] == [b.tables for b in county]


def test_negative_seed_is_refused() -> None:
    with pytest.raises(ValueError, match="seed"):
        next(generate(Scale.VILLAGE, -1))


# --- counts and calibration ----------------------------------------------------------------


def test_village_scale_counts(village: list[Batch]) -> None:
    levels = Counter(r["level"] for r in rows(village, "regions"))
    assert levels == {"province": 1, "city": 1, "county": 1, "town": 1, "village": 1}
    assert len(rows(village, "households")) == CALIBRATION[Scale.VILLAGE].households == 40
    assert len(rows(village, "persons")) == CALIBRATION[Scale.VILLAGE].persons
    kinds = Counter(r["kind"] for r in rows(village, "helpers"))
    assert set(kinds) == {k.value for k in HelperKind}


def test_county_scale_counts_match_layout(county: list[Batch]) -> None:
    cal = CALIBRATION[Scale.COUNTY]
    levels = Counter(r["level"] for r in rows(county, "regions"))
    assert levels == {
        "province": 1,
        "city": 1,
        "county": 1,
        "town": cal.towns,
        "village": cal.villages,
    }
    households = rows(county, "households")
    persons = rows(county, "persons")
    assert len(households) == cal.households
    assert len(persons) == cal.persons
    layout = build_layout(Scale.COUNTY, COUNTY_SEED)
    town_persons = Counter[object]()
    for h in households:
        town_persons[h["town_code"]] += int(str(h["size"]))
    assert town_persons == {t.code: t.persons for t in layout.counties[0].towns}
    village_households = Counter(h["village_code"] for h in households)
    assert village_households == {v.code: v.households for v in layout.counties[0].villages}


def test_county_main_cause_shares_within_three_tenths_of_a_point(county: list[Batch]) -> None:
    households = rows(county, "households")
    counts = Counter(h["main_cause"] for h in households)
    for cause, share in MAIN_CAUSE_SHARES.items():
        assert abs(100 * counts[cause.value] / len(households) - share) <= 0.3, cause


def test_household_status_mix_is_plausible_for_2025(county: list[Batch]) -> None:
    households = rows(county, "households")
    share = {s: n / len(households) for s, n in Counter(h["status"] for h in households).items()}
    assert 0.84 <= share["exited"] <= 0.92
    assert 0.05 <= share["monitored"] <= 0.11
    assert 0.02 <= share["poor"] <= 0.06
    for h in households:
        assert h["status"] in set(HouseholdStatus)
        assert (h["monitor_type"] != "") == (h["status"] == "monitored")
        assert h["monitor_type"] == "" or h["monitor_type"] in set(MonitorType)
        assert h["main_cause"] in set(PovertyCause)
        others = str(h["other_causes"]).split(";") if h["other_causes"] else []
        assert all(c in set(PovertyCause) and c != h["main_cause"] for c in others)
        assert 2014 <= int(str(h["registered_year"])) <= 2016
        if h["status"] == "poor":
            assert h["exit_year"] == ""
        else:
            assert int(str(h["registered_year"])) <= int(str(h["exit_year"])) <= 2020


def test_province_layout_hits_the_seed_figures() -> None:
    layout = province_layout(3)
    cal = CALIBRATION[Scale.PROVINCE]
    levels = Counter(r["level"] for r in layout.region_rows())
    assert levels == {"province": 1, "city": 14, "county": 97, "town": 1112, "village": 16483}
    assert layout.households == cal.households == 664_000
    assert layout.persons == cal.persons == 1_731_000
    big_counties = [c for c in layout.counties if c.persons >= 40_000]
    assert len(big_counties) == 10
    big_towns = [(c, t) for c in layout.counties for t in c.towns if t.persons >= 5_000]
    assert len(big_towns) == 30
    assert all(c.persons >= 40_000 for c, _ in big_towns)
    for c in layout.counties:
        assert 1 <= c.households <= c.persons <= 8 * c.households
        for t in c.towns:
            assert t.households == sum(v.households for v in t.villages)
            assert t.households <= t.persons <= 8 * t.households
    # Causes are an exact quota of the province, and each county is within two households of its
    # own quota (a difference of two running quotas, each within one).
    totals = households_by_cause_total(layout)
    expected = largest_remainder(664_000, [MAIN_CAUSE_SHARES[c] for c in totals])
    assert list(totals.values()) == expected.tolist()
    for c in layout.counties:
        for cause, n in zip(totals, c.cause_counts, strict=True):
            assert abs(n - c.households * MAIN_CAUSE_SHARES[cause] / 100) < 2.0


def test_province_layout_is_deterministic_and_seed_dependent() -> None:
    assert province_layout(3).region_rows() == province_layout(3).region_rows()
    assert province_layout(3).region_rows() != province_layout(4).region_rows()


def test_province_helper_counts_follow_the_brief() -> None:
    counts = HelperCounts.for_layout(province_layout(3))
    charities = counts.province_charities + counts.city_charities + sum(counts.county_charities)
    enterprises = (
        counts.province_enterprises + counts.city_enterprises + sum(counts.county_enterprises)
    )
    assert charities == 1_500
    assert enterprises == 2_000


# --- identifiers ----------------------------------------------------------------------------


def test_national_ids_are_valid_unique_and_match_birth_date_sex_and_county(
    county: list[Batch], village: list[Batch]
) -> None:
    for batches in (county, village):
        households = by_id(batches, "households", "household_id")
        persons = rows(batches, "persons")
        ids = [str(p["national_id"]) for p in persons]
        assert len(set(ids)) == len(ids)
        for p, nid in zip(persons, ids, strict=True):
            assert validate_national_id(nid) == nid
            assert nid[6:14] == str(p["birth_date"]).replace("-", "")
            assert (int(nid[16]) % 2 == 1) == (p["sex"] == Sex.MALE)
            assert nid[:6] == households[p["household_id"]]["county_code"]


def test_phones_are_valid_unique_and_only_for_adults(county: list[Batch]) -> None:
    prefixes = {str(p) for p in PHONE_PREFIXES}
    persons = rows(county, "persons")
    cadres = rows(county, "cadres")
    phones = [str(p["phone"]) for p in persons if p["phone"]] + [str(c["phone"]) for c in cadres]
    assert all(c["phone"] for c in cadres)
    assert len(set(phones)) == len(phones)
    for phone in phones:
        assert validate_phone(phone) == phone and phone[:3] in prefixes
    adults = [p for p in persons if str(p["birth_date"]) <= "2008-03-31"]
    minors = [p for p in persons if str(p["birth_date"]) > "2008-03-31"]
    assert not any(p["phone"] for p in minors)
    share = sum(1 for p in adults if p["phone"]) / len(adults)
    assert 0.5 <= share <= 0.7
    heads = {p["household_id"]: p for p in persons if p["relation"] == Relation.HEAD}
    for h in rows(county, "households"):
        assert h["phone"] == heads[h["household_id"]]["phone"]


def test_ids_are_unique_and_well_formed(county: list[Batch]) -> None:
    keys = {
        "households": "household_id",
        "persons": "person_id",
        "helpers": "helper_id",
        "cadres": "cadre_id",
        "needs": "need_id",
        "projects": "project_id",
        "regions": "code",
    }
    for table, key in keys.items():
        values = [r[key] for r in rows(county, table)]
        assert len(set(values)) == len(values), table
    for h in rows(county, "households"):
        assert re.fullmatch(r"H\d{16}", str(h["household_id"]))
        assert str(h["household_id"])[1:13] == h["village_code"]
    for p in rows(county, "persons"):
        assert re.fullmatch(re.escape(str(p["household_id"])) + r"-\d{2}", str(p["person_id"]))
    for n in rows(county, "needs"):
        assert re.fullmatch(
            "N" + re.escape(str(n["household_id"])[1:]) + r"-\d{2}", str(n["need_id"])
        )


# --- regions --------------------------------------------------------------------------------


def test_region_codes_prefix_their_parents_and_names_are_unique_within_parent(
    county: list[Batch],
) -> None:
    regions = by_id(county, "regions", "code")
    suffixes = {"city": ("市",), "county": ("县", "区"), "town": ("镇",), "village": ("村",)}
    names_in_parent: dict[object, list[object]] = defaultdict(list)
    for code, r in regions.items():
        level = RegionLevel(str(r["level"]))
        assert len(str(code)) == level.code_length and str(code).isdigit()
        if level is RegionLevel.PROVINCE:
            assert r["parent_code"] == "" and code == "44"
            continue
        parent = regions[r["parent_code"]]
        assert str(code).startswith(str(parent["code"]))
        assert str(r["name"]).endswith(suffixes[level.value])
        names_in_parent[r["parent_code"]].append(r["name"])
    for names in names_in_parent.values():
        assert len(set(names)) == len(names)


# --- referential integrity ------------------------------------------------------------------


def _serves(helper: Row, region_code: str) -> bool:
    return any(region_code.startswith(code) for code in str(helper["service_regions"]).split(";"))


@pytest.mark.parametrize("scale_fixture", ["village", "county"])
def test_every_reference_points_to_the_same_or_an_earlier_batch(
    scale_fixture: str, request: pytest.FixtureRequest
) -> None:
    batches: list[Batch] = request.getfixturevalue(scale_fixture)
    regions: dict[object, Row] = {}
    households: dict[object, Row] = {}
    helpers: dict[object, Row] = {}
    cadres: dict[object, Row] = {}
    projects: dict[object, Row] = {}
    persons: set[object] = set()
    for batch in batches:
        t = batch.tables
        regions |= {r["code"]: r for r in t["regions"]}
        for r in t["regions"]:
            assert r["parent_code"] == "" or r["parent_code"] in regions
        helpers |= {h["helper_id"]: h for h in t["helpers"]}
        for h in t["helpers"]:
            assert all(code in regions for code in str(h["service_regions"]).split(";"))
            assert h["home_region_code"] in regions
        assert {r["helper_id"] for r in t["helper_truth"]} == {h["helper_id"] for h in t["helpers"]}
        households |= {h["household_id"]: h for h in t["households"]}
        for h in t["households"]:
            v = str(h["village_code"])
            assert v in regions and regions[v]["level"] == "village"
            assert h["town_code"] == regions[v]["parent_code"] == v[:9]
            assert h["county_code"] == v[:6] and h["city_code"] == v[:4]
        for p in t["persons"]:
            assert p["household_id"] in households
            persons.add(p["person_id"])
        cadres |= {c["cadre_id"]: c for c in t["cadres"]}
        for c in t["cadres"]:
            unit = helpers[c["unit_helper_id"]]
            assert unit["kind"] == HelperKind.HELPER_UNIT
            assert _serves(unit, str(c["village_code"]))
        for pair in t["helper_pairings"]:
            unit = helpers[pair["helper_id"]]
            assert unit["kind"] == HelperKind.HELPER_UNIT
            assert _serves(unit, str(households[pair["household_id"]]["village_code"]))
        for pair in t["cadre_pairings"]:
            cadre = cadres[pair["cadre_id"]]
            assert cadre["role"] == CadreRole.RESPONSIBLE_PERSON
            assert cadre["village_code"] == households[pair["household_id"]]["village_code"]
        for n in t["needs"]:
            assert n["village_code"] == households[n["household_id"]]["village_code"]
            if n["claimed_by"]:
                claimer = helpers[n["claimed_by"]]
                assert n["category"] in str(claimer["capabilities"]).split(";")
                assert _serves(claimer, str(n["village_code"]))
        projects |= {p["project_id"]: p for p in t["projects"]}
        for p in t["projects"]:
            assert p["county_code"] in regions
            assert p["village_code"] == "" or regions[p["village_code"]]["level"] == "village"
        for b in t["project_beneficiaries"]:
            project = projects[b["project_id"]]
            household = households[b["household_id"]]
            assert household["county_code"] == project["county_code"]
            assert project["village_code"] in ("", household["village_code"])


# --- households and members -----------------------------------------------------------------


def test_each_household_has_one_head_and_as_many_members_as_its_size(county: list[Batch]) -> None:
    persons = rows(county, "persons")
    members = Counter(p["household_id"] for p in persons)
    heads = Counter(p["household_id"] for p in persons if p["relation"] == Relation.HEAD)
    for h in rows(county, "households"):
        assert 1 <= int(str(h["size"])) <= 8
        assert members[h["household_id"]] == h["size"]
        assert heads[h["household_id"]] == 1
    for p in persons:
        assert p["sex"] in set(Sex) and p["relation"] in set(Relation)
        assert p["health"] in set(Health) and p["schooling"] in set(Schooling)
        assert p["labour_ability"] in set(LabourAbility) and p["employment"] in set(Employment)
        assert p["disability_grade"] in (0, 1, 2, 3, 4)
        assert 2 <= len(str(p["name"])) <= 3


def test_children_mostly_share_the_family_surname(county: list[Batch]) -> None:
    persons = rows(county, "persons")
    heads = {p["household_id"]: str(p["name"])[0] for p in persons if p["relation"] == "head"}
    kids = [p for p in persons if p["relation"] in ("child", "grandchild")]
    same = sum(1 for p in kids if str(p["name"])[0] == heads[p["household_id"]])
    assert same / len(kids) > 0.8


def test_members_reflect_the_household_causes(county: list[Batch]) -> None:
    members: dict[object, list[Row]] = defaultdict(list)
    for p in rows(county, "persons"):
        members[p["household_id"]].append(p)
    lack_of_labour_without_able = []
    for h in rows(county, "households"):
        ms = members[h["household_id"]]
        causes = {h["main_cause"], *str(h["other_causes"]).split(";")}
        if "illness" in causes:
            assert any(m["health"] in ("chronic", "serious") for m in ms)
        if "disability" in causes:
            assert any(int(str(m["disability_grade"])) > 0 for m in ms)
        if h["main_cause"] == "schooling":
            assert any(m["schooling"] == "in_school" for m in ms)
        if h["main_cause"] == "lack_of_labour":
            head = next(m for m in ms if m["relation"] == "head")
            assert str(head["birth_date"]) <= "1966-03-31"  # 60 or older
            able = [m for m in ms if m["labour_ability"] in ("normal", "skilled")]
            lack_of_labour_without_able.append(not able)
        for m in ms:
            if m["schooling"] == "in_school":
                assert m["employment"] == "student"
    assert sum(lack_of_labour_without_able) / len(lack_of_labour_without_able) > 0.7


def test_incomes_fit_status(county: list[Batch]) -> None:
    households = rows(county, "households")
    parts = ("wage", "farm", "business", "transfer", "property")
    per_capita: dict[str, list[float]] = defaultdict(list)
    for h in households:
        total = sum(int(str(h[f"income_{p}"])) for p in parts)
        assert all(int(str(h[f"income_{p}"])) >= 0 for p in parts)
        assert h["income_per_capita"] == pytest.approx(total / int(str(h["size"])), abs=0.01)
        per_capita[str(h["status"])].append(float(str(h["income_per_capita"])))
        assert int(str(h["spend_medical"])) >= 0 and int(str(h["spend_education"])) >= 0
        assert isinstance(h["housing_safe"], bool) and isinstance(h["water_safe"], bool)
    exited = np.array(per_capita["exited"])
    assert (exited > 6_000).mean() > 0.95
    assert (np.array(per_capita["poor"]) < 6_000).all()
    assert np.median(per_capita["monitored"]) < 8_000


def test_addresses_name_the_village(county: list[Batch]) -> None:
    regions = by_id(county, "regions", "code")
    for h in rows(county, "households"):
        name = str(regions[h["village_code"]]["name"])
        assert re.fullmatch(re.escape(name) + r"\d+组\d+号", str(h["address"]))


# --- needs ----------------------------------------------------------------------------------


def test_needs_are_derived_consistent_and_free_of_personal_identifiers(
    county: list[Batch],
) -> None:
    households = by_id(county, "households", "household_id")
    needs = rows(county, "needs")
    assert 0.45 <= len(needs) / len(households) <= 0.75
    names_by_household: dict[object, set[str]] = defaultdict(set)
    for p in rows(county, "persons"):
        names_by_household[p["household_id"]].add(str(p["name"]))
    statuses = Counter(n["status"] for n in needs)
    assert 0.5 <= statuses["open"] / len(needs) <= 0.7
    assert set(statuses) <= set(NeedStatus)
    for n in needs:
        category = NeedCategory(str(n["category"]))
        assert n["kind"] == category.kind
        assert n["urgency"] in set(Urgency)
        amount = int(str(n["amount"]))
        assert amount >= 0
        if category.kind is not NeedKind.SERVICE:
            assert amount > 0
        text = str(n["text"])
        assert text and n["title"] and text.count("。") <= 3
        assert not re.search(r"\d{11}", text)
        assert not any(name in text for name in names_by_household[n["household_id"]])
        assert "2025-01-01" <= str(n["created_at"]) <= "2026-12-31"
        assert (n["claimed_by"] != "") == (n["status"] in CLAIMED)
        assert (n["fulfilled_at"] != "") == (n["status"] in DONE)
        if n["fulfilled_at"]:
            assert str(n["created_at"]) <= str(n["fulfilled_at"]) <= "2026-12-31"


def _causes(household: Row) -> set[str]:
    return {str(household["main_cause"]), *str(household["other_causes"]).split(";")}


def test_needs_follow_the_household_situation(county: list[Batch]) -> None:
    households = by_id(county, "households", "household_id")
    needs = rows(county, "needs")
    by_category: dict[str, list[Row]] = defaultdict(list)
    for n in needs:
        by_category[str(n["category"])].append(households[n["household_id"]])
    assert all(
        not h["housing_safe"] or "disaster" in _causes(h) for h in by_category["housing_repair"]
    )
    assert all(not h["water_safe"] or "lack_of_water" in _causes(h) for h in by_category["water"])
    credit = by_category["micro_credit"]
    with_funds_cause = sum(1 for h in credit if "lack_of_funds" in _causes(h))
    assert with_funds_cause / len(credit) > 0.5
    illness_share = sum(1 for h in by_category["medical_aid"] if h["main_cause"] == "illness")
    assert illness_share / len(by_category["medical_aid"]) > 0.5


# --- helpers, cadres, projects --------------------------------------------------------------


def test_helpers_are_well_formed(county: list[Batch]) -> None:
    helpers = rows(county, "helpers")
    kinds = Counter(h["kind"] for h in helpers)
    assert kinds["womens_federation"] == kinds["disabled_federation"] == 3
    assert kinds["helper_unit"] == len({c["unit_helper_id"] for c in rows(county, "cadres")})
    villages = sum(1 for r in rows(county, "regions") if r["level"] == "village")
    assert villages / 3 <= kinds["helper_unit"] <= villages / 2
    assert kinds["enterprise"] >= 1 and kinds["charity"] >= 1
    for h in helpers:
        capabilities = str(h["capabilities"]).split(";")
        assert capabilities and all(c in set(NeedCategory) for c in capabilities)
        assert 2 <= int(str(h["capacity"])) <= 200
        description = str(h["description"])
        assert 1 <= description.count("。") <= 3 and re.search(r"[\u4e00-\u9fff]", description)
        if h["kind"] == "disabled_federation":
            assert "assistive_device" in capabilities
    descriptions = [h["description"] for h in helpers]
    assert len(set(descriptions)) > 0.9 * len(descriptions)
    for truth in rows(county, "helper_truth"):
        assert 0.0 <= float(str(truth["true_quality"])) <= 1.0
        assert int(str(truth["true_speed_days"])) >= 1


def test_cadres_cover_villages_and_households(county: list[Batch]) -> None:
    cadres = rows(county, "cadres")
    roles: dict[object, Counter[object]] = defaultdict(Counter)
    for c in cadres:
        assert c["role"] in set(CadreRole)
        roles[c["village_code"]][c["role"]] += 1
    for counts in roles.values():
        assert counts["first_secretary"] == 1 and 2 <= counts["work_team"] <= 3
    pairings = rows(county, "cadre_pairings")
    households = rows(county, "households")
    every_household_once = Counter(h["household_id"] for h in households)
    assert Counter(p["household_id"] for p in pairings) == every_household_once
    covered = Counter(p["cadre_id"] for p in pairings)
    responsible = [c["cadre_id"] for c in cadres if c["role"] == "responsible_person"]
    assert all(1 <= covered[c] <= 3 for c in responsible)
    helper_pairs = rows(county, "helper_pairings")
    assert Counter(p["household_id"] for p in helper_pairs) == every_household_once


def test_projects_are_plausible(county: list[Batch]) -> None:
    projects = rows(county, "projects")
    villages = sum(1 for r in rows(county, "regions") if r["level"] == "village")
    assert len(projects) == round(villages / 2)
    beneficiaries = Counter(b["project_id"] for b in rows(county, "project_beneficiaries"))
    for p in projects:
        assert p["type"] in set(ProjectType) and p["stage"] in set(ProjectStage)
        assert 0 <= int(str(p["funds_disbursed"])) <= int(str(p["funds_allocated"]))
        # Beneficiaries are drawn from the region's poor and monitored households (a village
        # has ~5), plus one planted exited household now and then.
        assert beneficiaries[p["project_id"]] <= 41
        assert all(p[k] for k in ("name", "fund_source", "managing_body", "operating_body"))
        assert int(str(p["funds_allocated"])) <= int(str(p["budget"]))
        if p["stage"] == "proposed":
            assert p["funds_allocated"] == 0 and p["approved_at"] == ""
    assert sum(beneficiaries.values()) >= 5 * len(projects)


def test_project_milestones_and_funds_add_up(county: list[Batch]) -> None:
    projects = by_id(county, "projects", "project_id")
    milestones: dict[object, list[Row]] = defaultdict(list)
    for m in rows(county, "project_milestones"):
        milestones[m["project_id"]].append(m)
    funds: dict[object, list[Row]] = defaultdict(list)
    for f in rows(county, "project_funds"):
        funds[f["project_id"]].append(f)
        assert 0 <= int(str(f["disbursed"])) <= int(str(f["allocated"]))
    for pid, p in projects.items():
        achieved = [m for m in milestones[pid] if m["achieved_date"]]
        expected = max((int(str(m["progress_pct"])) for m in achieved), default=0)
        assert p["progress_pct"] == expected
        if achieved:
            assert p["last_milestone_at"] == max(str(m["achieved_date"]) for m in achieved)
            assert all(str(p["approved_at"]) <= str(m["achieved_date"]) for m in achieved)
        if p["stage"] in ("operation", "completed"):
            assert p["progress_pct"] == 100
        lines = funds[pid]
        assert sum(int(str(f["allocated"])) for f in lines) == p["funds_allocated"]
        assert sum(int(str(f["disbursed"])) for f in lines) == p["funds_disbursed"]
        assert len({f["source"] for f in lines}) == len(lines)


def test_project_anomalies_are_planted_at_known_rates_with_margins(county: list[Batch]) -> None:
    """Each planted finding sits well past its check's threshold and every clean project well
    inside it (graph/synthetic/projects.py), so the checks' exact answers are the truth table."""
    projects = by_id(county, "projects", "project_id")
    households = by_id(county, "households", "household_id")
    truth = rows(county, "project_anomaly_truth")
    planted: dict[object, set[tuple[object, object]]] = defaultdict(set)
    for t in truth:
        planted[t["rule"]].add((t["project_id"], t["household_id"]))
    assert all(planted[rule.value] for rule in ProjectAnomaly), planted
    as_of = date(2026, 3, 31)
    for pid, p in projects.items():
        progress = int(str(p["progress_pct"]))
        share = int(str(p["funds_disbursed"])) / max(1, int(str(p["funds_allocated"])))
        ahead = share - progress / 100
        if (pid, "") in planted["disbursed_without_progress"]:
            assert ahead >= 0.5
        elif p["stage"] != "proposed":
            assert ahead <= 0.15
        if p["stage"] in ("approved", "implementation"):
            since = date.fromisoformat(str(p["last_milestone_at"] or p["approved_at"]))
            idle = (as_of - since).days
            if (pid, "") in planted["stalled"]:
                assert 260 <= idle <= 400
            else:
                assert idle <= 100
    per_household = Counter(b["household_id"] for b in rows(county, "project_beneficiaries"))
    too_many = {h for _, h in planted["too_many_projects"]}
    for hid, n in per_household.items():
        assert n == 8 if hid in too_many else n <= 4
    ineligible = {
        (b["project_id"], b["household_id"])
        for b in rows(county, "project_beneficiaries")
        if households[b["household_id"]]["status"] == "exited"
    }
    assert ineligible == planted["ineligible_beneficiary"]


# --- CSV --------------------------------------------------------------------------------------


def test_write_csv_writes_headers_and_every_row_and_passes_batches_on(tmp_path: Path) -> None:
    for _ in range(2):  # a second pass starts the files afresh instead of appending to the first
        passed = list(write_csv(generate(Scale.VILLAGE, 9), tmp_path))
        expected = Counter[str]()
        for batch in passed:
            expected.update(batch.row_counts())
        for table, columns in TABLE_COLUMNS.items():
            with (tmp_path / f"{table}.csv").open(encoding="utf-8", newline="") as f:
                lines = list(csv.reader(f))
            assert tuple(lines[0]) == columns
            assert len(lines) - 1 == expected[table]
    with (tmp_path / "households.csv").open(encoding="utf-8", newline="") as f:
        first = next(csv.DictReader(f))
    assert first["housing_safe"] in ("true", "false")
    assert [b.tables for b in passed] == [b.tables for b in generate(Scale.VILLAGE, 9)]


# --- primitives -------------------------------------------------------------------------------


def test_apportion_respects_bounds_and_total() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(1, 30))
        lo = rng.integers(0, 10, n)
        hi = lo + rng.integers(0, 20, n)
        total = int(rng.integers(lo.sum(), hi.sum() + 1))
        got = apportion(total, rng.random(n) + 0.01, lo, hi)
        assert got.sum() == total and (got >= lo).all() and (got <= hi).all()
    assert largest_remainder(40, [36.2, 23.3, 19.9, 20.6]).sum() == 40
