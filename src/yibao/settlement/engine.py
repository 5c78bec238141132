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

from typing import NamedTuple, Protocol

import numpy as np

from yibao.money import PPM, Rounding
from yibao.settlement.plan import NB, NOCAP, NS, NT, BurdenPayer, DeductiblePer, LargeExpense, NthStay, group_name

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
    if len(starts) == 1 and starts[0] == 0 and all(ends[0] == len(col) for col in columns):  # one claim
        return [np.array([np.asarray(col, dtype=I64).sum()], dtype=I64) for col in columns]
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


TOP = I64(np.iinfo(I64).max // 4)  # the last band's end


def _band_pay(lo, hi, P, prefix, rounding, idx=None):
    """Σ over bands of rate × the part of [lo, hi) inside the band (each band rounded once).

    ``idx`` restricts the parameters to a subset of claims (``lo``/``hi`` are then that subset's);
    each band is computed only for the claims that reach into it."""
    total = np.zeros(len(lo), dtype=I64)
    top = TOP
    for b in range(NB if len(lo) else 0):
        start = _param(P, f"{prefix}_from{b}", idx)
        if int(np.asarray(start).flat[0]) >= NOCAP if _is_scalar(start) else bool((start >= NOCAP).all()):
            break  # no kind among these claims has this many bands
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


def _share(amount, part, whole, R):
    """``amount × part ÷ whole`` to the fen (0 where ``whole`` is 0)."""
    half = np.maximum(whole, 1) // 2 if R == Rounding.HALF_UP else 0
    return np.where(whole > 0, (amount * part + half) // np.maximum(whole, 1), 0)


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


class Scope(NamedTuple):
    """A claim's bill split by scope (fen): in scope ``S``, fully self-paid ``F``, above the price cap
    ``O``, paid first by the person ``Pre``."""

    S: np.ndarray
    F: np.ndarray
    O: np.ndarray
    Pre: np.ndarray


class Paid(NamedTuple):
    """What a tier paid, what it had paid before this claim (toward its cap), and the claims it
    applies to (None: all)."""

    amount: np.ndarray
    prior: np.ndarray
    at: np.ndarray | None = None


def in_scope(c, P, R) -> Scope:
    """政策范围: a waiver may lift the 目录外 part into scope; 异地 moves a further 先行自付 share."""
    lift = P["lift_scope"] == 1
    S = np.where(lift, c["inscope"] + c["fulamt"], c["inscope"])
    extra = _rate(S, P["oa_presel"], R)
    return Scope(S - extra, np.where(lift, 0, c["fulamt"]), c["overlmt"], c["presel"] + extra)


def stay_number(P, run: Running) -> np.ndarray:
    """The claim's stay number in the year (1 for claims that are not stays)."""
    before = run.count("stays", P["counts_stay"])
    return np.where(P["counts_stay"] == 1, before + 1, 1)


def stay_deductible(P, n, R) -> np.ndarray:
    """起付线 of the n-th stay: the rule's, a factor or a step down to a floor from the second stay,
    waived from the k-th, or a table by stay number."""
    D = P["ded"]
    if not (P["nth_mode"].any() or P["nth_waive_from"].any()):  # every stay pays the rule's own
        return D
    later = n >= 2
    D_n = np.where((P["nth_mode"] == NthStay.FACTOR) & later, _rate(D, P["nth_factor"], R), D)
    D_n = np.where((P["nth_mode"] == NthStay.STEP) & later,
                   np.maximum(np.minimum(D, P["nth_floor"]), D - P["nth_step"] * (n - 1)), D_n)
    D_n = np.where((P["nth_waive_from"] > 0) & (n >= P["nth_waive_from"]), 0, D_n)
    at = _applies(P["nth_mode"] == NthStay.TABLE)
    if at is None or len(at):  # a table by stay number, for the claims whose rule has one
        k = np.minimum(_sub(n, at), NT) - 1
        table = np.stack([np.broadcast_to(_param(P, f"nth_table{i}", at), k.shape) for i in range(NT)])
        picked = np.take_along_axis(table, k[None, :], 0)[0]
        D_n = picked if at is None else _replace(D_n, at, picked)
    return D_n


def _replace(values, at, new):
    out = np.array(values, dtype=I64)
    out[at] = new
    return out


def deductible(S, P, n, run: Running, R) -> np.ndarray:
    """起付线 paid by this claim: per stay (the n-th stay's), or toward a yearly deductible."""
    per_year = P["ded_per"] == DeductiblePer.YEAR
    year_cap = np.where(per_year, P["ded"], 0)
    prior = run.capped("ded", P["ded_group"], np.where(per_year, S, 0), year_cap)
    return np.where(P["ded_per"] == DeductiblePer.STAY, np.minimum(S, stay_deductible(P, n, R)),
                    np.where(per_year, _pay(S, year_cap, prior), 0))


def pooling(S, dedc, c, P, run: Running, R) -> tuple[Paid, np.ndarray, np.ndarray]:
    """统筹基金: a rate or bands (per stay, or on the year's cumulative in-scope amount) above the
    deductible, within the annual cap. Lines with a fund rate of their own (a high-value 耗材 at 70%)
    are paid at that rate instead: the deductible is met from the other in-scope lines first, and
    what is left of it reduces the own-rate payment in proportion. Returns (paid, the uncapped
    amount, the 异地 rate cut)."""
    band_year = P["band_year"] == 1
    base = np.where(band_year, run.cum("band", P["band_group"], np.where(band_year, S, 0)), 0)
    own_scope = c.get("own_scope")
    if own_scope is not None and own_scope.any():
        S_reg = np.maximum(0, S - own_scope)
        left = np.maximum(0, dedc - S_reg)  # deductible the stay-rate lines could not meet
        own = c["own_pay"] - _share(c["own_pay"], left, own_scope, R)
        lo, hi = base + np.minimum(dedc, S_reg), base + S_reg
    else:
        own, lo, hi = 0, base + dedc, base + S
    raw = _band_pay(lo, hi, P, "band", R) + own
    penalty = np.zeros_like(raw)  # 异地 rate cut, kept out of the 救助 base
    cut = np.flatnonzero(P["oa_cut"])
    if len(cut):
        penalty[cut] = _band_pay(lo[cut], hi[cut], P, "bandcut", R, cut)
    prior = run.capped("cap", P["cap_group"], raw, P["cap"])
    return Paid(_pay(raw, P["cap"], prior), prior), raw, penalty


def large_expense(S, dedc, raw, hifp, P, run: Running, R) -> Paid:
    """职工大额: rate × the in-scope amount the capped basic fund left unpaid, or × the year's personal
    in-scope burden above a threshold; within its own cap."""
    if not P["ob_shape"].any():  # no 职工大额 for these claims: nothing to pay, no total moves
        return Paid(np.zeros_like(raw), np.zeros_like(raw))
    payable = S - dedc
    excess = np.zeros_like(raw)
    capped_out = np.flatnonzero(hifp < raw)  # only where the basic cap bit
    if len(capped_out):
        r = raw[capped_out]
        excess[capped_out] = payable[capped_out] * (r - hifp[capped_out]) // r
    burden = S - hifp
    threshold = P["ob_shape"] == LargeExpense.THRESHOLD
    before = run.cum("hifob.base", None, np.where(threshold, burden, 0))
    T = P["ob_threshold"]
    over = np.maximum(0, before + burden - T) - np.maximum(0, before - T)
    base = np.where(P["ob_above_cap"] == 1, excess, np.where(threshold, over, 0))
    return Paid(*_capped_pay(run, "hifob.paid", _rate(base, P["ob_rate"], R), P["ob_cap"], None))


def civil_servant(left, P, run: Running, R) -> Paid:
    """公务员医疗补助: rate × the in-scope burden left, within its annual limit (its claims only)."""
    at = _applies(P["cvl_rate"])
    raw = _rate(_sub(left, at), _param(P, "cvl_rate", at), R)
    paid, prior = _capped_pay(run, "cvlserv.paid", raw, _param(P, "cvl_cap", at), at)
    return Paid(_spread(len(left), at, paid), prior, at)


def enterprise(left, self_paid, P, run: Running, R) -> Paid:
    """企业补充医疗保险: what the employee still bears (in scope, or also the 自费 parts)."""
    at = _applies(P["es_on"])
    base = _sub(left, at) + _sub(self_paid, at) * _param(P, "es_personal", at)
    paid, prior = _yearly_tier(run, "hifes", base, P, "es", at, R)
    return Paid(_spread(len(left), at, paid), prior, at)


def serious_illness(left, P, run: Running, R) -> Paid:
    """居民大病保险: bands on the year's cumulative in-scope burden after basic pooling, within its cap."""
    at = _applies(P["mi_on"])
    base = _sub(left, at)
    before = run.cum("hifmi.base", None, base, at=at)
    raw = _band_pay(before, before + base, P, "mi", R, at)
    paid, prior = _capped_pay(run, "hifmi.paid", raw, _param(P, "mi_cap", at), at)
    return Paid(_spread(len(left), at, paid), prior, at)


def assistance(left, penalty, P, run: Running, R) -> Paid:
    """医疗救助: the in-scope burden left after the tiers above, less any unfiled 异地 cut."""
    at = _applies(P["maf_on"])
    base = np.maximum(0, _sub(left, at) - _sub(penalty, at) * _param(P, "maf_no_penalty", at))
    paid, prior = _yearly_tier(run, "maf", base, P, "maf", at, R, cap="maf_limit")
    return Paid(_spread(len(left), at, paid), prior, at)


def burden_ceiling(left, S, P, R) -> tuple[np.ndarray, np.ndarray]:
    """个人负担控制: the in-scope burden above a share of the in-scope amount goes to the hospital
    (医院负担) or to 医疗救助 as 再救助. Returns (borne by the hospital, paid again by 救助)."""
    hosp, again = np.zeros_like(S), np.zeros_like(S)
    at = _applies(P["ceil_on"])
    if at is None or len(at):
        over = np.maximum(0, _sub(left, at) - _rate(_sub(S, at), _param(P, "ceil_share", at), R))
        payer = _param(P, "ceil_payer", at)
        hosp = _spread(len(S), at, np.where(payer == BurdenPayer.HOSPITAL, over, 0))
        again = _spread(len(S), at, np.where(payer == BurdenPayer.ASSISTANCE, over, 0))
    return hosp, again


def supplementary(left, self_paid, P, run: Running, R) -> np.ndarray:
    """Supplementary tiers (惠民保, 职工医疗互助) → oth_pay, each on what the person still bears."""
    oth = np.zeros_like(left)
    for k in range(NS):
        at = _applies(P[f"sup{k}_on"])
        if at is not None and not len(at):
            continue  # nobody in these claims joined this tier
        base = np.maximum(0, _sub(left - oth, at) + _sub(self_paid, at) * _param(P, f"sup{k}_oos", at))
        got, _ = _yearly_tier(run, f"sup{k}", base, P, f"sup{k}", at, R)
        oth = oth + _spread(len(left), at, got)
    return oth


def accounts(psn, F, O, c, P, run: Running) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """个人账户 within its balance, then 家庭共济. Returns (account, family account, balance used before)."""
    elig = np.where(P["acct_in_catalog"] == 1, np.maximum(0, psn - F - O), psn) * P["acct_on"]
    bal = c["acct_bal"]
    used = run.capped("account.used", None, elig, bal, per_year=False)
    acct = _pay(elig, bal, used)
    fam_elig = (elig - acct) * P["fam_on"]
    fam_used = run.capped("family.used", None, fam_elig, c["fam_bal"], per_year=False)
    return acct, _pay(fam_elig, c["fam_bal"], fam_used), used


def settle_core(c: dict[str, np.ndarray], P: dict[str, np.ndarray], run: Running, rounding: Rounding,
                detail: bool = True) -> dict[str, np.ndarray]:
    """Settle claims whose scope sums are ``c`` (total, fulamt, overlmt, presel, inscope, acct_bal,
    fam_bal) under per-claim parameters ``P`` (see :mod:`yibao.settlement.plan`): the tiers in the
    order of the settlement README, each on what the tiers before it left. Returns setlinfo arrays
    (fen) and, with ``detail``, the limits left for the setldetail rows and the stay number."""
    R = rounding
    total = c["total"]
    s = in_scope(c, P, R)
    n = stay_number(P, run)
    dedc = deductible(s.S, P, n, run, R)
    hifp, raw, penalty = pooling(s.S, dedc, c, P, run, R)
    hifob = large_expense(s.S, dedc, raw, hifp.amount, P, run, R)
    left = s.S - hifp.amount - hifob.amount
    self_paid = s.F + s.O + s.Pre
    cvl = civil_servant(left, P, run, R)
    hifes = enterprise(left - cvl.amount, self_paid, P, run, R)
    hifmi = serious_illness(left - cvl.amount, P, run, R)
    left = np.maximum(0, left - cvl.amount - hifes.amount - hifmi.amount)
    maf = assistance(left, penalty, P, run, R)
    hosp, again = burden_ceiling(left - maf.amount, s.S, P, R)
    paid = hifp.amount + hifob.amount + cvl.amount + hifes.amount + hifmi.amount + maf.amount + again
    oth = supplementary(s.S - paid - hosp, self_paid, P, run, R)
    fund = paid + oth
    psn = total - fund - hosp
    acct, mulaid, used = accounts(psn, s.F, s.O, c, P, run)
    out = {
        "medfee_sumamt": total, "fulamt_ownpay_amt": s.F, "overlmt_selfpay": s.O, "preselfpay_amt": s.Pre,
        "inscp_scp_amt": s.S, "act_pay_dedc": dedc, "hifp_pay": hifp.amount, "pool_prop_selfpay": P["rate"],
        "cvlserv_pay": cvl.amount, "hifes_pay": hifes.amount, "hifmi_pay": hifmi.amount, "hifob_pay": hifob.amount,
        "maf_pay": maf.amount + again, "oth_pay": oth, "fund_pay_sumamt": fund, "psn_part_amt": psn, "acct_pay": acct,
        "psn_cash_pay": psn - acct - mulaid, "hosp_part_amt": hosp, "balc": c["acct_bal"] - used - acct,
        "acct_mulaid_pay": mulaid,
    }
    if detail:  # limits left before this claim (setldetail crt_payb_lmt_amt) and the stay number
        def rest(cap: str, tier: Paid):
            return _spread(len(total), tier.at, np.maximum(0, _param(P, cap, tier.at) - tier.prior))

        out.update({
            "_cap_left": rest("cap", hifp), "_ob_left": rest("ob_cap", hifob), "_cvl_left": rest("cvl_cap", cvl),
            "_mi_left": rest("mi_cap", hifmi), "_maf_left": rest("maf_limit", maf), "_es_left": rest("es_cap", hifes),
            "_stay_no": np.where(P["counts_stay"] == 1, n, 0),
        })
    return out


__all__ = ["Batch", "RealTime", "is_accumulator_key", "Running", "claim_sums", "line_scope", "settle_core", "PPM"]
