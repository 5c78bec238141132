"""The vectorised settlement core (结算引擎): one rule, two speeds.

Every step works on int64 arrays with one element per claim (structure of arrays). What a claim
pays depends on the year so far — stays already had, deductibles already met, the in-scope amount
already spent in a band, what each fund already paid toward its cap, the account balance. The core
asks a :class:`Running` object for those *prior* totals:

* :class:`RealTime` answers from the person's accumulators (one claim, real-time settlement) and
  records the accumulators after the claim;
* :class:`Batch` answers for a whole year of claims sorted by (person, date, claim id) with grouped
  exclusive cumulative sums. A capped total is the difference of a capped cumulative function:
  paid so far = min(Σ earlier raw amounts, cap), which equals the sequential result whenever the cap
  is the same for every claim of the group that asks for money. When it is not (a parameter changed
  mid-year, an identity began mid-year) the batch falls back to a grouped scan that visits the k-th
  claim of every group at once, still vectorised across persons.

Accumulator names (keys of ``Person.accumulators`` and ``Statement.accumulators``, one set per year):
``stays``; ``ded:<group>`` deductible met; ``band:<group>`` cumulative in-scope amount for yearly
bands; ``cap:<group>`` basic fund paid toward a cap; ``hifob.base``/``hifob.paid``; ``cvlserv.paid``;
``hifes.deductible``/``hifes.paid``; ``hifmi.base``/``hifmi.paid``; ``maf.deductible``/``maf.paid``; ``sup<k>.deductible``/``sup<k>.paid``.
The personal and family account balances are not accumulators: they are passed as balances.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from yibao.money import PPM, Rounding
from yibao.settlement.plan import NB, NOCAP, NS, NT, group_name

I64 = np.int64
NO_PRIOR_KEYS = ("account.used", "family.used")  # balances, not per-year accumulators
DENSE_KEYS = ("account.used",)  # balc is reported for every claim
ACCUMULATOR_NAMES = frozenset({"stays", "hifob.base", "hifob.paid", "cvlserv.paid", "hifes.deductible", "hifes.paid",
                               "hifmi.base", "hifmi.paid", "maf.deductible", "maf.paid"}
                              | {f"sup{k}.{x}" for k in range(NS) for x in ("deductible", "paid")})
GROUPED_PREFIXES = ("ded:", "band:", "cap:")  # followed by the pack's group name


def is_accumulator_key(key: str) -> bool:
    """A key the engine keeps per person-year (see the module docstring)."""
    return key in ACCUMULATOR_NAMES or (key.startswith(GROUPED_PREFIXES) and len(key.split(":", 1)[1]) > 0)


class Running(Protocol):
    """Prior totals for the claims. ``at`` (sorted claim positions) says that the arrays given are
    those claims' only — a tier that applies to few claims — and the priors come back for them."""

    def count(self, name: str, flag: np.ndarray) -> np.ndarray: ...
    def cum(self, name: str, sub: np.ndarray | None, amount: np.ndarray, at: np.ndarray | None = None) -> np.ndarray: ...
    def capped(self, name: str, sub: np.ndarray | None, raw: np.ndarray, cap: np.ndarray, per_year: bool = True,
               at: np.ndarray | None = None) -> np.ndarray: ...


class RealTime:
    """Priors from one person's accumulators for the claim's year; ``after`` holds the new ones."""

    def __init__(self, accumulators: dict[str, int] | None = None):
        self.before = dict(accumulators or {})
        self.after = dict(self.before)

    def _key(self, name: str, sub: np.ndarray | None) -> str:
        return name if sub is None else group_name(sub[0])

    def _add(self, key: str, delta: int) -> None:
        if delta or key in self.after:
            self.after[key] = self.after.get(key, 0) + int(delta)

    def count(self, name, flag):
        prior = self.before.get(name, 0)
        self._add(name, int(flag[0]))
        return np.array([prior], dtype=I64)

    def cum(self, name, sub, amount, at=None):
        if at is not None and not len(at):
            return np.zeros(0, dtype=I64)
        key = self._key(name, sub)
        prior = self.before.get(key, 0)
        self._add(key, int(amount[0]))
        return np.array([prior], dtype=I64)

    def capped(self, name, sub, raw, cap, per_year=True, at=None):
        if at is not None and not len(at):
            return np.zeros(0, dtype=I64)
        if name in NO_PRIOR_KEYS:  # balances are passed in, not accumulated
            return np.zeros(1, dtype=I64)
        key = self._key(name, sub)
        prior = self.before.get(key, 0)
        paid = min(int(raw[0]), max(0, int(cap[0]) - prior))
        self._add(key, paid)
        return np.array([prior], dtype=I64)


class Batch:
    """Priors for claims sorted by (person, date, claim id), from grouped exclusive cumulative sums.

    Only claims that add to a total (amount > 0) are computed: a claim that adds nothing is paid
    nothing by the tier whatever came before, so its prior is left 0 (the underscored internal
    outputs of :func:`settle_core` are therefore exact only in real time). Account balances are
    the exception — ``balc`` is reported for every claim — and are computed densely.

    ``opening`` maps accumulator keys (as in real time: ``stays``, ``cap:pooling``, ``hifmi.paid`` …)
    to per-claim arrays holding the opening value of the claim's person-year — the year so far,
    settled elsewhere (real time, an earlier batch). With ``track``, the batch records each
    person-year's accumulators after its last claim (:meth:`closing`), as real time would leave them.
    """

    def __init__(self, person: np.ndarray, year: np.ndarray, opening: dict[str, np.ndarray] | None = None,
                 track: bool = False):
        person = np.asarray(person, dtype=I64)
        year = np.asarray(year, dtype=I64)
        n = len(person)
        new_py = np.ones(n, dtype=bool)
        new_p = np.ones(n, dtype=bool)
        if n:
            new_p[1:] = person[1:] != person[:-1]
            new_py[1:] = new_p[1:] | (year[1:] != year[:-1])
        self.n = n
        self.py = np.cumsum(new_py) - 1  # person-year id, contiguous
        self.p = np.cumsum(new_p) - 1  # person id, contiguous
        self._seg = {True: _segments(new_py), False: _segments(new_p)}
        self.scans = 0  # how many totals needed the grouped scan (for the record)
        self.opening = {k: np.asarray(v, dtype=I64) for k, v in (opening or {}).items() if np.any(v)}
        self.track = track
        self._closing: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # key → (person-year ids, values)

    def _open(self, name: str, sub, idx) -> np.ndarray | None:
        """Opening values for the claims ``idx`` (None: all) of this total, or None when there are
        none; ``sub`` is a scalar group or the groups of those claims."""
        if not self.opening:
            return None
        if sub is None or _is_scalar(sub):
            key = name if sub is None else group_name(np.asarray(sub).flat[0])
            o = self.opening.get(key)
            return None if o is None else (o if idx is None else o[idx])
        out = None
        for g in np.unique(sub):
            o = self.opening.get(group_name(g))
            if o is not None:
                out = np.zeros(len(sub), dtype=I64) if out is None else out
                hit = sub == g
                out[hit] = (o if idx is None else o[idx])[hit]
        return out

    def _prior(self, name, values, sub, per_year=True, cap=None, dense=False, at=None) -> np.ndarray:
        m = self.n if at is None else len(at)
        values = np.broadcast_to(np.asarray(values, dtype=I64), (m,))
        cap = None if cap is None else np.broadcast_to(np.asarray(cap, dtype=I64), (m,))
        whole = sub is None or _is_scalar(sub)
        count = m if dense else np.count_nonzero(values)
        if count == 0:
            return np.zeros(m, dtype=I64)
        if at is None and whole and (dense or count * 3 > m):  # one group per person(-year), no gathers
            return self._prior_dense(name, values, sub, per_year, cap, dense)
        local = np.flatnonzero(values)  # only claims that add to the total
        idx = local if at is None else at[local]
        key = (self.py if per_year else self.p)[idx]
        v = values[local]
        sub_l = sub if whole else np.asarray(sub, dtype=I64)[local]
        if not whole and sub_l.min() != sub_l.max():
            # groups contiguous by (group, person-year), dates kept in order: a stable radix sort on
            # the small group number keeps the person-year order within each group
            order = np.argsort(sub_l.astype(np.uint16 if sub_l.max() < 65536 else I64), kind="stable")
            local, idx, key, v, sub_l = local[order], idx[order], key[order], v[order], sub_l[order]
            key = sub_l * (self.n + 1) + key
        new = np.ones(len(key), dtype=bool)
        new[1:] = key[1:] != key[:-1]
        seg = _segments(new)
        prior = self._excl(v, seg)
        opened = self._open(name, sub_l, idx) if per_year else None
        if opened is not None:
            prior += opened
        c = None
        if cap is not None:
            c = np.broadcast_to(cap.flat[0], (len(v),)) if _is_scalar(cap) else cap[local]
            if _is_scalar(c) or self._constant_cap(v, c, seg):
                prior = np.minimum(prior, c)
            else:
                prior = self._scan(v, c, seg, opened)
        self._close(name, sub_l, idx, seg, v, prior, c, per_year and not dense)
        out = np.zeros(m, dtype=I64)
        out[local] = prior
        return out

    def _prior_dense(self, name, values, sub, per_year, cap, dense) -> np.ndarray:
        v = np.ascontiguousarray(values)
        seg = self._seg[per_year]
        prior = self._excl(v, seg)
        opened = self._open(name, sub, None) if per_year else None
        if opened is not None:
            prior += opened
        if cap is not None:
            if _is_scalar(cap) or self._constant_cap(v, cap, seg):
                prior = np.minimum(prior, cap)
            else:
                prior = self._scan(v, cap, seg, opened)
        self._close(name, sub, None, seg, v, prior, cap, per_year and not dense)
        return prior

    def _close(self, name, sub, idx, seg, v, prior, cap, per_year) -> None:
        """Record each group's total after its last claim (prior + what the last claim added);
        ``sub`` is a scalar group or the groups aligned with ``v``."""
        if not (self.track and per_year):
            return
        starts, lengths = seg
        last = starts + lengths - 1
        added = v[last]
        if cap is not None:
            added = np.minimum(added, np.maximum(0, np.broadcast_to(cap, (len(v),))[last] - prior[last]))
        value = prior[last] + added
        py = self.py[last if idx is None else idx[last]]
        if sub is None or _is_scalar(sub):
            keys = [(name if sub is None else group_name(np.asarray(sub).flat[0]), slice(None))]
        else:
            g = np.asarray(sub)[last]
            keys = [(group_name(x), g == x) for x in np.unique(g)]
        for key, sel in keys:
            old = self._closing.get(key)
            ids, vals = py[sel], value[sel]
            self._closing[key] = (ids, vals) if old is None else (np.concatenate([old[0], ids]), np.concatenate([old[1], vals]))

    def closing(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Accumulators after each person-year's last claim: key → (first claim index of the
        person-year, value). Openings that no claim of the batch touched are carried over."""
        first = self._seg[True][0]
        out = {}
        for key, o in self.opening.items():
            ids, vals = self._closing.get(key, (np.zeros(0, dtype=I64), np.zeros(0, dtype=I64)))
            carried = np.setdiff1d(np.flatnonzero(o[first]), ids)
            out[key] = (np.concatenate([ids, carried]), np.concatenate([vals, o[first][carried]]))
        for key, (ids, vals) in self._closing.items():
            out.setdefault(key, (ids, vals))
        return {k: (first[ids], vals) for k, (ids, vals) in out.items()}

    @staticmethod
    def _excl(values: np.ndarray, seg) -> np.ndarray:
        """Exclusive cumulative sum restarting at each segment: one running sum, less the running
        sum at the segment's start."""
        starts, lengths = seg
        run = np.cumsum(values)
        run -= values
        if len(starts) > 1:
            run -= np.repeat(run[starts], lengths)
        return run

    def count(self, name, flag):
        return self._prior(name, flag, None)

    def cum(self, name, sub, amount, at=None):
        return self._prior(name, amount, sub, at=at)

    def capped(self, name, sub, raw, cap, per_year=True, at=None):
        return self._prior(name, raw, sub, per_year, cap, dense=name in DENSE_KEYS, at=at)

    @staticmethod
    def _constant_cap(raw, cap, seg) -> bool:
        """Is the cap the same for every claim of a group that asks for money (raw > 0)?"""
        starts, _ = seg
        new = np.zeros(len(cap), dtype=bool)
        new[starts] = True
        asks = raw > 0
        if asks.all():  # each claim's cap equals its predecessor's unless it starts a group
            return bool(np.all((cap[1:] == cap[:-1]) | new[1:]))
        at = np.flatnonzero(asks)  # each asking claim against the previous asking claim of its group
        group = np.cumsum(new)[at]
        c = cap[at]
        return bool(np.all((c[1:] == c[:-1]) | (group[1:] != group[:-1])))

    def _scan(self, raw, cap, seg, opened=None):
        """Sequential caps, vectorised across groups: the k-th claim of every group at once."""
        self.scans += 1
        n = len(raw)
        cap = np.broadcast_to(cap, (n,))
        first, lengths = seg
        gid = np.repeat(np.arange(len(first)), lengths)
        rank = np.arange(n) - first[gid]
        acc = np.zeros(len(first), dtype=I64) if opened is None else opened[first].copy()
        prior = np.zeros(n, dtype=I64)
        by_rank = np.argsort(rank, kind="stable")
        bounds = np.searchsorted(rank[by_rank], np.arange(rank.max(initial=-1) + 2))
        for k in range(len(bounds) - 1):
            idx = by_rank[bounds[k]:bounds[k + 1]]
            g = gid[idx]
            prior[idx] = acc[g]
            acc[g] += np.minimum(raw[idx], np.maximum(0, cap[idx] - acc[g]))
        return prior


def _segments(new: np.ndarray):
    """(start index, length) of each run that begins where ``new`` is true."""
    starts = np.flatnonzero(new)
    return starts, np.diff(np.append(starts, len(new)))


def _is_scalar(a) -> bool:
    """A broadcast scalar (every element the same object in memory)."""
    a = np.asarray(a)
    return a.ndim == 0 or (a.ndim == 1 and a.strides == (0,))


def _rate(fen, ppm, rounding: Rounding):
    """``fen × rate`` to the fen for non-negative amounts: :func:`yibao.money.apply_rate_np` without
    its sign handling (every amount in the core is ≥ 0), and nothing to compute for a zero rate."""
    half = PPM // 2 if rounding == Rounding.HALF_UP else 0
    fen = np.asarray(fen, dtype=I64)
    if not fen.size:
        return np.zeros(fen.shape, dtype=I64)
    if _is_scalar(ppm):
        r = int(np.asarray(ppm).flat[0])
        return np.zeros(fen.shape, dtype=I64) if r == 0 else (fen * r + half) // PPM
    if np.count_nonzero(ppm) * 4 < len(ppm):  # a tier most claims do not reach: only where it applies
        nz = np.flatnonzero(ppm)
        out = np.zeros(fen.shape, dtype=I64)
        out[nz] = (fen[nz] * ppm[nz] + half) // PPM
        return out
    return (fen * ppm + half) // PPM


# ---------------------------------------------------------------------------------------------
# Line scope (政策范围)

CLASS_A, CLASS_B, CLASS_C = 0, 1, 2


def line_scope(amount, qty_milli, item_class, preselfpay_ppm, price_cap, out_of_scope, rounding: Rounding):
    """Split each line into 全自费 / 超限价 / 先行自付 / 政策范围内 (fen).

    ``item_class`` 0 甲 / 1 乙 / 2 丙 or out of catalog; ``price_cap`` per unit in fen (< 0: none);
    ``qty_milli`` quantity in thousandths; ``out_of_scope`` restricted items used outside their conditions.
    """
    amount = np.asarray(amount, dtype=I64)
    self_paid = (np.asarray(item_class) == CLASS_C) | np.asarray(out_of_scope, dtype=bool)
    fulamt = np.where(self_paid, amount, 0)
    cap = np.asarray(price_cap, dtype=I64)
    limit = np.where(cap >= 0, (cap * np.asarray(qty_milli, dtype=I64) + 500) // 1000, amount)
    allowed = np.where(self_paid, 0, np.minimum(amount, limit))
    overlmt = np.where(self_paid, 0, amount - allowed)
    presel = _rate(allowed, np.asarray(preselfpay_ppm, dtype=I64), rounding)
    return fulamt, overlmt, presel, allowed - presel


def claim_sums(starts: np.ndarray, ends: np.ndarray, *columns: np.ndarray) -> list[np.ndarray]:
    """Per-claim sums of line columns for lines ``starts[i]:ends[i]`` (exact int64, empty claims ok):
    differences of one running sum per column."""
    starts = np.asarray(starts)
    ends = np.asarray(ends)
    out = []
    for col in columns:
        run = np.empty(len(col) + 1, dtype=I64)
        run[0] = 0
        np.cumsum(np.asarray(col, dtype=I64), out=run[1:])
        out.append(run[ends] - run[starts])
    return out


# ---------------------------------------------------------------------------------------------
# Tiers


def _param(P, name: str, idx):
    """Parameter ``name`` for the claims ``idx`` (None: all); a broadcast scalar stays one, and batch
    parameters gather only the claims asked for."""
    if idx is None:
        return P[name]
    if hasattr(P, "at"):
        return P.at(name, idx)
    a = P[name]
    if _is_scalar(a):
        return np.broadcast_to(np.asarray(a).flat[0], (len(idx),))
    return a[idx]


def _band_pay(lo, hi, P, prefix, rounding, idx=None):
    """Σ over bands of rate × the part of [lo, hi) inside the band (each band rounded once).

    ``idx`` restricts the parameters to a subset of claims (``lo``/``hi`` are then that subset's);
    each band is computed only for the claims that reach into it."""
    total = np.zeros(len(lo), dtype=I64)
    top = np.iinfo(I64).max // 4
    for b in range(NB if len(lo) else 0):
        start = _param(P, f"{prefix}_from{b}", idx)
        if _is_scalar(start) and int(np.asarray(start).flat[0]) >= NOCAP:
            break  # no kind has this many bands
        end = _param(P, f"{prefix}_from{b + 1}", idx) if b + 1 < NB else np.broadcast_to(I64(top), (len(lo),))
        rate = _param(P, f"{prefix}_rate{b}", idx)
        inside = (hi > start) & (lo < end)
        count = np.count_nonzero(inside)
        if not count:
            continue
        if count * 2 > len(lo):
            part = np.maximum(0, np.minimum(hi, end) - np.maximum(lo, start))
            total += _rate(part, rate, rounding)
        else:
            reach = np.flatnonzero(inside)
            part = np.minimum(hi[reach], end[reach]) - np.maximum(lo[reach], start[reach])
            total[reach] += _rate(part, np.ascontiguousarray(rate[reach]), rounding)
    return total


def _pay(raw, cap, prior):
    return np.minimum(raw, np.maximum(0, cap - prior))


def _applies(flag) -> np.ndarray | None:
    """The claims a tier applies to (flag or rate ≠ 0): None when all do, else their positions."""
    if _is_scalar(flag):
        return None if int(np.asarray(flag).flat[0]) else np.zeros(0, dtype=np.intp)
    at = np.flatnonzero(flag)
    return None if len(at) == len(flag) else at


def _sub(a, at):
    return a if at is None else a[at]


def _spread(n: int, at, values):
    """Values for the claims ``at`` as a full array (zero elsewhere)."""
    if at is None:
        return values
    out = np.zeros(n, dtype=I64)
    out[at] = values
    return out


def _capped_pay(run: Running, key: str, raw, cap, at):
    """Pay ``raw`` up to a yearly cap: (paid, paid before this claim)."""
    prior = run.capped(key, None, raw, cap, at=at)
    return _pay(raw, cap, prior), prior


def _yearly_tier(run: Running, key: str, base, P, prefix: str, at, R, cap: str = ""):
    """A tier with a yearly deductible, a rate and a yearly cap on ``base`` (the claims ``at``):
    parameters ``<prefix>_ded``, ``<prefix>_rate`` and ``cap`` (default ``<prefix>_cap``)."""
    ded = _param(P, f"{prefix}_ded", at)
    cap = _param(P, cap or f"{prefix}_cap", at)
    met = _pay(base, ded, run.capped(f"{key}.deductible", None, base, ded, at=at))
    return _capped_pay(run, f"{key}.paid", _rate(base - met, _param(P, f"{prefix}_rate", at), R), cap, at)


def settle_core(c: dict[str, np.ndarray], P: dict[str, np.ndarray], run: Running, rounding: Rounding,
                detail: bool = True) -> dict[str, np.ndarray]:
    """Settle claims whose scope sums are ``c`` (total, fulamt, overlmt, presel, inscope, acct_bal,
    fam_bal) under per-claim parameters ``P`` (see :mod:`yibao.settlement.plan`). Returns setlinfo
    arrays (fen) and, with ``detail``, the limits left for the setldetail rows and the trace."""
    R = rounding
    total = c["total"]
    lift = P["lift_scope"] == 1
    S = np.where(lift, c["inscope"] + c["fulamt"], c["inscope"])
    F = np.where(lift, 0, c["fulamt"])
    O = c["overlmt"]
    extra = _rate(S, P["oa_presel"], R)  # 异地 先行自付
    Pre = c["presel"] + extra
    S = S - extra

    # 起付线: per stay with Nth-stay rules, or per year
    stays_before = run.count("stays", P["counts_stay"])
    n = np.where(P["counts_stay"] == 1, stays_before + 1, 1)
    D = P["ded"]
    later = n >= 2
    D_n = np.where((P["nth_mode"] == 1) & later, _rate(D, P["nth_factor"], R), D)
    D_n = np.where((P["nth_mode"] == 2) & later,
                   np.maximum(np.minimum(D, P["nth_floor"]), D - P["nth_step"] * (n - 1)), D_n)
    D_n = np.where((P["nth_waive_from"] > 0) & (n >= P["nth_waive_from"]), 0, D_n)
    mode = P["nth_mode"]
    if not (_is_scalar(mode) and int(np.asarray(mode).flat[0]) != 3):  # a deductible table by stay number
        table = np.stack([np.broadcast_to(P[f"nth_table{i}"], n.shape) for i in range(NT)])
        D_n = np.where(mode == 3, np.take_along_axis(table, (np.minimum(n, NT) - 1)[None, :], 0)[0], D_n)
    per_stay, per_year = P["ded_per"] == 1, P["ded_per"] == 2
    year_cap = np.where(per_year, D, 0)
    ded_prior = run.capped("ded", P["ded_group"], np.where(per_year, S, 0), year_cap)
    dedc = np.where(per_stay, np.minimum(S, D_n), np.where(per_year, _pay(S, year_cap, ded_prior), 0))

    # 统筹基金: rate or bands (per stay or on the year's cumulative in-scope amount), then the cap
    band_year = P["band_year"] == 1
    base = np.where(band_year, run.cum("band", P["band_group"], np.where(band_year, S, 0)), 0)
    lo, hi = base + dedc, base + S
    raw = _band_pay(lo, hi, P, "band", R)
    penalty = np.zeros_like(raw)  # 异地 rate cut, kept out of the 救助 base
    cut = np.flatnonzero(P["oa_cut"])
    if len(cut):
        penalty[cut] = _band_pay(lo[cut], hi[cut], P, "bandcut", R, cut)
    cap_prior = run.capped("cap", P["cap_group"], raw, P["cap"])
    hifp = _pay(raw, P["cap"], cap_prior)

    # 职工大额: above the basic cap, or the year's personal in-scope burden above a threshold
    payable = S - dedc
    excess = np.zeros_like(raw)
    capped_out = np.flatnonzero(hifp < raw)  # only where the basic cap bit
    if len(capped_out):
        r = raw[capped_out]
        excess[capped_out] = payable[capped_out] * (r - hifp[capped_out]) // r
    burden = S - hifp
    thr_on = P["ob_shape"] == 2
    ob_base_prior = run.cum("hifob.base", None, np.where(thr_on, burden, 0))
    T = P["ob_threshold"]
    over = np.maximum(0, ob_base_prior + burden - T) - np.maximum(0, ob_base_prior - T)
    ob_base = np.where(P["ob_above_cap"] == 1, excess, np.where(thr_on, over, 0))
    ob_raw = _rate(ob_base, P["ob_rate"], R)
    hifob, ob_prior = _capped_pay(run, "hifob.paid", ob_raw, P["ob_cap"], None)

    # 公务员医疗补助, 企业补充 and 居民大病: each on the few claims it applies to
    n_claims = len(total)
    cvl_at = _applies(P["cvl_rate"])
    cvl_raw = _rate(_sub(S - hifp - hifob, cvl_at), _param(P, "cvl_rate", cvl_at), R)
    cvl_c, cvl_prior = _capped_pay(run, "cvlserv.paid", cvl_raw, _param(P, "cvl_cap", cvl_at), cvl_at)
    cvl = _spread(n_claims, cvl_at, cvl_c)

    # 企业补充医疗保险: what the employee still bears (in scope, or also the 自费 parts)
    es_at = _applies(P["es_on"])
    es_b = _sub(S - hifp - hifob - cvl, es_at) + _sub(F + O + Pre, es_at) * _param(P, "es_personal", es_at)
    es_c, es_prior = _yearly_tier(run, "hifes", es_b, P, "es", es_at, R)
    hifes = _spread(n_claims, es_at, es_c)

    # 居民大病保险: on the year's cumulative in-scope burden after basic pooling
    mi_at = _applies(P["mi_on"])
    mi_b = _sub(S - hifp - hifob - cvl, mi_at)
    mi_base = run.cum("hifmi.base", None, mi_b, at=mi_at)
    mi_raw = _band_pay(mi_base, mi_base + mi_b, P, "mi", R, mi_at)
    mi_c, mi_paid_prior = _capped_pay(run, "hifmi.paid", mi_raw, _param(P, "mi_cap", mi_at), mi_at)
    hifmi = _spread(n_claims, mi_at, mi_c)

    # 医疗救助: in-scope burden after basic, 大额/大病, 公务员 and 企业补充, less any unfiled 异地 cut
    left = np.maximum(0, S - hifp - hifob - cvl - hifes - hifmi)
    maf_at = _applies(P["maf_on"])
    maf_b = np.maximum(0, _sub(left, maf_at) - _sub(penalty, maf_at) * _param(P, "maf_no_penalty", maf_at))
    maf_c, maf_prior = _yearly_tier(run, "maf", maf_b, P, "maf", maf_at, R, cap="maf_limit")

    # 个人负担控制: the in-scope burden above a share of the in-scope amount goes to the hospital
    # (医院负担) or to 医疗救助 (再救助)
    maf = _spread(n_claims, maf_at, maf_c)
    hosp = np.zeros_like(total)
    ceil_at = _applies(P["ceil_on"])
    if ceil_at is None or len(ceil_at):
        over = np.maximum(0, _sub(left - maf, ceil_at) - _rate(_sub(S, ceil_at), _param(P, "ceil_share", ceil_at), R))
        payer = _param(P, "ceil_payer", ceil_at)
        hosp = _spread(n_claims, ceil_at, np.where(payer == 1, over, 0))
        maf = maf + _spread(n_claims, ceil_at, np.where(payer == 2, over, 0))

    # Supplementary tiers (惠民保, 职工医疗互助) → oth_pay, on what the person still bears
    paid = hifp + hifob + cvl + hifes + hifmi + maf
    oth = np.zeros_like(total)
    for k in range(NS):
        at = _applies(P[f"sup{k}_on"])
        if at is not None and not len(at):
            continue  # nobody in these claims joined this tier
        b = np.maximum(0, _sub(S - paid - hosp - oth, at) + _sub(F + O + Pre, at) * _param(P, f"sup{k}_oos", at))
        got, _ = _yearly_tier(run, f"sup{k}", b, P, f"sup{k}", at, R)
        oth = oth + _spread(n_claims, at, got)

    fund = paid + oth
    psn = total - fund - hosp
    # 个人账户, then 家庭共济, then cash
    elig = np.where(P["acct_in_catalog"] == 1, np.maximum(0, psn - F - O), psn) * P["acct_on"]
    bal = c["acct_bal"]
    used = run.capped("account.used", None, elig, bal, per_year=False)
    acct = _pay(elig, bal, used)
    fam_elig = (elig - acct) * P["fam_on"]
    fam_used = run.capped("family.used", None, fam_elig, c["fam_bal"], per_year=False)
    mulaid = _pay(fam_elig, c["fam_bal"], fam_used)
    out = {
        "medfee_sumamt": total, "fulamt_ownpay_amt": F, "overlmt_selfpay": O, "preselfpay_amt": Pre,
        "inscp_scp_amt": S, "act_pay_dedc": dedc, "hifp_pay": hifp, "pool_prop_selfpay": P["rate"],
        "cvlserv_pay": cvl, "hifes_pay": hifes, "hifmi_pay": hifmi, "hifob_pay": hifob,
        "maf_pay": maf, "oth_pay": oth, "fund_pay_sumamt": fund, "psn_part_amt": psn, "acct_pay": acct,
        "psn_cash_pay": psn - acct - mulaid, "hosp_part_amt": hosp, "balc": bal - used - acct,
        "acct_mulaid_pay": mulaid,
    }
    if detail:  # limits left before this claim (setldetail crt_payb_lmt_amt) and the stay number
        def rest(cap: str, prior, at=None):
            return _spread(n_claims, at, np.maximum(0, _param(P, cap, at) - prior))

        out.update({
            "_cap_left": rest("cap", cap_prior), "_ob_left": rest("ob_cap", ob_prior),
            "_cvl_left": rest("cvl_cap", cvl_prior, cvl_at), "_mi_left": rest("mi_cap", mi_paid_prior, mi_at),
            "_maf_left": rest("maf_limit", maf_prior, maf_at), "_es_left": rest("es_cap", es_prior, es_at),
            "_stay_no": np.where(P["counts_stay"] == 1, n, 0),
        })
    return out


__all__ = ["Batch", "RealTime", "is_accumulator_key", "Running", "claim_sums", "line_scope", "settle_core", "PPM"]
