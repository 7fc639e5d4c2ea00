"""The arithmetic of the Wijkindex, on numpy arrays (no store).

Steps (README, section "Wijkindex", says why):

1. **Normalise** each indicator against its *reference distribution*: the values of the base
   level (buurten) in the index's base year (:func:`normalise`). ``z-score``: ``(x - mean) /
   sd``; ``rang-normaal``: the value's position ``p`` in the reference distribution (mid-rank
   plotting position ``(L + R) / 2n``, ``L`` = reference values below ``x``, ``R`` = at most
   ``x``, kept within ``[1/2n, 1 - 1/2n]``), then the standard normal quantile of ``p``. The
   reference is fixed, so a later year is placed on the base year's scale (not re-ranked).
2. **Orient**: multiply by -1 where higher is better, so that higher always means more
   achterstand.
3. **Domain score** = the weighted mean of the domain's available oriented scores, if at least
   the domain's ``minimum`` of them is available; otherwise no domain score.
4. **Exponential transformation** (English Indices of Deprivation):
   ``X = -23 ln(1 - R (1 - exp(-100/23)))``, with ``R`` the position of the domain score in its
   reference distribution (normal distribution with the reference rows' mean and sd). ``X``
   runs from 0 to 100; the 10 % with the most achterstand take X of about 46 to 100, the best
   half about 0 to 15, so a good domain cannot cancel out a bad one.
5. **Index** = the weighted sum of the domains' X (weights divided by their sum); no index
   when any domain score is missing.
6. **Ranks** within a group (1 = most achterstand, ties share the lowest rank) and **deciles**
   (1 = the 10 % with the most achterstand: ``ceil(10 * rank / n)``).
7. **Monte Carlo** (:func:`monte_carlo`): every draw multiplies each indicator and domain
   weight by U(0.5, 1.5), picks one of the two normalisations and leaves out one indicator
   (or none) at random; the rank interval is the 5th-95th percentile of the ranks over the
   draws, widened to include the rank of the declared index.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

#: The IMD constant: X = -23 ln(1 - R (1 - exp(-100 / 23))).
EXP_SCALE = 23.0
_EXP_C = 1.0 - np.exp(-100.0 / EXP_SCALE)


def plotting_position(x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Mid-rank position of ``x`` in ``reference`` (NaN in, NaN out), within [1/2n, 1-1/2n]."""
    ref = np.sort(reference[~np.isnan(reference)])
    n = len(ref)
    if n == 0:
        return np.full(np.shape(x), np.nan)
    lo = np.searchsorted(ref, x, side="left")
    hi = np.searchsorted(ref, x, side="right")
    p = (lo + hi) / (2.0 * n)
    p = np.clip(p, 0.5 / n, 1.0 - 0.5 / n)
    return np.where(np.isnan(x), np.nan, p)


def normalise(x: np.ndarray, reference: np.ndarray, method: str) -> np.ndarray:
    """Standardise ``x`` against the reference values (see the module docstring)."""
    x = np.asarray(x, dtype="float64")
    reference = np.asarray(reference, dtype="float64")
    ref = reference[~np.isnan(reference)]
    if method == "z-score":
        if len(ref) < 2:
            return np.full(x.shape, np.nan)
        sd = ref.std(ddof=1)
        if not sd > 0:
            return np.full(x.shape, np.nan)
        return (x - ref.mean()) / sd
    if method == "rang-normaal":
        return ndtri(plotting_position(x, ref))
    raise ValueError(f"onbekende normalisatie {method!r}")


def exponential(r: np.ndarray) -> np.ndarray:
    """IMD exponential transformation of a position ``r`` in [0, 1] (1 = most achterstand)."""
    return -EXP_SCALE * np.log(1.0 - r * _EXP_C)


def domain_scores(z: np.ndarray, weights: np.ndarray, minimum: int) -> np.ndarray:
    """Weighted mean of the available columns of ``z`` (rows x indicators) per row; NaN where
    fewer than ``minimum`` columns have a value."""
    avail = ~np.isnan(z)
    zf = np.where(avail, z, 0.0)
    num = (zf * weights).sum(axis=1)
    den = (avail * weights).sum(axis=1)
    n = avail.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = num / den
    return np.where(n >= minimum, s, np.nan)


def to_position(s: np.ndarray, ref_mean: float, ref_sd: float) -> np.ndarray:
    """Position of domain scores in their reference (normal with the reference mean and sd)."""
    return ndtr((s - ref_mean) / ref_sd)


def ranks(score: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank within ``group`` (1 = highest score; ties share the lowest rank) and the group's
    size; rows with a NaN score or ``group < 0`` get rank 0 and size 0."""
    score = np.asarray(score, dtype="float64")
    group = np.asarray(group, dtype="int64")
    ok = ~np.isnan(score) & (group >= 0)
    rank = np.zeros(len(score), dtype="int64")
    size = np.zeros(len(score), dtype="int64")
    if not ok.any():
        return rank, size
    idx = np.flatnonzero(ok)
    r = _group_min_ranks(score[idx][None, :], group[idx])[0]
    rank[idx] = r
    counts = np.bincount(group[idx])
    size[idx] = counts[group[idx]]
    return rank, size


def deciles(rank: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Decile from rank and group size: ``ceil(10 * rank / n)`` (1 = most achterstand); 0
    where there is no rank."""
    rank = np.asarray(rank)
    size = np.asarray(size)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.ceil(10.0 * rank / np.where(size > 0, size, 1))
    return np.where(size > 0, d, 0).astype("int64")


def _group_min_ranks(scores: np.ndarray, group: np.ndarray, *, return_order: bool = False,
                     ties: bool = True):
    """Ranks (1 = highest, ties: lowest rank) within ``group`` for each row of ``scores``
    (draws x items, no NaN); ``group`` are non-negative ints. Vectorised over draws: one
    sort per draw, group-major, so that the sorted positions of each group are the same in
    every draw and a position's rank is a fixed vector (corrected only where scores tie)."""
    b, n = scores.shape
    if n == 0:
        empty = np.zeros((b, 0), dtype="int64")
        return (empty, empty) if return_order else empty
    gmax = float(scores.max())
    span = float(gmax - scores.min()) + 1.0
    key = group[None, :].astype("float64") * (2.0 * span) + (gmax - scores)
    order = np.argsort(key, axis=1)
    counts = np.bincount(group)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos_rank = np.arange(n) - np.repeat(start, counts) + 1  # rank of each sorted position
    out = np.empty((b, n), dtype="int64")
    rows = np.arange(b)[:, None]
    tie = None
    if ties:  # (``ties=False``: the caller knows no two items of a group can be equal)
        skey = np.take_along_axis(key, order, axis=1)
        tie = skey[:, 1:] == skey[:, :-1]
    if tie is None or not tie.any():
        out[rows, order] = pos_rank[None, :]
    else:
        new = np.ones((b, n), dtype=bool)
        new[:, 1:] = ~tie
        pos = np.broadcast_to(np.arange(n), (b, n))
        first = np.maximum.accumulate(np.where(new, pos, 0), axis=1)
        out[rows, order] = pos_rank[first]
    return (out, order) if return_order else out


def _nested_min_ranks(scores: np.ndarray, parent_order: np.ndarray, sub: np.ndarray, *,
                      ties: bool = True) -> np.ndarray:
    """Ranks within sub-groups that nest in the groups of ``parent_order`` (the per-draw sort of
    :func:`_group_min_ranks`: group-major, score descending). A stable radix sort of the
    sub-group ids (uint16) in that order sorts by (sub-group, score descending) without
    another comparison sort. ``sub`` < 0: not ranked (rank 0)."""
    b, n = scores.shape
    out = np.zeros((b, n), dtype="int64")
    ok = sub >= 0
    if not ok.any():
        return out
    dense = np.full(n, -1, dtype="int64")
    dense[ok] = _dense(sub[ok])
    sentinel = int(dense.max()) + 1
    if sentinel >= 2 ** 16 - 1:  # too many sub-groups for the radix path
        r = np.zeros((b, n), dtype="int64")
        r[:, ok] = _group_min_ranks(scores[:, ok], dense[ok])
        return r
    sid = np.where(ok, dense, sentinel).astype(np.uint16)
    sid_sorted = sid[parent_order]
    o2 = np.argsort(sid_sorted, axis=1, kind="stable")
    order = np.take_along_axis(parent_order, o2, axis=1)
    counts = np.bincount(sid, minlength=sentinel + 1)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos_rank = np.arange(n) - np.repeat(start, counts) + 1
    rows = np.arange(b)[:, None]
    tie = None
    if ties:
        skey = np.take_along_axis(scores, order, axis=1)
        ssid = sid[order]
        tie = (skey[:, 1:] == skey[:, :-1]) & (ssid[:, 1:] == ssid[:, :-1])
    if tie is None or not tie.any():
        out[rows, order] = pos_rank[None, :]
    else:
        new = np.ones((b, n), dtype=bool)
        new[:, 1:] = ~tie
        pos = np.broadcast_to(np.arange(n), (b, n))
        first = np.maximum.accumulate(np.where(new, pos, 0), axis=1)
        out[rows, order] = pos_rank[first]
    out[:, ~ok] = 0
    return out


# ----------------------------------------------------------------------------------------
# The whole computation, for one configuration or for many draws at once
# ----------------------------------------------------------------------------------------

@dataclass
class Design:
    """The index as arrays.

    ``z``: (2, rows, indicators) oriented normalised values, NaN where missing; ``z[0]`` the
    declared normalisation, ``z[1]`` the alternative. ``domain``: domain number of each
    indicator; ``ind_weight``, ``dom_weight``, ``minimum``: as declared; ``ref_rows``: per
    domain the row numbers of its reference distribution.
    """

    z: np.ndarray
    domain: np.ndarray
    ind_weight: np.ndarray
    dom_weight: np.ndarray
    minimum: np.ndarray
    ref_rows: list[np.ndarray]

    @property
    def n_domains(self) -> int:
        return len(self.dom_weight)


@dataclass
class Result:
    raw: np.ndarray     # (rows, domains) domain scores before the transformation
    x: np.ndarray       # (rows, domains) exponentially transformed domain scores, 0-100
    index: np.ndarray   # (rows,) index, NaN where a domain is missing
    ref_mean: np.ndarray
    ref_sd: np.ndarray


def compute(design: Design) -> Result:
    """The declared index (no perturbation) for every row."""
    d = design
    raw = np.full((d.z.shape[1], d.n_domains), np.nan)
    for k in range(d.n_domains):
        cols = np.flatnonzero(d.domain == k)
        raw[:, k] = domain_scores(d.z[0][:, cols], d.ind_weight[cols], int(d.minimum[k]))
    moments = reference_moments(d)
    mean = np.empty(d.n_domains)
    sd = np.empty(d.n_domains)
    x = np.empty_like(raw)
    for k in range(d.n_domains):
        cols = np.flatnonzero(d.domain == k)
        m, s = _ref_stats(moments[k], d.ind_weight[cols][None, :], np.zeros(1, dtype="int64"),
                          np.full(1, -1))
        mean[k], sd[k] = m[0], s[0]
        x[:, k] = exponential(to_position(raw[:, k], mean[k], sd[k]))
    w = d.dom_weight / d.dom_weight.sum()
    index = (x * w).sum(axis=1)  # NaN propagates: no index without every domain
    return Result(raw, x, index, mean, sd)


def reference_moments(design: Design) -> list[dict]:
    """Per domain, normalisation and availability pattern of its reference rows: the number
    of rows, the sums and the cross-products of the indicator scores. The mean and sd of the
    domain score under any weights follow from these exactly (a domain score is a weighted
    mean of the row's available scores), so the Monte Carlo need not recompute the reference
    rows' scores in every draw."""
    out = []
    for k in range(design.n_domains):
        cols = np.flatnonzero(design.domain == k)
        rows = design.ref_rows[k]
        per = {}
        for c in range(2):
            z = design.z[c][np.ix_(rows, cols)]
            avail = ~np.isnan(z)
            code = (avail * (1 << np.arange(len(cols)))).sum(axis=1)
            zf = np.where(avail, z, 0.0)
            for pat in np.unique(code):
                if pat == 0:
                    continue
                sel = zf[code == pat]
                mask = np.array([(pat >> j) & 1 for j in range(len(cols))], dtype=bool)
                per[(c, int(pat))] = (len(sel), mask, sel.sum(axis=0), sel.T @ sel)
        out.append(per)
    return out


def _ref_stats(moments: dict, w: np.ndarray, norm: np.ndarray, drop_local: np.ndarray):
    """Mean and sd of the reference rows' domain scores for each draw: ``w`` (draws, I_k)
    indicator weights, ``norm`` the normalisation per draw, ``drop_local`` the left-out
    indicator's position in the domain (-1: none; kept where a row has no other)."""
    b = len(w)
    tot_n = np.zeros(b)
    tot_s = np.zeros(b)
    tot_q = np.zeros(b)
    for (c, _pat), (n, mask, s1, q) in moments.items():
        use = norm == c
        if not use.any():
            continue
        weff = w * mask[None, :]
        if mask.sum() >= 2:
            hit = drop_local >= 0
            rows = np.flatnonzero(hit)
            weff[rows, drop_local[rows]] = 0.0
        den = weff.sum(axis=1)
        lin = weff @ s1 / den
        quad = np.einsum("bi,ij,bj->b", weff, q, weff) / den ** 2
        tot_n += np.where(use, n, 0)
        tot_s += np.where(use, lin, 0.0)
        tot_q += np.where(use, quad, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = tot_s / tot_n
        var = (tot_q - tot_n * mean ** 2) / (tot_n - 1)
    sd = np.sqrt(np.maximum(var, 0.0))
    bad = (tot_n < 2) | ~(sd > 0)
    return np.where(bad, np.nan, mean), np.where(bad, np.nan, sd)


@dataclass
class MonteCarlo:
    """Rank intervals per target row and grouping (5th-95th percentile, with the point rank)."""

    low: dict[str, np.ndarray]
    high: dict[str, np.ndarray]
    draws: int


def monte_carlo(design: Design, targets: np.ndarray, groups: dict[str, np.ndarray], *,
                draws: int = 1000, seed: int = 20260416, weight_range: tuple[float, float] = (0.5, 1.5),
                vary_normalisation: bool = True, leave_one_out: bool = True,
                chunk: int = 25, point_ranks: dict[str, np.ndarray] | None = None,
                nested: dict[str, str] | None = None, threads: int | None = None) -> MonteCarlo:
    """Rank intervals of the index for the rows ``targets`` (which must all have an index).

    Parameters
    ----------
    design : the index as arrays (see :class:`Design`)
    targets : row numbers to rank
    groups : ``{name: group id per target row}`` (``-1``: not ranked in this grouping)
    draws, seed : number of draws and the seed of ``numpy.random.default_rng``
    weight_range : each indicator and domain weight is multiplied by U(low, high)
    vary_normalisation : pick the declared or the alternative normalisation with p = 1/2
    leave_one_out : leave out one indicator (or none), each with probability 1 / (I + 1);
        an area whose domain would be left without indicators keeps it
    point_ranks : the ranks of the declared index per grouping (included in the interval)
    nested : ``{grouping: parent grouping}`` where every group of the first lies within one
        group of the parent (the gemeente within NL): its ranks reuse the parent's sort
    threads : threads over which the chunks of draws are spread (default: the cores, at most
        2); the result does not depend on it
    """
    d = design
    rng = np.random.default_rng(seed)
    n_ind = len(d.ind_weight)
    n_dom = d.n_domains
    lo_w, hi_w = weight_range
    iw = d.ind_weight[None, :] * rng.uniform(lo_w, hi_w, size=(draws, n_ind))
    dw = d.dom_weight[None, :] * rng.uniform(lo_w, hi_w, size=(draws, n_dom))
    norm = rng.integers(0, 2, size=draws) if vary_normalisation else np.zeros(draws, dtype="int64")
    drop = rng.integers(-1, n_ind, size=draws) if leave_one_out else np.full(draws, -1)
    moments = reference_moments(d)
    nt = len(targets)
    z = d.z[:, targets, :]
    avail = ~np.isnan(z[0])
    zf = np.where(np.isnan(z), 0.0, z)
    names = list(groups)
    sel = {name: np.flatnonzero(np.asarray(groups[name]) >= 0) for name in names}
    dense = {name: _dense(np.asarray(groups[name])[sel[name]]) for name in names}
    # target-major (targets x draws): each thread writes its chunk's columns, and the
    # percentiles below sort contiguous rows without a transposed copy of the whole array
    all_ranks = {name: np.zeros((len(sel[name]), draws), dtype="int32") for name in names}
    # two targets of a group can only tie in a draw when their scores are equal in both
    # normalisations (the index is a function of them); without such pairs the rank
    # functions skip their tie handling
    zkey = np.nan_to_num(np.concatenate([z[0], z[1]], axis=1), nan=np.inf)
    ties = {}
    for name in names:
        kk = np.concatenate([np.asarray(groups[name])[sel[name]][:, None].astype("float64"),
                             zkey[sel[name]]], axis=1)
        ties[name] = bool(pd.DataFrame(kk).duplicated().any())
    # a domain of one indicator: its score is that indicator's whatever the weights, so its
    # transformed score takes one of two values (the two normalisations): computed once
    fixed = {}
    for k in range(n_dom):
        cols = np.flatnonzero(d.domain == k)
        if len(cols) == 1:
            c = cols[0]
            xs = []
            for nm in range(2):
                mean, sd = _ref_stats(moments[k], d.ind_weight[cols][None, :], np.array([nm]), np.full(1, -1))
                xs.append(exponential(ndtr((zf[nm][:, c] - mean[0]) / sd[0])))
            fixed[k] = np.stack(xs)  # (2, nt)
    multi = {}
    for k in range(n_dom):
        if k in fixed:
            continue
        cols = np.flatnonzero(d.domain == k)
        cnt = avail[:, cols].sum(axis=1)
        multi[k] = dict(cols=cols, ak=avail[:, cols].astype("float64"),
                        zk=[np.ascontiguousarray(zf[nm][:, cols]) for nm in range(2)],
                        keep=[(avail[:, c] & (cnt >= 2)).astype("float64") for c in cols])

    def run_chunks(starts) -> None:
        # buffers reused by every chunk of this thread (fresh arrays of this size cost a page
        # fault per page); every value is computed by the same floating-point operations as
        # ``exponential(ndtr((num / den - mean) / sd))``, in place
        bmax = min(chunk, draws)
        idx_buf = np.empty((bmax, nt))
        num_buf = np.empty((bmax, nt))
        den_buf = np.empty((bmax, nt))
        tmp_buf = np.empty((bmax, nt))
        for start in starts:
            # the chunk's draws, those of the declared normalisation first: the order of the draws
            # does not matter (the interval is a percentile over them), and each normalisation's
            # draws are then one contiguous block
            perm = start + np.argsort(norm[start:start + chunk], kind="stable")
            b = len(perm)
            nsel = norm[perm]
            split = int(np.searchsorted(nsel, 1))
            idx = idx_buf[:b]
            idx.fill(0.0)
            wnorm = dw[perm] / dw[perm].sum(axis=1, keepdims=True)  # (b, D)
            for k in range(n_dom):
                if k in fixed:
                    t = tmp_buf[:b]
                    np.take(fixed[k], nsel, axis=0, out=t)
                    t *= wnorm[:, k][:, None]
                    idx += t
                    continue
                m = multi[k]
                cols = m["cols"]
                w = iw[perm][:, cols]  # (b, I_k)
                local_drop = np.full(b, -1)
                for j, c in enumerate(cols):
                    local_drop[drop[perm] == c] = j
                mean, sd = _ref_stats(moments[k], w, nsel, local_drop)
                ak = m["ak"]
                for nm, (r0, r1) in enumerate(((0, split), (split, b))):  # one normalisation at a time
                    if r1 <= r0:
                        continue
                    nr = r1 - r0
                    wr = w[r0:r1]
                    zk = m["zk"][nm]
                    # (draws, targets); outer products, not a matrix product: two or three
                    # indicators are too few for BLAS, whose threads only add overhead
                    num, den, tmp = num_buf[:nr], den_buf[:nr], tmp_buf[:nr]
                    np.multiply.outer(wr[:, 0], zk[:, 0], out=num)
                    np.multiply.outer(wr[:, 0], ak[:, 0], out=den)
                    for j in range(1, len(cols)):
                        num += np.multiply.outer(wr[:, j], zk[:, j], out=tmp)
                        den += np.multiply.outer(wr[:, j], ak[:, j], out=tmp)
                    # the left-out indicator, where the target has another one in this domain
                    ld = local_drop[r0:r1]
                    for j in range(len(cols)):
                        dr = np.flatnonzero(ld == j)
                        if not len(dr):
                            continue
                        keep = m["keep"][j]
                        num[dr] -= wr[dr, j][:, None] * (zk[:, j] * keep)[None, :]
                        den[dr] -= wr[dr, j][:, None] * keep[None, :]
                    np.divide(num, den, out=num)  # every target has every domain
                    num -= mean[r0:r1][:, None]
                    num /= sd[r0:r1][:, None]
                    ndtr(num, out=num)
                    num *= _EXP_C  # exponential(), in place
                    np.subtract(1.0, num, out=num)
                    np.log(num, out=num)
                    num *= -EXP_SCALE
                    num *= wnorm[r0:r1, k][:, None]
                    idx[r0:r1] += num
            orders = {}
            for name in names:
                if not len(sel[name]):
                    continue
                parent = nested.get(name) if nested else None
                if parent in orders and np.isin(sel[name], sel[parent]).all():
                    # the sub-groups nest in the parent's groups: reuse its sort
                    psel, porder = orders[parent]
                    sub = np.full(len(psel), -1, dtype="int64")
                    sub[np.searchsorted(psel, sel[name])] = dense[name]
                    r = _nested_min_ranks(idx[:, psel], porder, sub, ties=ties[name])
                    all_ranks[name][:, start:start + b] = r[:, np.searchsorted(psel, sel[name])].T
                else:
                    r, order = _group_min_ranks(idx[:, sel[name]], dense[name], return_order=True,
                                                ties=ties[name])
                    all_ranks[name][:, start:start + b] = r.T
                    orders[name] = (sel[name], order)

    # The chunks are independent (all random numbers are drawn above, and each chunk writes
    # only its own rows of ``all_ranks``), so two threads run half of them each: numpy and
    # scipy release the GIL in these array operations. Every rank is the one a single thread
    # computes (tests/test_wijkindex.py).
    starts = list(range(0, draws, chunk))
    n_threads = max(1, min(threads if threads is not None else (os.cpu_count() or 1), 2, len(starts)))
    if n_threads == 1:
        run_chunks(starts)
    else:
        with ThreadPoolExecutor(n_threads) as pool:
            list(pool.map(run_chunks, [starts[i::n_threads] for i in range(n_threads)]))
    low, high = {}, {}
    # 5th and 95th percentile (the smallest rank with at least 5 % / 95 % of the draws at or
    # below it: numpy's "inverted_cdf")
    k_lo = max(int(np.ceil(0.05 * draws)) - 1, 0)
    k_hi = max(int(np.ceil(0.95 * draws)) - 1, 0)
    def sort_rows(block: np.ndarray) -> None:
        block.sort(axis=1)

    # a full in-place sort of each target's int32 ranks (SIMD) is cheaper than np.partition at
    # two kth; the rows are split over the threads (the sort releases the GIL)
    blocks = [blk for name in names if len(sel[name])
              for blk in np.array_split(all_ranks[name], n_threads) if len(blk)]
    if n_threads == 1:
        for blk in blocks:
            sort_rows(blk)
    else:
        with ThreadPoolExecutor(n_threads) as pool:
            list(pool.map(sort_rows, blocks))
    for name in names:
        lo_r = np.zeros(nt, dtype="int64")
        hi_r = np.zeros(nt, dtype="int64")
        if len(sel[name]):
            part = all_ranks[name]
            lo_r[sel[name]] = part[:, k_lo]
            hi_r[sel[name]] = part[:, k_hi]
        if point_ranks is not None and name in point_ranks:
            p = np.asarray(point_ranks[name], dtype="int64")
            lo_r = np.where(p > 0, np.minimum(lo_r, p), lo_r)
            hi_r = np.where(p > 0, np.maximum(hi_r, p), hi_r)
        low[name], high[name] = lo_r, hi_r
    return MonteCarlo(low, high, draws)


def _dense(g: np.ndarray) -> np.ndarray:
    """Group ids renumbered 0..k-1."""
    _, inv = np.unique(g, return_inverse=True)
    return inv.astype("int64")
