"""Cadres of one county and the pairings of "one unit, one person, one place, one responsibility".

Each village has a first secretary and a work team of 2-3 sent by its paired helper unit; every
household has one responsible person (帮扶责任人) who covers 1-3 households of the same village.
"""

from __future__ import annotations

import numpy as np

from bangfu.vocabulary import CadreRole
from graph.synthetic.helpers import Helper
from graph.synthetic.households import Population
from graph.synthetic.identifiers import draw_phones
from graph.synthetic.layout import CountyPlan
from graph.synthetic.names import draw_surnames, person_names
from graph.synthetic.sampling import group_starts
from graph.synthetic.scales import AS_OF
from graph.synthetic.tables import Row

# Households per responsible person: mean ~2.55, which with the village teams lands the province
# near the seed's 326,700 cadres.
_COVER_SIZES = np.array([1, 2, 3])
_COVER_P = (0.09, 0.30, 0.61)


def build_cadres(
    county: CountyPlan, pop: Population, village_unit: list[Helper], rng: np.random.Generator
) -> tuple[list[Row], list[Row], list[Row]]:
    """Rows of cadres, cadre_pairings and helper_pairings."""
    villages = county.villages
    households = np.array([v.households for v in villages], dtype=np.int64)
    work_team = rng.integers(2, 4, len(villages))
    cover = rng.choice(_COVER_SIZES, size=int(households.sum()), p=_COVER_P)

    roles: list[CadreRole] = []
    cadre_village: list[int] = []
    pair_cadre: list[int] = []  # per household, index of its responsible person in `roles`
    used = 0
    for vi, h in enumerate(households.tolist()):
        roles += [CadreRole.FIRST_SECRETARY] + [CadreRole.WORK_TEAM] * int(work_team[vi])
        cadre_village += [vi] * (1 + int(work_team[vi]))
        reach = np.cumsum(cover[used : used + h])
        n_rp = int(np.searchsorted(reach, h)) + 1
        used += n_rp
        first_rp = len(roles)
        roles += [CadreRole.RESPONSIBLE_PERSON] * n_rp
        cadre_village += [vi] * n_rp
        # Household j of the village belongs to the first chunk whose running total exceeds j.
        pair_cadre += (first_rp + np.searchsorted(reach, np.arange(h), side="right")).tolist()

    n = len(roles)
    male = rng.random(n) < 0.65
    birth_year = AS_OF.year - rng.integers(25, 56, n)
    names = person_names(rng, draw_surnames(rng, n), male, birth_year)
    phones = draw_phones(rng, county.index, n, cadres=True)
    village_codes = [v.code for v in villages]
    seq = np.arange(n) - np.repeat(
        group_starts(np.bincount(cadre_village, minlength=len(villages))),
        np.bincount(cadre_village, minlength=len(villages)),
    )
    cadre_ids = [
        f"K{village_codes[v]}{s + 1:03d}" for v, s in zip(cadre_village, seq.tolist(), strict=True)
    ]
    cadres: list[Row] = [
        {
            "cadre_id": cid,
            "name": name,
            "phone": phone,
            "role": role.value,
            "village_code": village_codes[v],
            "unit_helper_id": village_unit[v].helper_id,
        }
        for cid, name, phone, role, v in zip(
            cadre_ids, names, phones, roles, cadre_village, strict=True
        )
    ]
    cadre_pairings: list[Row] = [
        {"cadre_id": cadre_ids[c], "household_id": hid}
        for c, hid in zip(pair_cadre, pop.household_ids, strict=True)
    ]
    helper_pairings: list[Row] = [
        {"helper_id": village_unit[v].helper_id, "household_id": hid}
        for v, hid in zip(pop.village.tolist(), pop.household_ids, strict=True)
    ]
    return cadres, cadre_pairings, helper_pairings
