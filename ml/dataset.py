"""Training and evaluation data straight from the synthetic generator, without a database.

Each county batch becomes a `LabelledChunk`: the same `HouseholdRiskRecord`s the graph would
return for that county (so features are computed by the same code), plus what only the
generator knows: the true probability of falling under the line the next year (the oracle)
and the same probability without that year's assistance (the true effect of help).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from bangfu.vocabulary import HouseholdStatus, PovertyCause
from graph.models import PANEL_FIELDS, HouseholdRiskRecord, RiskColumns
from graph.synthetic import Scale, generate
from ml.features import FloatArray, chunk_from_records

Row = Mapping[str, object]
Tables = Mapping[str, Sequence[Row]]


@dataclass(frozen=True)
class LabelledChunk:
    chunk: RiskColumns
    # H x panel years, aligned with chunk.household_ids and chunk.years; NaN where unknown.
    p_true: FloatArray
    p_unaided: FloatArray


def _year_of(iso: object) -> int:
    return date.fromisoformat(str(iso)).year if iso not in ("", None) else 0


def records_from_tables(tables: Tables, last_year: int | None = None) -> list[HouseholdRiskRecord]:
    """Generator (or CSV) rows of one batch as risk records, panel years up to `last_year`."""
    members: dict[object, list[Row]] = defaultdict(list)
    for p in tables.get("persons", ()):
        members[p["household_id"]].append(p)
    panels: dict[object, dict[int, tuple[float, ...]]] = defaultdict(dict)
    for y in tables.get("household_years", ()):
        year = int(str(y["year"]))
        if last_year is None or year <= last_year:
            panels[y["household_id"]][year] = tuple(float(y[f]) for f in PANEL_FIELDS)  # type: ignore[arg-type]
    needs: dict[object, list[Row]] = defaultdict(list)
    for n in tables.get("needs", ()):
        needs[n["household_id"]].append(n)
    helpers: dict[object, int] = defaultdict(int)
    for pair in tables.get("helper_pairings", ()):
        helpers[pair["household_id"]] += 1
    cadre_load: dict[object, int] = defaultdict(int)
    for pair in tables.get("cadre_pairings", ()):
        cadre_load[pair["cadre_id"]] += 1
    cadres: dict[object, list[object]] = defaultdict(list)
    for pair in tables.get("cadre_pairings", ()):
        cadres[pair["household_id"]].append(pair["cadre_id"])

    records: list[HouseholdRiskRecord] = []
    for h in tables.get("households", ()):
        hid = h["household_id"]
        ms = members.get(hid, [])
        ns = needs.get(hid, [])
        cs = cadres.get(hid, [])
        records.append(
            HouseholdRiskRecord.model_construct(
                id=str(hid),
                village_code=str(h["village_code"]),
                status=HouseholdStatus(str(h["status"])),
                main_cause=PovertyCause(str(h["main_cause"])),
                other_causes=tuple(c for c in str(h["other_causes"]).split(";") if c),
                size=int(str(h["size"])),
                housing_safe=bool(h["housing_safe"]),
                water_safe=bool(h["water_safe"]),
                member_birth_years=tuple(_year_of(m["birth_date"]) for m in ms),
                member_health=tuple(str(m["health"]) for m in ms),
                member_disability=tuple(int(str(m["disability_grade"])) for m in ms),
                member_labour=tuple(str(m["labour_ability"]) for m in ms),
                member_schooling=tuple(str(m["schooling"]) for m in ms),
                member_employment=tuple(str(m["employment"]) for m in ms),
                panel=panels.get(hid, {}),
                need_categories=tuple(str(n["category"]) for n in ns),
                need_created_years=tuple(_year_of(n["created_at"]) for n in ns),
                need_fulfilled_years=tuple(_year_of(n["fulfilled_at"]) for n in ns),
                paired_helpers=helpers.get(hid, 0),
                paired_cadres=len(cs),
                cadre_households=max((cadre_load[c] for c in cs), default=0),
                claiming_helpers=len({n["claimed_by"] for n in ns if n["claimed_by"]}),
            )
        )
    return records


def labelled_chunk(tables: Tables) -> LabelledChunk:
    chunk = chunk_from_records(records_from_tables(tables))
    index = {hid: i for i, hid in enumerate(chunk.household_ids)}
    year_index = {y: j for j, y in enumerate(chunk.years)}
    shape = (chunk.households, len(chunk.years))
    p_true = np.full(shape, np.nan)
    p_unaided = np.full(shape, np.nan)
    for row in tables.get("household_years", ()):
        i = index[str(row["household_id"])]
        j = year_index[int(str(row["year"]))]
        p_true[i, j] = float(str(row["p_fall_next"]))
        p_unaided[i, j] = float(str(row["p_fall_next_unaided"]))
    return LabelledChunk(chunk=chunk, p_true=p_true, p_unaided=p_unaided)


def synthetic_chunks(scale: Scale, seed: int) -> Iterator[LabelledChunk]:
    """One labelled chunk per county of a generated scale."""
    for batch in generate(scale, seed):
        if batch.tables["households"]:
            yield labelled_chunk(batch.tables)
