"""Round trips through every repository against the real Neo4j, and the guarantees around them:
identifiers encrypted at rest, region scoping by code prefix, all-or-nothing batches."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import SecretStr

from bangfu.errors import ConflictError, InvalidInputError, NotFoundError
from bangfu.identity import make_national_id
from bangfu.vocabulary import (
    CadreRole,
    Employment,
    Health,
    HelperKind,
    HouseholdStatus,
    LabourAbility,
    NeedCategory,
    NeedKind,
    NeedStatus,
    PovertyCause,
    ProjectStage,
    ProjectType,
    RegionLevel,
    Relation,
    Schooling,
    Sex,
    Urgency,
)
from graph.client import GraphClient
from graph.models import Cadre, Helper, Household, Income, Need, Person, Project, Region
from graph.pii import PiiVault
from graph.repositories import (
    CadreRepository,
    HelperRepository,
    HouseholdRepository,
    NeedRepository,
    PairingRepository,
    PersonRepository,
    ProjectRepository,
    RegionRepository,
)
from graph.repositories.persons import person_row

VILLAGE_A = "440223101001"
VILLAGE_B = "440224102003"


def make_regions(graph: GraphClient) -> RegionRepository:
    repo = RegionRepository(graph)
    regions = [
        Region(code="44", name="广东省", level=RegionLevel.PROVINCE),
        Region(code="4402", name="韶关市", level=RegionLevel.CITY, parent_code="44"),
        Region(code="440223", name="甲县", level=RegionLevel.COUNTY, parent_code="4402"),
        Region(code="440224", name="乙县", level=RegionLevel.COUNTY, parent_code="4402"),
        Region(code="440223101", name="甲镇", level=RegionLevel.TOWN, parent_code="440223"),
        Region(code="440224102", name="乙镇", level=RegionLevel.TOWN, parent_code="440224"),
        Region(code=VILLAGE_A, name="甲村", level=RegionLevel.VILLAGE, parent_code="440223101"),
        Region(code=VILLAGE_B, name="乙村", level=RegionLevel.VILLAGE, parent_code="440224102"),
    ]
    repo.save_rows([r.model_dump(mode="json") for r in reversed(regions)])
    return repo


def household(hid: str, village: str) -> Household:
    return Household(
        id=hid,
        village_code=village,
        status=HouseholdStatus.MONITORED,
        main_cause=PovertyCause.ILLNESS,
        other_causes=(PovertyCause.LACK_OF_SKILLS,),
        size=3,
        address="甲村2组15号",
        phone=SecretStr("13800138000"),
        income=Income(wage=12000, farm=3000, transfer=1800),
        spend_medical=8000,
        housing_safe=False,
        registered_year=2015,
    )


def person(pid: str, hid: str, nid: str) -> Person:
    return Person(
        id=pid,
        household_id=hid,
        national_id=SecretStr(nid),
        name="李小红",
        sex=Sex.FEMALE,
        birth_date=date(1980, 5, 17),
        relation=Relation.HEAD,
        health=Health.CHRONIC,
        disability_grade=0,
        schooling=Schooling.JUNIOR,
        labour_ability=LabourAbility.NORMAL,
        employment=Employment.MIGRANT,
        phone=SecretStr("13912345678"),
    )


def test_regions_round_trip_with_hierarchy(empty_graph: GraphClient) -> None:
    repo = make_regions(empty_graph)
    assert repo.get(VILLAGE_A).name == "甲村"
    assert [r.code for r in repo.ancestors(VILLAGE_A)] == [
        "44",
        "4402",
        "440223",
        "440223101",
        VILLAGE_A,
    ]
    assert [r.code for r in repo.children("4402")] == ["440223", "440224"]
    assert repo.count_by_level() == {
        "province": 1,
        "city": 1,
        "county": 2,
        "town": 2,
        "village": 2,
    }
    with pytest.raises(NotFoundError):
        repo.get("449999")


def test_households_and_people_round_trip_and_scope_by_region(
    empty_graph: GraphClient, vault: PiiVault
) -> None:
    make_regions(empty_graph)
    households = HouseholdRepository(empty_graph, vault)
    a, b = household("HA1", VILLAGE_A), household("HB1", VILLAGE_B)
    households.save(a)
    households.save(b)
    assert households.get("HA1") == a
    assert [h.id for h in households.in_region("440223")] == ["HA1"]
    assert households.count_in_region("4402") == 2
    assert households.count_in_region(VILLAGE_B) == 1

    persons = PersonRepository(empty_graph, vault)
    nid = make_national_id("440223", date(1980, 5, 17), 102)
    p = person("HA1-01", "HA1", nid)
    persons.save(p)
    assert persons.get("HA1-01") == p
    assert persons.members_of("HA1") == [p]
    found = persons.find_by_national_id(nid)
    assert found is not None and found.id == "HA1-01"
    assert persons.find_by_national_id(make_national_id("440223", date(1980, 5, 17), 104)) is None


def test_identifiers_are_encrypted_at_rest(empty_graph: GraphClient, vault: PiiVault) -> None:
    make_regions(empty_graph)
    HouseholdRepository(empty_graph, vault).save(household("HA1", VILLAGE_A))
    nid = make_national_id("440223", date(1980, 5, 17), 102)
    PersonRepository(empty_graph, vault).save(person("HA1-01", "HA1", nid))
    raw = empty_graph.read("MATCH (n) WHERE n:Person OR n:Household RETURN properties(n) AS p")
    dumped = repr(raw)
    assert nid not in dumped and "13912345678" not in dumped and "13800138000" not in dumped
    stored = next(r["p"] for r in raw if "national_id_hash" in r["p"])
    assert stored["national_id_hash"] == vault.lookup_hash(nid)
    assert vault.decrypt(stored["national_id_enc"]) == nid
    # Models never print identifiers either.
    assert nid not in repr(person("HA1-01", "HA1", nid))


def test_duplicate_national_id_is_refused(empty_graph: GraphClient, vault: PiiVault) -> None:
    make_regions(empty_graph)
    HouseholdRepository(empty_graph, vault).save(household("HA1", VILLAGE_A))
    persons = PersonRepository(empty_graph, vault)
    nid = make_national_id("440223", date(1980, 5, 17), 102)
    persons.save(person("HA1-01", "HA1", nid))
    with pytest.raises(ConflictError) as info:
        persons.save(person("HA1-02", "HA1", nid))
    assert nid not in str(info.value)


def test_batch_with_a_dangling_reference_writes_nothing(
    empty_graph: GraphClient, vault: PiiVault
) -> None:
    make_regions(empty_graph)
    HouseholdRepository(empty_graph, vault).save(household("HA1", VILLAGE_A))
    persons = PersonRepository(empty_graph, vault)
    rows = [
        person_row(
            person("HA1-01", "HA1", make_national_id("440223", date(1980, 5, 17), 102)), vault
        ),
        person_row(
            person(
                "HX-01", "NO-SUCH-HOUSEHOLD", make_national_id("440223", date(1981, 5, 17), 102)
            ),
            vault,
        ),
    ]
    with pytest.raises(InvalidInputError) as info:
        persons.save_rows(rows)
    assert "1 of 2" in info.value.message
    assert persons.members_of("HA1") == []


def test_helpers_needs_cadres_projects_and_pairings(
    empty_graph: GraphClient, vault: PiiVault
) -> None:
    make_regions(empty_graph)
    HouseholdRepository(empty_graph, vault).save(household("HA1", VILLAGE_A))
    helpers = HelperRepository(empty_graph)
    unit = Helper(
        id="U1",
        kind=HelperKind.HELPER_UNIT,
        name="省农业农村厅",
        description="对口帮扶甲村",
        capabilities=(NeedCategory.JOB, NeedCategory.HOUSING_REPAIR),
        service_regions=(VILLAGE_A,),
        capacity=20,
        home_region_code="44",
    )
    charity = Helper(
        id="C1",
        kind=HelperKind.CHARITY,
        name="韶关慈善会",
        description="资助全市困难学生",
        capabilities=(NeedCategory.TUITION,),
        service_regions=("4402",),
        capacity=50,
        home_region_code="4402",
    )
    helpers.save(unit)
    helpers.save(charity)
    assert helpers.get("U1") == unit
    assert [h.id for h in helpers.serving_village(VILLAGE_A)] == ["C1", "U1"]
    assert [h.id for h in helpers.serving_village(VILLAGE_B)] == ["C1"]

    cadres = CadreRepository(empty_graph, vault)
    cadre = Cadre(
        id="K1",
        name="王建国",
        phone=SecretStr("13700001111"),
        role=CadreRole.RESPONSIBLE_PERSON,
        village_code=VILLAGE_A,
        unit_helper_id="U1",
    )
    cadres.save(cadre)
    assert cadres.get("K1") == cadre
    assert cadres.in_village(VILLAGE_A) == [cadre]

    pairings = PairingRepository(empty_graph)
    pairings.pair_helper("U1", "HA1")
    pairings.pair_cadre("K1", "HA1")
    pairing = pairings.of_household("HA1")
    assert pairing is not None
    assert pairing.helper_ids == ("U1",) and pairing.cadre_ids == ("K1",)

    needs = NeedRepository(empty_graph)
    need = Need(
        id="N1",
        household_id="HA1",
        village_code=VILLAGE_A,
        category=NeedCategory.HOUSING_REPAIR,
        kind=NeedKind.IN_KIND,
        title="危房改造",
        text="房屋漏雨，需要修缮屋顶",
        amount=15000,
        urgency=Urgency.HIGH,
        status=NeedStatus.CLAIMED,
        created_at=date(2026, 3, 1),
        claimed_by="U1",
    )
    needs.save(need)
    assert needs.get("N1") == need
    assert [n.id for n in needs.in_region("440223", status="claimed")] == ["N1"]
    assert needs.in_region("440224") == []

    projects = ProjectRepository(empty_graph)
    project = Project(
        id="P1",
        name="甲村光伏扶贫项目",
        type=ProjectType.INDUSTRY,
        stage=ProjectStage.OPERATION,
        county_code="440223",
        village_code=VILLAGE_A,
        fund_source="省级财政",
        funds_allocated=500000,
        funds_disbursed=420000,
        managing_body="甲县农业农村局",
        operating_body="甲村股份经济合作社",
        supervising_body="甲镇人民政府",
        start_date=date(2024, 4, 1),
    )
    projects.save(project)
    projects.add_beneficiaries("P1", ["HA1"])
    assert projects.get("P1") == project
    assert projects.beneficiaries("P1") == ["HA1"]
