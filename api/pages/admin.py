"""Pages of administrators: the organisations that help (帮扶主体) — list them, register one,
change one. The same HelperService as /api/v1/helpers (audited, embedded again by a worker);
the form checks what a person can get wrong — nothing offered, a malformed or unknown region
code — beside the field, keeping what was typed."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Helpers
from api.helpers import HelperChange, HelperCreate, HelperService
from api.pages.deps import CheckedForm, page_caller_for
from api.pages.filters import PAGE_SIZE, REGION_PATTERN, HelperFilter
from api.pages.forms import (
    CAPABILITY_FIELD,
    FormResult,
    capability_values,
    field_message,
    parse_form,
    read_capabilities,
)
from api.pages.i18n import Lang, lang_of, translate
from api.pages.render import redirect, render
from api.policy import Action
from bangfu.vocabulary import HelperKind, NeedCategory
from matching.needs import Caller

router = APIRouter(include_in_schema=False)

Registrar = Annotated[Caller, Depends(page_caller_for(Action.MANAGE_HELPERS))]
_CODE_SEPARATORS = re.compile(r"[\s,，、;；]+")


class HelperForm(BaseModel):
    """The form's text fields; capabilities come as checkboxes and the service regions as
    codes separated by spaces or commas."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=100)
    description: str = Field(min_length=2, max_length=1000)
    capacity: int = Field(ge=0, le=10_000)
    service_regions: str = Field(min_length=2, max_length=600)
    home_region_code: str = Field(pattern=REGION_PATTERN)


class NewHelperForm(HelperForm):
    kind: HelperKind


def _read_form(
    model: type[HelperForm], form: dict[str, str], lang: Lang, helpers: HelperService
) -> tuple[FormResult[HelperForm], list[NeedCategory], list[str]]:
    """The form checked: the text fields, the capabilities ticked and the region codes given,
    with an error beside each field a person got wrong."""
    result = parse_form(model, form, lang)
    chosen = read_capabilities(result, form, lang)
    codes = [c for c in _CODE_SEPARATORS.split(form.get("service_regions", "")) if c]
    if any(re.fullmatch(REGION_PATTERN, c) is None for c in codes):
        result.errors["service_regions"] = field_message("string_pattern_mismatch", None, lang)
    elif result.model is not None:
        home = result.model.home_region_code
        unknown = helpers.unknown_regions([*codes, home])
        if set(unknown) & set(codes):
            listed = "、".join(c for c in unknown if c in codes)
            result.errors["service_regions"] = translate(lang, "unknown_regions", codes=listed)
        if home in unknown:
            result.errors["home_region_code"] = translate(lang, "unknown_regions", codes=home)
    if result.errors:
        result.model = None
    return result, chosen, codes


def _list_page(
    request: Request,
    caller: Caller,
    helpers: HelperService,
    filters: HelperFilter,
    form: FormResult[HelperForm] | None = None,
    status: int = 200,
) -> Response:
    page = helpers.page(caller, filters.kind, filters.page, PAGE_SIZE)
    context = {
        "page": page,
        "filters": filters,
        "has_more": page.page * PAGE_SIZE < page.total,
        "kinds": [k.value for k in HelperKind],
        "categories": [c.value for c in NeedCategory],
        "capability_field": CAPABILITY_FIELD,
        "form": form or FormResult(values={}),
    }
    return render(request, "helpers.html", context, status)


@router.get("/admin/helpers")
def helper_list(
    request: Request,
    caller: Registrar,
    helpers: Helpers,
    filters: Annotated[HelperFilter, Query()],
) -> Response:
    return _list_page(request, caller, helpers, filters)


@router.post("/admin/helpers")
def register(request: Request, form: CheckedForm, caller: Registrar, helpers: Helpers) -> Response:
    result, chosen, codes = _read_form(NewHelperForm, form, lang_of(request), helpers)
    if not isinstance(result.model, NewHelperForm):
        return _list_page(request, caller, helpers, HelperFilter(), result, 422)
    created = helpers.create(
        caller,
        HelperCreate(
            kind=result.model.kind,
            name=result.model.name,
            description=result.model.description,
            capabilities=chosen,
            capacity=result.model.capacity,
            service_regions=codes,
            home_region_code=result.model.home_region_code,
        ),
    )
    return redirect(request, f"/admin/helpers/{created.id}?done=saved_ok")


def _helper_page(
    request: Request, helper_id: str, form: FormResult[HelperForm], status: int = 200
) -> Response:
    context = {
        "helper_id": helper_id,
        "form": form,
        "categories": [c.value for c in NeedCategory],
        "capability_field": CAPABILITY_FIELD,
    }
    return render(request, "helper.html", context, status)


@router.get("/admin/helpers/{helper_id}")
def helper_page(request: Request, helper_id: str, caller: Registrar, helpers: Helpers) -> Response:
    helper = helpers.get(caller, helper_id)
    values = {
        "name": helper.name,
        "description": helper.description,
        "capacity": str(helper.capacity),
        "service_regions": " ".join(helper.service_regions),
        "home_region_code": helper.home_region_code,
        "kind": helper.kind,
        **capability_values(helper.capabilities),
    }
    return _helper_page(request, helper_id, FormResult(values=values))


@router.post("/admin/helpers/{helper_id}")
def change(
    request: Request, helper_id: str, form: CheckedForm, caller: Registrar, helpers: Helpers
) -> Response:
    helpers.get(caller, helper_id)  # 404 before any form check for an unknown organisation
    result, chosen, codes = _read_form(HelperForm, form, lang_of(request), helpers)
    if result.model is None:
        return _helper_page(request, helper_id, result, 422)
    helpers.update(
        caller,
        helper_id,
        HelperChange(
            name=result.model.name,
            description=result.model.description,
            capabilities=chosen,
            capacity=result.model.capacity,
            service_regions=codes,
            home_region_code=result.model.home_region_code,
        ),
    )
    return redirect(request, f"/admin/helpers/{helper_id}?done=saved_ok")
