"""Organisations that help (帮扶主体): registered and placed by admins; each organisation's own
login keeps its profile (api/helpers.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from api.deps import Helpers, Pagination, caller_for, caller_for_any
from api.helpers import HelperChange, HelperCreate, HelperPageView, HelperView
from api.policy import Action
from bangfu.vocabulary import HelperKind
from matching.needs import Caller

router = APIRouter(tags=["helpers"])

Registrar = Annotated[Caller, Depends(caller_for(Action.MANAGE_HELPERS))]
Editor = Annotated[Caller, Depends(caller_for_any(Action.MANAGE_HELPERS, Action.EDIT_OWN_HELPER))]


@router.post("/helpers", response_model=HelperView, status_code=status.HTTP_201_CREATED)
def create_helper(body: HelperCreate, caller: Registrar, helpers: Helpers) -> HelperView:
    """Register an organisation (admins): where it serves decides whose needs it sees."""
    return helpers.create(caller, body)


@router.get("/helpers", response_model=HelperPageView)
def list_helpers(
    caller: Registrar,
    helpers: Helpers,
    page: Pagination,
    kind: Annotated[HelperKind | None, Query()] = None,
) -> HelperPageView:
    return helpers.page(caller, kind, page.page, page.page_size)


@router.get("/helpers/{helper_id}", response_model=HelperView)
def get_helper(helper_id: str, caller: Editor, helpers: Helpers) -> HelperView:
    """An organisation's profile: any for admins, its own for a helper login."""
    return helpers.get(caller, helper_id)


@router.patch("/helpers/{helper_id}", response_model=HelperView)
def change_helper(
    helper_id: str, body: HelperChange, caller: Editor, helpers: Helpers
) -> HelperView:
    """Admins change anything but the id and kind; an organisation's own login its description,
    capabilities and capacity (403 for the rest)."""
    return helpers.update(caller, helper_id, body)
