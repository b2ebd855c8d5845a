"""Response models, one per audience. Each lists the fields it shows, so a field added to a
domain type never reaches a response by accident.

- `NeedCard`: charities, federations and helper units. De-identified: no household, names, IDs,
  phones or addresses below the village; ID- and phone-shaped text in free text is blanked.
- `NeedRecord`, `HouseholdView`, `MemberView`: officials and field workers of the region; IDs and
  phones masked (first 6 / last 4, first 3 / last 4) unless revealed through the audited call.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from bangfu.identity import mask_national_id, mask_phone
from bangfu.vocabulary import label_zh
from graph.claims import BrowsedNeed, LedgerEntry, NeedEvent, NeedPage, TransferListing
from graph.models import Household, Need, Person

# An 18-character ID number or an 11-digit mobile number typed into free text.
_ID_IN_TEXT = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
CONTACT_NOTE_ZH = "如需联系受助家庭，请通过所在村驻村干部"
CONTACT_NOTE_EN = "Contact the household through the village's field worker"


def scrub(text: str) -> str:
    return _PHONE_IN_TEXT.sub("***", _ID_IN_TEXT.sub("***", text))


class View(BaseModel):
    model_config = ConfigDict(frozen=True)


class NeedCard(View):
    id: str
    category: str
    category_zh: str
    kind: str
    title: str
    text: str
    amount: float
    pledged_total: float
    remaining: float
    urgency: str
    status: str
    created_at: date
    village_code: str
    village_name: str | None = None
    holder_id: str | None = None
    contact_note: str = CONTACT_NOTE_ZH
    contact_note_en: str = CONTACT_NOTE_EN

    @classmethod
    def of(cls, need: Need, pledged: float, village_name: str | None = None) -> NeedCard:
        return cls(
            id=need.id,
            category=need.category.value,
            category_zh=label_zh(need.category.value),
            kind=need.kind.value,
            title=scrub(need.title),
            text=scrub(need.text),
            amount=need.amount,
            pledged_total=pledged,
            remaining=round(max(need.amount - pledged, 0), 2),
            urgency=need.urgency.value,
            status=need.status.value,
            created_at=need.created_at,
            village_code=need.village_code,
            village_name=village_name,
            holder_id=need.claimed_by,
        )

    @classmethod
    def of_browsed(cls, item: BrowsedNeed) -> NeedCard:
        return cls.of(item.need, item.pledged_total, item.village_name)


class NeedRecord(View):
    id: str
    household_id: str
    village_code: str
    village_name: str | None = None
    category: str
    category_zh: str
    kind: str
    title: str
    text: str
    amount: float
    pledged_total: float
    urgency: str
    status: str
    created_at: date
    holder_id: str | None = None
    fulfilled_at: date | None = None

    @classmethod
    def of(cls, need: Need, pledged: float, village_name: str | None = None) -> NeedRecord:
        return cls(
            id=need.id,
            household_id=need.household_id,
            village_code=need.village_code,
            village_name=village_name,
            category=need.category.value,
            category_zh=label_zh(need.category.value),
            kind=need.kind.value,
            title=need.title,
            text=need.text,
            amount=need.amount,
            pledged_total=pledged,
            urgency=need.urgency.value,
            status=need.status.value,
            created_at=need.created_at,
            holder_id=need.claimed_by,
            fulfilled_at=need.fulfilled_at,
        )


class CardPage(View):
    items: list[NeedCard]
    total: int | None  # counted for a county or below; wide scopes page with has_more
    has_more: bool
    page: int
    page_size: int

    @classmethod
    def of(cls, result: NeedPage, page: int, page_size: int) -> CardPage:
        return cls(
            items=[NeedCard.of_browsed(i) for i in result.items],
            total=result.total,
            has_more=result.has_more,
            page=page,
            page_size=page_size,
        )


class RecordPage(View):
    items: list[NeedRecord]
    total: int | None
    has_more: bool
    page: int
    page_size: int

    @classmethod
    def of(cls, result: NeedPage, page: int, page_size: int) -> RecordPage:
        return cls(
            items=[NeedRecord.of(i.need, i.pledged_total, i.village_name) for i in result.items],
            total=result.total,
            has_more=result.has_more,
            page=page,
            page_size=page_size,
        )


class TransferView(View):
    """A request to take over a need from its holder (helpers are organisations: their names
    are not personal data)."""

    id: str
    status: str  # pending, approved, declined, expired_transferred
    from_helper_id: str
    from_helper_name: str | None = None
    to_helper_id: str
    to_helper_name: str | None = None
    requested_at: datetime
    resolved_at: datetime | None = None

    @classmethod
    def of(cls, t: TransferListing) -> TransferView:
        return cls.model_validate(t.model_dump())


class EventView(View):
    id: str
    action: str
    actor_role: str
    helper_id: str | None = None
    at: datetime
    note: str | None = None
    amount: float | None = None
    evidence_name: str | None = None
    from_status: str
    to_status: str

    @classmethod
    def of(cls, event: NeedEvent) -> EventView:
        return cls(
            id=event.id,
            action=event.action,
            actor_role=event.actor_role,
            helper_id=event.helper_id,
            at=event.at,
            note=event.note,
            amount=event.amount,
            evidence_name=event.evidence_name,
            from_status=event.from_status.value,
            to_status=event.to_status.value,
        )


class NeedDetail(View):
    need: NeedRecord
    history: list[EventView]


class MemberView(View):
    id: str
    name: str
    sex: str
    birth_date: date
    relation: str
    health: str
    disability_grade: int
    schooling: str
    labour_ability: str
    employment: str
    national_id_masked: str
    phone_masked: str | None = None

    @classmethod
    def of(cls, person: Person) -> MemberView:
        phone = person.phone.get_secret_value() if person.phone else None
        return cls(
            id=person.id,
            name=person.name,
            sex=person.sex.value,
            birth_date=person.birth_date,
            relation=person.relation.value,
            health=person.health.value,
            disability_grade=person.disability_grade,
            schooling=person.schooling.value,
            labour_ability=person.labour_ability.value,
            employment=person.employment.value,
            national_id_masked=mask_national_id(person.national_id.get_secret_value()),
            phone_masked=mask_phone(phone) if phone else None,
        )


class HouseholdView(View):
    id: str
    village_code: str
    status: str
    status_zh: str
    monitor_type: str | None = None
    main_cause: str
    main_cause_zh: str
    size: int
    address: str
    phone_masked: str | None = None
    income_per_capita: float
    housing_safe: bool
    water_safe: bool
    # Yearly income by source and the large costs, yuan: what the household form edits.
    income_wage: float = 0
    income_farm: float = 0
    income_business: float = 0
    income_transfer: float = 0
    income_assets: float = 0
    spend_medical: float = 0
    spend_education: float = 0

    @classmethod
    def of(cls, household: Household) -> HouseholdView:
        phone = household.phone.get_secret_value() if household.phone else None
        return cls(
            id=household.id,
            village_code=household.village_code,
            status=household.status.value,
            status_zh=label_zh(household.status.value),
            monitor_type=household.monitor_type.value if household.monitor_type else None,
            main_cause=household.main_cause.value,
            main_cause_zh=label_zh(household.main_cause.value),
            size=household.size,
            address=household.address,
            phone_masked=mask_phone(phone) if phone else None,
            income_per_capita=round(household.income_per_capita, 2),
            housing_safe=household.housing_safe,
            water_safe=household.water_safe,
            income_wage=household.income.wage,
            income_farm=household.income.farm,
            income_business=household.income.business,
            income_transfer=household.income.transfer,
            income_assets=household.income.assets,
            spend_medical=household.spend_medical,
            spend_education=household.spend_education,
        )


class HouseholdDetail(View):
    household: HouseholdView
    members: list[MemberView]


class HouseholdPage(View):
    items: list[HouseholdView]
    total: int
    page: int
    page_size: int


class RevealedIdentifiers(View):
    """Plaintext identifiers of one person: only through the audited reveal call."""

    person_id: str
    national_id: str
    phone: str | None = None


class LedgerItem(View):
    source: str
    ref: str
    category: str
    category_zh: str
    title: str
    step: str
    amount: float | None = None
    at: datetime | None = None
    helper_id: str | None = None
    helper_name: str | None = None
    helper_kind: str | None = None

    @classmethod
    def of(cls, entry: LedgerEntry) -> LedgerItem:
        return cls(**entry.model_dump(), category_zh=label_zh(entry.category))


class Ledger(View):
    household_id: str
    items: list[LedgerItem]
    total_amount: float
