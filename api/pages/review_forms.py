"""The review steps the alert pages offer and how their forms are read: pure, so the unit
tests check them without services."""

from __future__ import annotations

from pydantic import BaseModel

from api.pages.forms import FormResult, parse_form
from api.pages.i18n import Lang
from ml import review

# The steps these pages offer, with the request model each takes (None: no form fields).
# A decision takes one measure here (decision_form); more, and helpers, through the API.
STEP_FORMS: dict[str, type[BaseModel] | None] = {
    "accept": None,
    "visit": review.Visit,
    "notice": review.Notice,
    "town_review": review.TownReview,
    "confirm": review.Decision,
    "dismiss": review.Dismissal,
    "record_income": review.IncomeCheckIn,
    "eliminate": review.Elimination,
}
# Unticked checkboxes send nothing: for these models that is "no", not the model's default.
_CHECKBOXES: dict[type[BaseModel], tuple[str, ...]] = {
    review.Visit: ("data_matches",),
    review.Elimination: ("costs_resolved", "guarantees_resolved", "water_resolved"),
}


MEASURE_FIELDS = ("category", "title", "text", "amount")


def decision_form(form: dict[str, str], lang: Lang) -> FormResult[BaseModel]:
    """The county decision with at most one measure (帮扶措施) typed into the same form as
    measure_category, measure_title, ...; more measures and helpers go through the API. A
    measure's errors sit next to its own fields."""
    values = {k: form.get(k, "") for k in ("monitor_type", "note")}
    values |= {f"measure_{k}": form.get(f"measure_{k}", "") for k in MEASURE_FIELDS}
    typed = {k: form.get(f"measure_{k}", "") for k in MEASURE_FIELDS}
    measures: list[review.Measure] = []
    errors: dict[str, str] = {}
    if typed["title"].strip() or typed["text"].strip():
        measure = parse_form(review.Measure, typed, lang)
        errors |= {f"measure_{k}": v for k, v in measure.errors.items()}
        if measure.model is not None:
            measures.append(measure.model)
    decision = parse_form(review.Decision, form, lang, fields=("monitor_type", "note"))
    errors |= decision.errors
    result: FormResult[BaseModel] = FormResult(values=values, errors=errors)
    if not errors and decision.model is not None:
        result.model = decision.model.model_copy(update={"measures": tuple(measures)})
    return result


def parse_step(model: type[BaseModel], form: dict[str, str], lang: Lang) -> FormResult[BaseModel]:
    """A step's form as its request model (unticked checkboxes read as "no")."""
    fields = dict(form)
    for name in _CHECKBOXES.get(model, ()):
        fields[name] = "true" if form.get(name) else "false"
    if model is review.Decision:
        return decision_form(fields, lang)
    return parse_form(model, fields, lang)
