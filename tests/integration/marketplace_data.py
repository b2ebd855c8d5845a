"""Small, explicit marketplace fixtures built through the repositories (no Cypher here)."""

from __future__ import annotations

from datetime import date

from pydantic import SecretStr

from bangfu.access import Principal, Role
from bangfu.vocabulary import (
    Employment,
    Health,
    HelperKind,
    HouseholdStatus,
    LabourAbility,
    NeedCategory,
    NeedStatus,
    PovertyCause,
    RegionLevel,
    Relation,
    Schooling,
    Sex,
    Urgency,
)
from graph.client import GraphClient
from graph.models import Helper, Household, Income, Need, Person, Region
from graph.pii import PiiVault
from graph.repositories import (
    HelperRepository,
    HouseholdRepository,
    NeedRepository,
    PersonRepository,
    RegionRepository,
)

COUNTY_A, COUNTY_B = "440223", "440224"
VILLAGE_A, VILLAGE_B = "440223101001", "440224102003"


def build_regions(graph: GraphClient) -> None:
    regions = [
        Region(code="44", name="广东省", level=RegionLevel.PROVINCE),
        Region(code="4402", name="韶关市", level=RegionLevel.CITY, parent_code="44"),
        Region(code=COUNTY_A, name="甲县", level=RegionLevel.COUNTY, parent_code="4402"),
        Region(code=COUNTY_B, name="乙县", level=RegionLevel.COUNTY, parent_code="4402"),
        Region(code=VILLAGE_A[:9], name="甲镇", level=RegionLevel.TOWN, parent_code=COUNTY_A),
        Region(code=VILLAGE_B[:9], name="乙镇", level=RegionLevel.TOWN, parent_code=COUNTY_B),
        Region(code=VILLAGE_A, name="甲村", level=RegionLevel.VILLAGE, parent_code=VILLAGE_A[:9]),
        Region(code=VILLAGE_B, name="乙村", level=RegionLevel.VILLAGE, parent_code=VILLAGE_B[:9]),
    ]
    RegionRepository(graph).save_rows([r.model_dump(mode="json") for r in regions])


def add_household(graph: GraphClient, vault: PiiVault, hid: str, village: str) -> None:
    HouseholdRepository(graph, vault).save(
        Household(
            id=hid,
            village_code=village,
            status=HouseholdStatus.MONITORED,
            main_cause=PovertyCause.ILLNESS,
            size=3,
            address="2组15号",
            phone=SecretStr("13800138000"),
            income=Income(wage=9000),
            spend_medical=8000,
        )
    )


def add_head(
    graph: GraphClient,
    vault: PiiVault,
    hid: str,
    national_id: str,
    phone: str = "13912345678",
    health: Health = Health.CHRONIC,
) -> str:
    """The household head 李小红 (born 1980-05-17) with her ID number and phone; returns her id
    (`<household>-01`)."""
    person_id = f"{hid}-01"
    PersonRepository(graph, vault).save(
        Person(
            id=person_id,
            household_id=hid,
            national_id=SecretStr(national_id),
            name="李小红",
            sex=Sex.FEMALE,
            birth_date=date(1980, 5, 17),
            relation=Relation.HEAD,
            health=health,
            disability_grade=0,
            schooling=Schooling.JUNIOR,
            labour_ability=LabourAbility.NORMAL,
            employment=Employment.MIGRANT,
            phone=SecretStr(phone),
        )
    )
    return person_id


def add_helpers(
    graph: GraphClient,
    count: int,
    region: str = "4402",
    capacity: int = 50,
    kind: HelperKind = HelperKind.CHARITY,
    prefix: str = "C",
) -> list[str]:
    repo = HelperRepository(graph)
    ids = [f"{prefix}{i:03d}" for i in range(count)]
    for helper_id in ids:
        repo.save(
            Helper(
                id=helper_id,
                kind=kind,
                name=f"慈善会{helper_id}",
                description="资助困难群众",
                capabilities=tuple(NeedCategory),
                service_regions=(region,),
                capacity=capacity,
                home_region_code=region,
            )
        )
    return ids


def add_need(
    graph: GraphClient,
    need_id: str,
    hid: str,
    village: str,
    category: NeedCategory = NeedCategory.JOB,
    amount: float = 0,
    status: NeedStatus = NeedStatus.OPEN,
) -> None:
    NeedRepository(graph).save(
        Need(
            id=need_id,
            household_id=hid,
            village_code=village,
            category=category,
            kind=category.kind,
            title="需要帮扶",
            text="家庭困难，需要帮扶",
            amount=amount,
            urgency=Urgency.HIGH,
            status=status,
            created_at=date(2026, 10, 1),
        )
    )


def helper_principal(helper_id: str, role: Role = Role.CHARITY) -> Principal:
    return Principal(
        user_id=f"user-{helper_id}", username=helper_id, role=role, helper_id=helper_id
    )
