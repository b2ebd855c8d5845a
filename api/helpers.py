"""Organisations that help (帮扶主体): charities, federations, helper units and enterprises.

Admins register them and decide where they serve, which decides whose needs they see; an
organisation's own login keeps its profile (description, capabilities, capacity) but cannot
widen its regions or rename itself. Each change commits with its audit event in one transaction
and is then sent to a worker to embed the text again for matching (`bangfu.matching.embed`; an
unchanged text is not embedded twice, and with the broker down the nightly batch covers it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.audit import AuditTrail
from api.policy import Action
from api.views import View
from bangfu.access import Role
from bangfu.errors import InvalidInputError, PermissionDeniedError
from bangfu.vocabulary import HelperKind, NeedCategory
from graph.models import Helper
from graph.repositories import AuditRepository
from graph.repositories.helpers import HelperRepository
from graph.repositories.regions import RegionRepository
from matching.needs import Caller

RegionCodeField = Annotated[str, Field(pattern=r"^\d{2}(\d{2}(\d{2}(\d{3}(\d{3})?)?)?)?$")]
# Ids say what kind of organisation they are, as the seeded ones do (C…, W…, D…, U…, E…).
ID_PREFIX: dict[HelperKind, str] = {
    HelperKind.CHARITY: "C",
    HelperKind.WOMENS_FEDERATION: "W",
    HelperKind.DISABLED_FEDERATION: "D",
    HelperKind.HELPER_UNIT: "U",
    HelperKind.ENTERPRISE: "E",
}
# What an organisation's own login may change; the rest is the registrar's (an admin's).
OWN_FIELDS = frozenset({"description", "capabilities", "capacity"})


class HelperCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: HelperKind
    name: str = Field(min_length=2, max_length=100)
    description: str = Field(min_length=2, max_length=1000)
    capabilities: list[NeedCategory] = Field(min_length=1, max_length=len(NeedCategory))
    # Open claims it can hold at once (a matching and claim limit).
    capacity: int = Field(ge=0, le=10_000)
    service_regions: list[RegionCodeField] = Field(min_length=1, max_length=50)
    home_region_code: RegionCodeField


class HelperChange(BaseModel):
    """The fields to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=100)
    description: str | None = Field(default=None, min_length=2, max_length=1000)
    capabilities: list[NeedCategory] | None = Field(
        default=None, min_length=1, max_length=len(NeedCategory)
    )
    capacity: int | None = Field(default=None, ge=0, le=10_000)
    service_regions: list[RegionCodeField] | None = Field(default=None, min_length=1, max_length=50)
    home_region_code: RegionCodeField | None = None

    def given(self) -> dict[str, object]:
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if v is not None}


class HelperView(View):
    """An organisation's public profile (organisations are not persons: nothing here is
    personal data)."""

    id: str
    kind: str
    name: str
    description: str
    capabilities: list[str]
    capacity: int
    service_regions: list[str]
    home_region_code: str

    @classmethod
    def of(cls, helper: Helper) -> HelperView:
        return cls(
            id=helper.id,
            kind=helper.kind.value,
            name=helper.name,
            description=helper.description,
            capabilities=[c.value for c in helper.capabilities],
            capacity=helper.capacity,
            service_regions=list(helper.service_regions),
            home_region_code=helper.home_region_code,
        )


class HelperPageView(View):
    items: list[HelperView]
    total: int
    page: int
    page_size: int


class HelperService:
    def __init__(
        self,
        helpers: HelperRepository,
        regions: RegionRepository,
        audit: AuditRepository,
        on_changed: Callable[[str], None] | None = None,
    ) -> None:
        self.helpers = helpers
        self.regions = regions
        self.audit = audit
        self.on_changed = on_changed

    def _trail(self, caller: Caller) -> AuditTrail:
        return AuditTrail(self.audit, principal=caller.principal, request_id=caller.request_id)

    def _authorize(self, caller: Caller, helper_id: str | None) -> None:
        """Admins manage every organisation; a helper login only its own (others: 404)."""
        trail = self._trail(caller)
        if caller.principal.role is Role.ADMIN or helper_id is None:
            trail.authorize(Action.MANAGE_HELPERS, "helper", helper_id)
        else:
            trail.authorize(Action.EDIT_OWN_HELPER, "helper", helper_id, helper_id=helper_id)

    def unknown_regions(self, codes: list[str]) -> list[str]:
        """The codes that name no region (a form shows them beside its field)."""
        return sorted(set(codes) - self.regions.existing(codes))

    def _check_regions(self, codes: list[str]) -> None:
        missing = self.unknown_regions(codes)
        if missing:
            listed = ", ".join(missing)
            raise InvalidInputError(
                f"unknown region codes: {listed}", message_zh=f"区划代码不存在：{listed}"
            )

    def create(self, caller: Caller, draft: HelperCreate) -> HelperView:
        self._authorize(caller, None)
        self._check_regions([*draft.service_regions, draft.home_region_code])
        helper = Helper(
            id=f"{ID_PREFIX[draft.kind]}-{uuid.uuid4().hex[:10]}",
            kind=draft.kind,
            name=draft.name,
            description=draft.description,
            capabilities=tuple(dict.fromkeys(draft.capabilities)),
            service_regions=tuple(dict.fromkeys(draft.service_regions)),
            capacity=draft.capacity,
            home_region_code=draft.home_region_code,
        )
        view = HelperView.of(helper)
        self._trail(caller).record(
            "helper.create",
            "helper",
            helper.id,
            after=view,
            statements=[self.helpers.save_statement(helper)],
        )
        self._changed(helper.id)
        return view

    def get(self, caller: Caller, helper_id: str) -> HelperView:
        self._authorize(caller, helper_id)
        return HelperView.of(self.helpers.get(helper_id))

    def page(
        self, caller: Caller, kind: HelperKind | None, page: int, page_size: int
    ) -> HelperPageView:
        self._authorize(caller, None)
        skip = (page - 1) * page_size
        items, total = self.helpers.page(kind.value if kind else None, skip, page_size)
        return HelperPageView(
            items=[HelperView.of(h) for h in items], total=total, page=page, page_size=page_size
        )

    def update(self, caller: Caller, helper_id: str, change: HelperChange) -> HelperView:
        self._authorize(caller, helper_id)
        given = change.given()
        beyond = sorted(set(given) - OWN_FIELDS)
        if caller.principal.role is not Role.ADMIN and beyond:
            fields = ", ".join(beyond)
            self._trail(caller).denied(
                "helper.update", "helper", helper_id, reason=f"registrar fields: {fields}"
            )
            raise PermissionDeniedError(
                f"only an administrator changes {fields}",
                message_zh="名称、服务区域和所在地由管理员登记修改",
            )
        old = self.helpers.get(helper_id)
        regions = change.service_regions or list(old.service_regions)
        home = change.home_region_code or old.home_region_code
        if change.service_regions is not None or change.home_region_code is not None:
            self._check_regions([*regions, home])
        new = Helper(
            id=old.id,
            kind=old.kind,
            name=change.name or old.name,
            description=change.description or old.description,
            capabilities=(
                tuple(dict.fromkeys(change.capabilities))
                if change.capabilities is not None
                else old.capabilities
            ),
            capacity=old.capacity if change.capacity is None else change.capacity,
            service_regions=tuple(dict.fromkeys(regions)),
            home_region_code=home,
        )
        before, after = HelperView.of(old), HelperView.of(new)
        self._trail(caller).record(
            "helper.update",
            "helper",
            helper_id,
            before=before,
            after=after,
            statements=[self.helpers.save_statement(new)],
        )
        if (new.name, new.description) != (old.name, old.description):
            self._changed(helper_id)
        return after

    def _changed(self, helper_id: str) -> None:
        if self.on_changed is not None:
            self.on_changed(helper_id)
