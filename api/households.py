"""Households as officials and field workers see them: scoped to their region, identifiers
masked, plaintext only through `reveal`, which is audited."""

from __future__ import annotations

from api.views import (
    HouseholdDetail,
    HouseholdPage,
    HouseholdView,
    Ledger,
    LedgerItem,
    MemberView,
    RevealedIdentifiers,
)
from bangfu.errors import NotFoundError
from graph.models import AuditEntry
from graph.repositories import AuditRepository, HouseholdRepository, PersonRepository
from matching.needs import Caller, NeedService


class HouseholdService:
    def __init__(
        self,
        households: HouseholdRepository,
        persons: PersonRepository,
        audit: AuditRepository,
        needs: NeedService,
    ) -> None:
        self.households = households
        self.persons = persons
        self.audit = audit
        self.needs = needs

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

    def reveal(self, caller: Caller, household_id: str, person_id: str) -> RevealedIdentifiers:
        """Plaintext ID and phone of one member. Recorded before it is returned."""
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
                reason="explicit reveal",
                request_id=caller.request_id,
            )
        )
        return RevealedIdentifiers(
            person_id=person.id,
            national_id=person.national_id.get_secret_value(),
            phone=person.phone.get_secret_value() if person.phone else None,
        )
