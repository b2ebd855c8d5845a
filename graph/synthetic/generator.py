"""Streams a generated scale as batches: regions and upper-level helpers first, then counties."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from tqdm import tqdm

from graph.synthetic.cadres import build_cadres
from graph.synthetic.helpers import Helper, HelperCounts, county_helpers, province_helpers
from graph.synthetic.households import build_population
from graph.synthetic.layout import (
    STREAM_COUNTY,
    STREAM_PANELS,
    STREAM_PROVINCE_HELPERS,
    CountyPlan,
    build_layout,
)
from graph.synthetic.needs import ClaimIndex, build_needs
from graph.synthetic.panels import build_panels
from graph.synthetic.projects import build_projects
from graph.synthetic.scales import Scale
from graph.synthetic.tables import Batch


def generate(scale: Scale, seed: int, progress: bool = False) -> Iterator[Batch]:
    """Yield the first batch (regions, province- and city-level helpers), then one per county.

    Each county draws from its own generator seeded by (seed, county index), so output depends
    only on scale and seed, and only one county's rows are held at a time.
    """
    scale = Scale(scale)
    layout = build_layout(scale, seed)
    counts = HelperCounts.for_layout(layout)
    upper = province_helpers(layout, counts, np.random.default_rng([seed, STREAM_PROVINCE_HELPERS]))
    first = Batch()
    first.tables["regions"].extend(layout.region_rows())
    first.tables["helpers"].extend(h.row() for h in upper)
    first.tables["helper_truth"].extend(h.truth_row() for h in upper)
    yield first

    counties: Iterable[CountyPlan] = layout.counties
    if progress:
        counties = tqdm(counties, desc=f"{scale.value} counties", unit="county")
    for county in counties:
        yield _county_batch(
            county,
            upper,
            counts.county_charities[county.index],
            counts.county_enterprises[county.index],
            np.random.default_rng([seed, STREAM_COUNTY, county.index]),
            np.random.default_rng([seed, STREAM_PANELS, county.index]),
        )


def _county_batch(
    county: CountyPlan,
    upper: list[Helper],
    charities: int,
    enterprises: int,
    rng: np.random.Generator,
    panel_rng: np.random.Generator,
) -> Batch:
    pop = build_population(county, rng)
    local = county_helpers(county, charities, enterprises, rng)
    claims = ClaimIndex(county, [*upper, *local.helpers])
    needs = build_needs(county, pop, claims, rng)
    cadres, cadre_pairings, helper_pairings = build_cadres(county, pop, local.village_unit, rng)
    project_tables = build_projects(county, pop, rng)
    batch = Batch()
    t = batch.tables
    t["households"] = pop.household_rows
    t["persons"] = pop.person_rows
    t["helpers"] = [h.row() for h in local.helpers]
    t["helper_truth"] = [h.truth_row() for h in local.helpers]
    t["cadres"] = cadres
    t["helper_pairings"] = helper_pairings
    t["cadre_pairings"] = cadre_pairings
    t["needs"] = needs
    t.update(project_tables)
    t["household_years"] = build_panels(county, pop, panel_rng)
    return batch
