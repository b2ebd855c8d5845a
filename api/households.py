"""Households as officials and field workers see them: scoped to their region, identifiers
masked, plaintext only through `reveal`, which is audited. Field workers and officials also
record households and members (HouseholdDraft, MemberDraft); each write commits together with
its audit event, which holds the masked views only."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from api.audit import AuditTrail
from api.policy import Action
from api.views import (
    HouseholdDetail,
    HouseholdPage,
    HouseholdView,
    Ledger,
    LedgerItem,
    MemberView,
    RevealedIdentifiers,
    scrub,
)
from bangfu.errors import ConflictError, InvalidInputError, NotFoundError
from bangfu.identity import validate_national_id, validate_phone
from bangfu.vocabulary import (
    Employment,
    Health,
    HouseholdStatus,
    LabourAbility,
    PovertyCause,
    RegionLevel,
    Relation,
    Schooling,
    Sex,
)
from graph.models import AuditEntry, Household, Income, Person
from graph.repositories import AuditRepository, HouseholdRepository, PersonRepository
from graph.repositories.regions import RegionRepository
from matching.needs import Caller, NeedService

Yuan = Field(default=0, ge=0, le=10_000_000)


class HouseholdDraft(BaseModel):
    """What a field worker enters for a household. Status, monitoring type and exit are
    server-owned: they change through the risk review and the exit procedure, not this form."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    village_code: str = Field(pattern=r"^\d{12}$")
    main_cause: PovertyCause
    address: str = Field(min_length=2, max_length=200)
    phone: str | None = Field(default=None, max_length=20)
    size: int = Field(ge=1, le=20)
    income_wage: float = Yuan
    income_farm: float = Yuan
    income_business: float = Yuan
    income_transfer: float = Yuan
    income_assets: float = Yuan
    spend_medical: float = Yuan
    spend_education: float = Yuan
    housing_safe: bool = True
    water_safe: bool = True

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return validate_phone(value) if value else None

    def income(self) -> Income:
        return Income(
            wage=self.income_wage,
            farm=self.income_farm,
            business=self.income_business,
            transfer=self.income_transfer,
            assets=self.income_assets,
        )


class MemberDraft(BaseModel):
    """A household member. On an edit a blank ID number keeps the stored one (the form shows
    it masked); a new member needs one (MemberCreate)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=30)
    sex: Sex
    birth_date: date
    relation: Relation
    health: Health
    disability_grade: int = Field(default=0, ge=0, le=4)
    schooling: Schooling
    labour_ability: LabourAbility
    employment: Employment
    national_id: str | None = Field(default=None, max_length=30)
    phone: str | None = Field(default=None, max_length=20)

    @field_validator("national_id")
    @classmethod
    def _national_id(cls, value: str | None) -> str | None:
        return validate_national_id(value) if value else None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return validate_phone(value) if value else None


class RevealReason(BaseModel):
    """Why a person's plaintext identifiers are needed (核实身份, 办理救助…): recorded in the
    audit trail with the reveal, so a reviewer can judge each one."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=200)


class MemberCreate(MemberDraft):
    national_id: str = Field(max_length=30)


class HouseholdService:
    def __init__(
        self,
        households: HouseholdRepository,
        persons: PersonRepository,
        audit: AuditRepository,
        needs: NeedService,
        regions: RegionRepository | None = None,
    ) -> None:
        self.households = households
        self.persons = persons
        self.audit = audit
        self.needs = needs
        self.regions = regions

    def list(
        self, caller: Caller, region_code: str | None, status: str | None, page: int, size: int
    ) -> HouseholdPage:
        items, total = self.households.in_scope(
            caller.prefixes, region_code, status, skip=(page - 1) * size, limit=size
        )
        return HouseholdPage(
            items=[HouseholdView.of(h) for h in items], total=total, page=page, page_size=size
        )

    def detail(self, caller: Caller, household_id: str) -> HouseholdDetail:
        household = self.households.get_in_scope(household_id, caller.prefixes)
        members = self.persons.members_of(household.id)
        return HouseholdDetail(
            household=HouseholdView.of(household), members=[MemberView.of(p) for p in members]
        )

    def ledger(self, caller: Caller, household_id: str) -> Ledger:
        self.households.get_in_scope(household_id, caller.prefixes)
        entries = self.needs.ledger(caller, household_id)
        items = [LedgerItem.of(e) for e in entries]
        total = round(sum(i.amount or 0 for i in items if i.step in ("fulfil", "pledge")), 2)
        return Ledger(household_id=household_id, items=items, total_amount=total)

    def reveal(
        self, caller: Caller, household_id: str, person_id: str, why: RevealReason
    ) -> RevealedIdentifiers:
        """Plaintext ID and phone of one member, with the stated reason. Recorded before it is
        returned; identifiers typed into the reason are not copied into the trail."""
        household = self.households.get_in_scope(household_id, caller.prefixes)
        person = self.persons.get(person_id)
        if person.household_id != household.id:
            raise NotFoundError(f"person {person_id} not found", message_zh="未找到该人员")
        self.audit.append(
            AuditEntry(
                actor_id=caller.principal.user_id,
                actor_role=caller.principal.role.value,
                action="person.reveal_pii",
                subject_type="person",
                subject_id=person.id,
                reason=scrub(why.reason),
                request_id=caller.request_id,
            )
        )
        return RevealedIdentifiers(
            person_id=person.id,
            national_id=person.national_id.get_secret_value(),
            phone=person.phone.get_secret_value() if person.phone else None,
        )

    # --- writes (field workers and officials of the region) ---------------------------------

    def _trail(self, caller: Caller) -> AuditTrail:
        return AuditTrail(self.audit, principal=caller.principal, request_id=caller.request_id)

    def _village_in_scope(self, caller: Caller, village_code: str) -> None:
        """The village exists and lies in the caller's region (else the 404 of any record
        outside it)."""
        self._trail(caller).authorize(
            Action.WRITE_HOUSEHOLD, "region", village_code, region_code=village_code
        )
        if self.regions is None or self.regions.get(village_code).level is not RegionLevel.VILLAGE:
            raise NotFoundError(f"village {village_code} not found", message_zh="未找到该村")

    def create(self, caller: Caller, draft: HouseholdDraft) -> HouseholdView:
        self._village_in_scope(caller, draft.village_code)
        household = Household(
            id=f"H-{uuid.uuid4().hex[:12]}",
            village_code=draft.village_code,
            status=HouseholdStatus.POOR,
            main_cause=draft.main_cause,
            size=draft.size,
            address=draft.address,
            phone=SecretStr(draft.phone) if draft.phone else None,
            income=draft.income(),
            spend_medical=draft.spend_medical,
            spend_education=draft.spend_education,
            housing_safe=draft.housing_safe,
            water_safe=draft.water_safe,
            registered_year=datetime.now(UTC).year,
        )
        view = HouseholdView.of(household)
        self._trail(caller).record(
            "household.create",
            "household",
            household.id,
            after=view,
            statements=[self.households.save_statement(household)],
        )
        return view

    def update(self, caller: Caller, household_id: str, draft: HouseholdDraft) -> HouseholdView:
        """Edit a household's facts; its village, status and history stay as they are."""
        old = self.households.get_in_scope(household_id, caller.prefixes)
        self._trail(caller).authorize(
            Action.WRITE_HOUSEHOLD, "household", household_id, region_code=old.village_code
        )
        new = old.model_copy(
            update={
                "main_cause": draft.main_cause,
                "size": draft.size,
                "address": draft.address,
                # Blank keeps the stored number: the form never shows it unmasked.
                "phone": SecretStr(draft.phone) if draft.phone else old.phone,
                "income": draft.income(),
                "spend_medical": draft.spend_medical,
                "spend_education": draft.spend_education,
                "housing_safe": draft.housing_safe,
                "water_safe": draft.water_safe,
            }
        )
        view = HouseholdView.of(new)
        self._trail(caller).record(
            "household.update",
            "household",
            household_id,
            before=HouseholdView.of(old),
            after=view,
            statements=[self.households.save_statement(new)],
        )
        return view

    def member(self, caller: Caller, household_id: str, person_id: str) -> MemberView:
        return MemberView.of(self._member_in_scope(caller, household_id, person_id))

    def _member_in_scope(self, caller: Caller, household_id: str, person_id: str) -> Person:
        household = self.households.get_in_scope(household_id, caller.prefixes)
        person = self.persons.get(person_id)
        if person.household_id != household.id:
            raise NotFoundError(f"person {person_id} not found", message_zh="未找到该人员")
        return person

    def _unique_id(self, national_id: str, person_id: str | None) -> None:
        holder = self.persons.find_by_national_id(national_id)
        if holder is not None and holder.id != person_id:
            # Never the number itself, nor who holds it: only that it is taken.
            raise ConflictError(
                "a person with this ID number is already registered",
                message_zh="该身份证号已登记在其他人员名下",
            )

    def add_member(self, caller: Caller, household_id: str, draft: MemberDraft) -> MemberView:
        household = self.households.get_in_scope(household_id, caller.prefixes)
        self._trail(caller).authorize(
            Action.WRITE_HOUSEHOLD, "household", household_id, region_code=household.village_code
        )
        if not draft.national_id:
            raise InvalidInputError(
                "a new member needs an ID number", message_zh="新成员须填写身份证号"
            )
        self._unique_id(draft.national_id, None)
        person = Person(
            id=f"P-{uuid.uuid4().hex[:12]}",
            household_id=household_id,
            **self._person_fields(draft, SecretStr(draft.national_id)),
        )
        view = MemberView.of(person)
        self._trail(caller).record(
            "person.create",
            "person",
            person.id,
            after=view,
            statements=[self.persons.save_statement(person)],
        )
        return view

    def update_member(
        self, caller: Caller, household_id: str, person_id: str, draft: MemberDraft
    ) -> MemberView:
        old = self._member_in_scope(caller, household_id, person_id)
        household = self.households.get_in_scope(household_id, caller.prefixes)
        self._trail(caller).authorize(
            Action.WRITE_HOUSEHOLD, "person", person_id, region_code=household.village_code
        )
        national_id = old.national_id
        if draft.national_id:
            self._unique_id(draft.national_id, person_id)
            national_id = SecretStr(draft.national_id)
        new = Person(
            id=old.id, household_id=old.household_id, **self._person_fields(draft, national_id)
        )
        view = MemberView.of(new)
        self._trail(caller).record(
            "person.update",
            "person",
            person_id,
            before=MemberView.of(old),
            after=view,
            statements=[self.persons.save_statement(new)],
        )
        return view

    @staticmethod
    def _person_fields(draft: MemberDraft, national_id: SecretStr) -> dict[str, object]:
        return {
            "national_id": national_id,
            "name": draft.name,
            "sex": draft.sex,
            "birth_date": draft.birth_date,
            "relation": draft.relation,
            "health": draft.health,
            "disability_grade": draft.disability_grade,
            "schooling": draft.schooling,
            "labour_ability": draft.labour_ability,
            "employment": draft.employment,
            "phone": SecretStr(draft.phone) if draft.phone else None,
        }
