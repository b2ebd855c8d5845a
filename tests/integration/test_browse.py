"""Browsing needs against the real Neo4j: every shape the repository picks (narrow, market, wide)
lists the same needs in the same order as sorting them directly, page after page, with no need
twice and none missed. Ties are many on purpose (created_at is a date), since a tie broken
differently by two pages is what would show one need twice."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from bangfu.vocabulary import (
    HelperKind,
    HouseholdStatus,
    NeedCategory,
    NeedKind,
    NeedStatus,
    PovertyCause,
    RegionLevel,
    Urgency,
)
from graph.claims import NeedQuery
from graph.client import GraphClient
from graph.models import Helper, Household, Income, Need, Region
from graph.pii import PiiVault
from graph.repositories import (
    HelperRepository,
    HouseholdRepository,
    NeedRepository,
    RegionRepository,
)
from graph.repositories.needs import browse_plan, browse_scopes, need_row
from graph.schema import MARKET_SORTS, apply_schema
from tests.conftest import wipe

# Two cities of province 44; 4402 has two counties, 4403 one; a town and a village each.
VILLAGES = ("440223101001", "440223101002", "440224102003", "440301103004")
CATEGORIES = (NeedCategory.JOB, NeedCategory.TUITION, NeedCategory.WATER)
STATUSES = (NeedStatus.OPEN, NeedStatus.OPEN, NeedStatus.CLAIMED, NeedStatus.CLAIMED)
HOLDERS = ("C1", "C2")
PAGE = 7


def _regions() -> list[Region]:
    regions = [Region(code="44", name="省", level=RegionLevel.PROVINCE)]
    for village in VILLAGES:
        city, county, town = village[:4], village[:6], village[:9]
        regions += [
            Region(code=city, name=f"市{city}", level=RegionLevel.CITY, parent_code="44"),
            Region(code=county, name=f"县{county}", level=RegionLevel.COUNTY, parent_code=city),
            Region(code=town, name=f"镇{town}", level=RegionLevel.TOWN, parent_code=county),
            Region(code=village, name=f"村{village}", level=RegionLevel.VILLAGE, parent_code=town),
        ]
    return list({r.code: r for r in regions}.values())


@pytest.fixture(scope="module")
def stocked(graph: GraphClient, vault: PiiVault) -> list[Need]:
    wipe(graph)
    apply_schema(graph)
    RegionRepository(graph).save_rows([r.model_dump(mode="json") for r in _regions()])
    households = HouseholdRepository(graph, vault)
    for helper_id in HOLDERS:
        HelperRepository(graph).save(
            Helper(
                id=helper_id,
                kind=HelperKind.CHARITY,
                name=f"慈善会{helper_id}",
                description="测试",
                capabilities=CATEGORIES,
                service_regions=("44",),
                capacity=1000,
                home_region_code="44",
            )
        )
    rng = random.Random(7)
    needs: list[Need] = []
    for v, village in enumerate(VILLAGES):
        households.save(
            Household(
                id=f"H{v}",
                village_code=village,
                status=HouseholdStatus.POOR,
                main_cause=PovertyCause.ILLNESS,
                size=3,
                address="村1号",
                income=Income(wage=3000),
                registered_year=2016,
            )
        )
        for i in range(60):
            # Categories and statuses cycle, so every village has 10 open needs of each category
            # (more than a page); the rest is random.
            status = STATUSES[(i // len(CATEGORIES)) % len(STATUSES)]
            needs.append(
                Need(
                    id=f"N{v}-{i:02d}",
                    household_id=f"H{v}",
                    village_code=village,
                    category=CATEGORIES[i % len(CATEGORIES)],
                    kind=NeedKind.SERVICE,
                    title="需求",
                    text="说明",
                    amount=float(rng.choice((0, 500, 500, 2000, 8000))),
                    urgency=rng.choice(tuple(Urgency)),
                    status=status,
                    claimed_by=rng.choice(HOLDERS) if status is NeedStatus.CLAIMED else None,
                    # Six dates for 240 needs: ties everywhere.
                    created_at=date(2026, 3, 1) + timedelta(days=rng.randrange(6)),
                )
            )
    NeedRepository(graph).save_rows([need_row(n) for n in needs])
    return needs


_URGENCY_RANK = {Urgency.CRITICAL: 0, Urgency.HIGH: 1, Urgency.NORMAL: 2}


def _expected(needs: list[Need], query: NeedQuery, prefixes: list[str]) -> list[str]:
    keys, direction = MARKET_SORTS[query.sort]
    scopes = browse_scopes(prefixes, query.region_code)

    def key(n: Need) -> tuple[object, ...]:
        values = {
            "created_at": n.created_at,
            "amount": n.amount,
            "urgency_rank": _URGENCY_RANK.get(n.urgency, 3),
        }
        return (*(values[k] for k in keys), n.id)

    chosen = [
        n
        for n in needs
        if n.status in query.statuses
        and (query.category is None or n.category == query.category)
        and (query.holder_id is None or n.claimed_by == query.holder_id)
        and any(n.village_code.startswith(s) for s in scopes)
    ]
    return [n.id for n in sorted(chosen, key=key, reverse=direction == "DESC")]


def _paged(
    repo: NeedRepository, query: NeedQuery, prefixes: list[str]
) -> tuple[list[str], set[int | None]]:
    """Every page's needs in order, and the totals the pages reported."""
    seen: list[str] = []
    totals: set[int | None] = set()
    skip = 0
    while True:
        page = repo.browse(query.model_copy(update={"skip": skip, "limit": PAGE}), prefixes)
        seen += [item.need.id for item in page.items]
        totals.add(page.total)
        assert len(page.items) <= PAGE
        if not page.has_more:
            return seen, totals
        assert len(page.items) == PAGE
        skip += PAGE


CASES = [
    (["4402"], {}, "market"),
    (["4402", "4403"], {}, "market"),
    (["44"], {}, "market"),
    ([""], {}, "market"),
    (["4402", "440223"], {}, "market"),  # the county lies inside the city: one scope
    ([""], {"region_code": "4403"}, "market"),
    (["440223"], {}, "market"),
    (["440223", "440301"], {}, "market"),
    (["4402"], {"region_code": "440224"}, "market"),
    (["440223101"], {}, "narrow"),  # a town
    (["440224", "440301103"], {}, "narrow"),  # a county and a town elsewhere
    (["4403", "440223"], {}, "wide"),  # a city and a county of another city
    (["4402"], {"statuses": (NeedStatus.OPEN, NeedStatus.CLAIMED)}, "wide"),
    (["44"], {"statuses": (NeedStatus.CLAIMED,), "holder_id": "C1"}, "holder"),
    (["4402", "440301"], {"statuses": (NeedStatus.CLAIMED,), "holder_id": "C2"}, "holder"),
]


@pytest.mark.parametrize("sort", sorted(MARKET_SORTS))
@pytest.mark.parametrize("category", [None, NeedCategory.TUITION])
@pytest.mark.parametrize(("prefixes", "extra", "shape"), CASES)
def test_every_shape_pages_through_the_needs_in_sorted_order(
    stocked: list[Need],
    graph: GraphClient,
    prefixes: list[str],
    extra: dict[str, object],
    shape: str,
    category: NeedCategory | None,
    sort: str,
) -> None:
    query = NeedQuery.model_validate({"category": category, "sort": sort, **extra})
    assert browse_plan(query, browse_scopes(prefixes, query.region_code)).shape == shape
    expected = _expected(stocked, query, prefixes)
    assert len(expected) > PAGE  # more than one page, so paging is exercised
    listed, totals = _paged(NeedRepository(graph), query, prefixes)
    assert listed == expected
    # A county or below and a holder's own needs are counted; wider scopes only say whether
    # more pages follow.
    scopes = browse_scopes(prefixes, query.region_code)
    counted = shape == "holder" or min(len(s) for s in scopes) >= 6
    assert totals == ({len(expected)} if counted else {None})


def test_a_region_outside_the_scope_lists_nothing(stocked: list[Need], graph: GraphClient) -> None:
    page = NeedRepository(graph).browse(NeedQuery(region_code="4403"), ["4402"])
    assert page.items == [] and page.has_more is False


def test_a_claimed_need_leaves_the_market_page(stocked: list[Need], graph: GraphClient) -> None:
    repo = NeedRepository(graph)
    first = repo.browse(NeedQuery(limit=3), ["4402"]).items[0].need
    repo.save(first.model_copy(update={"status": NeedStatus.CLAIMED}))
    try:
        assert first.id not in [i.need.id for i in repo.browse(NeedQuery(), ["4402"]).items]
    finally:
        repo.save(first)


def test_a_counted_page_past_the_end_is_empty_and_keeps_its_total(
    stocked: list[Need], graph: GraphClient
) -> None:
    query = NeedQuery(skip=10_000)
    page = NeedRepository(graph).browse(query, ["440223"])
    assert page.items == [] and page.has_more is False
    assert page.total == len(_expected(stocked, query, ["440223"]))
