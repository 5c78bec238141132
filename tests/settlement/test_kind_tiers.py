"""A kind's basic pooling and each tier after it are worked out once per distinct value of the fields
each reads and shared between kinds: every kind resolves as it does on a plan that has seen no other
kind."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from yibao.policy import load_pack
from yibao.settlement.plan import Kind, Plan, plan_for

GRID = {
    "insutype": ("310", "390"), "med_type": ("2101", "11", "14"), "level": ("3", "1"), "identity": ("", "dibao", "tekun"),
    "filing": ("", "unfiled"), "civil_servant": (False, True), "supplementary": ("", "huiminbao", "huiminbao|mutual_aid"),
    "enterprise": (False, True),
}


def _kinds():
    for values in itertools.product(*GRID.values()):
        f = dict(zip(GRID, values))
        psn = "11" if f["insutype"] == "310" else "15"
        yield Kind(f["insutype"], f["med_type"], f["level"], psn, 66, f["identity"], 2, f["filing"],
                   "M03900" if f["med_type"] == "14" else "", f["civil_servant"], "", f["supplementary"], "", f["enterprise"])


@pytest.mark.parametrize("pack_name", ["demo", "shenyang"])
def test_shared_tiers_resolve_every_kind_as_alone(pack_name):
    pack = load_pack(pack_name)
    period = plan_for(pack, dt.date(2024, 6, 1)).date
    shared = Plan(pack.at(period))  # its own plan: the pack's cached one has seen other tests' kinds
    kinds = list(_kinds())
    together = [shared.resolve(k) for k in kinds]
    assert len(shared._tiers) < len(kinds) / 10  # shared, not one per kind
    for kind, res in zip(kinds, together):
        alone = Plan(pack.at(period))._resolve(kind)  # a fresh plan: no tier seen before
        assert list(res.values.items()) == list(alone.values.items()), kind
        assert res.cites == alone.cites, kind
    maf = {k.identity: r.values["maf_on"] for k, r in zip(kinds, together)}
    sup = {k.supplementary: r.values["sup1_on"] for k, r in zip(kinds, together) if k.insutype == "390"}
    assert maf == {"": 0, "dibao": 1, "tekun": 1} and sup["huiminbao"] == 1 and sup[""] == 0


POOLING_GRID = {
    "insutype": ("310", "390"), "med_type": ("2101", "11", "14", "52"), "level": ("3", "1"), "retired": (False, True),
    "age": (30, 66, 80), "tier": (1, 2), "filing": ("", "filed", "unfiled"), "inst_kind": ("", "pharmacy"),
    "identity": ("", "dibao"),
}


def _pooling_kinds():
    for values in itertools.product(*POOLING_GRID.values()):
        f = dict(zip(POOLING_GRID, values))
        psn = {("310", False): "11", ("310", True): "21", ("390", False): "15", ("390", True): "16"}[f["insutype"], f["retired"]]
        yield Kind(f["insutype"], f["med_type"], f["level"], psn, f["age"], f["identity"], f["tier"], f["filing"],
                   "M03900" if f["med_type"] == "14" else "", False, "", "", f["inst_kind"], False)


@pytest.mark.parametrize("pack_name", ["demo", "shenyang"])
def test_shared_pooling_resolves_every_kind_as_alone(pack_name):
    pack = load_pack(pack_name)
    period = plan_for(pack, dt.date(2024, 6, 1)).date
    shared = Plan(pack.at(period))
    kinds = list(_pooling_kinds())
    together = [shared.resolve(k) for k in kinds]
    assert len(shared._pools) == len(kinds) // 2  # the identity is read by the tiers, not by pooling
    for kind, res in zip(kinds, together):
        alone = Plan(pack.at(period))._resolve(kind)
        assert list(res.values.items()) == list(alone.values.items()), kind
        assert res.cites == alone.cites, kind


def test_a_kinds_parameter_row_is_kept_in_the_order_asked():
    """A year's batch tables each kind's parameters piece after piece: the row is made once per order."""
    import numpy as np

    from yibao.settlement.plan import Resolved

    kind = Resolved({"ded": 120_000, "cap": 3_000_000, "rate": 900_000})
    first = kind.row(("ded", "cap", "rate"))
    assert first.tolist() == [120_000, 3_000_000, 900_000] and first.dtype == np.int64
    assert kind.row(("ded", "cap", "rate")) is first  # kept
    assert kind.row(("rate", "ded")).tolist() == [900_000, 120_000]  # another order, made anew
