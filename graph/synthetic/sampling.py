"""Integer apportionment and vectorised random draws shared by the generator's modules."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def largest_remainder(total: int, weights: ArrayLike) -> IntArray:
    """Split `total` into integers proportional to `weights` (Hamilton's method).

    Ties are broken by position so the result depends on nothing but the inputs.
    """
    w = np.asarray(weights, dtype=np.float64)
    quotas = total * w / w.sum()
    base: IntArray = np.floor(quotas).astype(np.int64)
    short = total - int(base.sum())
    order = np.argsort(-(quotas - base), kind="stable")
    base[order[:short]] += 1
    return base


def apportion(total: int, weights: ArrayLike, lo: ArrayLike, hi: ArrayLike) -> IntArray:
    """Integers in [lo, hi] summing exactly to `total`, as proportional to `weights` as bounds let.

    Finds the scale c with sum(clip(c * w, lo, hi)) == total by bisection, then rounds by largest
    remainder; rounding never breaks a bound because lo and hi are integers.
    """
    w = np.asarray(weights, dtype=np.float64)
    low = np.broadcast_to(np.asarray(lo, dtype=np.float64), w.shape)
    high = np.broadcast_to(np.asarray(hi, dtype=np.float64), w.shape)
    if np.any(low > high) or not low.sum() <= total <= high.sum():
        raise ValueError(f"cannot apportion {total} within bounds [{low.sum()}, {high.sum()}]")
    if w.size == 0:
        return np.zeros(0, dtype=np.int64)
    c_lo, c_hi = 0.0, 1.0
    while np.clip(c_hi * w, low, high).sum() < total:
        c_hi *= 2.0
    for _ in range(200):
        mid = (c_lo + c_hi) / 2.0
        if np.clip(mid * w, low, high).sum() < total:
            c_lo = mid
        else:
            c_hi = mid
    x = np.clip(c_hi * w, low, high)
    base = np.floor(x + 1e-9).astype(np.int64)
    short = total - int(base.sum())
    frac = x - base
    if short > 0:
        room = base < high
        order = np.argsort(-np.where(room, frac, -1.0), kind="stable")
        base[order[:short]] += 1
    elif short < 0:
        room = base > low
        order = np.argsort(np.where(room, frac, 2.0), kind="stable")
        base[order[:-short]] -= 1
    return base


def categorical(rng: np.random.Generator, probs: Sequence[float], size: int) -> IntArray:
    """Draw `size` indices from one discrete distribution."""
    cum = np.cumsum(np.asarray(probs, dtype=np.float64))
    cum /= cum[-1]
    return np.searchsorted(cum, rng.random(size), side="right").astype(np.int64)


def categorical_by_group(
    rng: np.random.Generator, table: Sequence[Sequence[float]], group: IntArray
) -> IntArray:
    """Draw one index per element, from the distribution in row `group[i]` of `table`."""
    matrix = np.asarray(table, dtype=np.float64)
    cum = np.cumsum(matrix, axis=1)
    cum /= cum[:, -1:]
    u = rng.random(group.size)
    drawn: IntArray = (u[:, None] >= cum[group]).sum(axis=1).astype(np.int64)
    return drawn


def uniform_int(rng: np.random.Generator, low: ArrayLike, high: ArrayLike, size: int) -> IntArray:
    """Integers in [low, high] inclusive; bounds may be per element."""
    lo = np.asarray(low, dtype=np.int64)
    hi = np.asarray(high, dtype=np.int64)
    return lo + np.floor(rng.random(size) * (hi - lo + 1)).astype(np.int64)


def group_starts(sizes: IntArray) -> IntArray:
    """Index of each group's first element when groups of `sizes` are laid end to end."""
    return np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)


def rank_within_groups(sizes: IntArray) -> IntArray:
    """0, 1, 2 ... restarting at each group, for groups of `sizes` laid end to end."""
    total = int(sizes.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(group_starts(sizes), sizes)


def top_k_weighted(rng: np.random.Generator, weights: FloatArray, k: IntArray) -> list[list[int]]:
    """Per row, `k[i]` distinct column indices drawn without replacement proportionally to weights.

    Uses exponential keys (Efraimidis-Spirakis) so the whole matrix is drawn in one go.
    """
    with np.errstate(divide="ignore"):
        keys = np.log(rng.random(weights.shape)) / weights
    order = np.argsort(-keys, axis=1, kind="stable")
    return [order[i, : k[i]].tolist() for i in np.flatnonzero(k)]
