"""The multivariate detector: each entity's features standardised against its peer group, scored,
explained feature by feature, and ranked.

The z of a feature is a funnel-plot z: ``(x − median) / sqrt(τ² + var / n)``, the peers' median and
robust spread between entities (``τ``, from the MAD, less the spread chance alone would give) plus the
chance spread of an entity of ``n`` cases (``var`` is one case's variance, from the features). So
five stays with two readmissions do not outrank a hospital with a thousand. ``τ`` is at least the
feature's floor, so near-equal peers do not turn noise into large z. A peer group (institution kind
and level, and for a department or doctor its department) with fewer than ``min_peers`` entities
having the feature is widened step by step (``hospital/3/内科`` → ``hospital/3`` → ``hospital``) to
the whole level — except for the features that differ by level by nature (cost ratios,
CMI), which are left unjudged (z 0) without enough peers at the level.

Only the suspicious side counts (a cost, a share or a drift above the peers'): each feature's
one-sided z is ``max(z, 0)``. Two scores over those z:

- ``robust`` (default): the length of the one-sided z vector, a robust Mahalanobis distance with a
  diagonal covariance. Each feature's share of the score is ``z² / Σ z²`` — exact.
- ``isolation``: scikit-learn's IsolationForest over the same z (seeded, so the same input and seed
  give the same ranking); the explanation is the same z shares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from yibao.errors import ValidationError
from yibao.supervision.anomaly.features import FEATURES, SCORED

METHODS = ("robust", "isolation")
MAD_TO_SD = 1.4826  # MAD of a normal sample × this = its standard deviation


@dataclass(frozen=True)
class DetectorParams:
    """The detector's settings (assumptions of this model, not policy): ``extreme_z`` marks an entity
    whose worst feature lies that many robust standard deviations above its peers."""

    method: str = "robust"
    min_peers: int = 4
    extreme_z: float = 3.5
    reason_z: float = 2.0
    reasons: int = 3
    seed: int = 0
    features: tuple[str, ...] = SCORED

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValidationError("--method", f"{self.method!r} is not one of {', '.join(METHODS)}")
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown:
            raise ValidationError("features", f"unknown feature {unknown[0]!r} (known: {', '.join(FEATURES)})")


def _peer_groups(peers: pd.Series, level_bound: bool) -> list[pd.Series]:
    """The peer group, then each wider one (``hospital/3/内科`` → ``hospital/3`` → ``hospital`` →
    everyone); only the peer group for a feature that differs by level and specialty by nature."""
    parts = peers.str.split("/")
    depth = int(parts.str.len().max())
    wider = [parts.str[:k].str.join("/") for k in range(depth, -1, -1)]
    return wider[:1] if level_bound else wider


def _peer_stats(values: pd.Series, noise: pd.Series, peers: pd.Series, min_peers: int, level_bound: bool = False
                ) -> tuple[pd.Series, pd.Series]:
    """Each entity's peer median and between-entity variance (robust, chance spread taken out), from
    the narrowest grouping that has ``min_peers`` entities with the feature."""
    median = pd.Series(np.nan, index=values.index)
    between = pd.Series(np.nan, index=values.index)
    for group in _peer_groups(peers, level_bound):
        g = values.groupby(group)
        enough = (g.transform("count") >= min_peers) & median.isna()
        med = g.transform("median")
        mad = (values - med).abs().groupby(group).transform("median")
        chance = noise.where(values.notna()).groupby(group).transform("median")
        median = median.where(~enough, med)
        between = between.where(~enough, ((MAD_TO_SD * mad) ** 2 - chance).clip(lower=0.0))
    return median, between


def standardise(features: pd.DataFrame, params: DetectorParams = DetectorParams()) -> pd.DataFrame:
    """Per feature: the value ``<f>``, its peer median ``med_<f>`` and one-sided z ``z_<f>`` (0 where
    the entity lacks the feature or has too few peers)."""
    peers = features["peer"].astype(str)
    out = pd.DataFrame(index=features.index)
    for name in params.features:
        value = features[name].astype("float64")
        n = features[f"n_{name}"].astype("float64").clip(lower=1.0)
        noise = features[f"var_{name}"].astype("float64").fillna(0.0) / n
        median, between = _peer_stats(value, noise, peers, params.min_peers, FEATURES[name].level_bound)
        scale = np.sqrt(np.maximum(between.fillna(0.0), FEATURES[name].floor ** 2) + noise)
        out[name] = value
        out[f"med_{name}"] = median
        out[f"z_{name}"] = ((value - median) / scale).clip(lower=0.0).fillna(0.0)
    return out


def _scores(z: np.ndarray, params: DetectorParams) -> np.ndarray:
    if params.method == "robust" or len(z) < 2:
        return np.sqrt((z ** 2).sum(axis=1))
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(n_estimators=200, random_state=params.seed).fit(z)
    return -forest.score_samples(z)


def top_items(features: pd.DataFrame) -> pd.Series:
    """The item each entity's ``item_excess`` is taken at, as ``code name`` (the code alone when the
    lines carried no name; empty when there is none)."""
    none = pd.Series("", index=features.index, dtype=object)
    code, name = (features[c].astype(object).where(features[c].notna(), "").astype(str) if c in features else none
                  for c in ("top_item", "top_item_name"))
    return (code + " " + name).str.strip().where(code.ne(""), "")


def _reasons(std: pd.DataFrame, shares: pd.DataFrame, params: DetectorParams, items: pd.Series) -> pd.Series:
    """The top features by share (z at least ``reason_z``), each as Chinese text, joined by ``；``;
    ``items``: the item of each entity's ``item_excess`` (:func:`top_items`)."""
    names = list(params.features)
    z = std[[f"z_{f}" for f in names]].to_numpy()
    order = np.argsort(-shares.to_numpy(), axis=1, kind="stable")[:, :params.reasons]
    texts = []
    for row, picks in enumerate(order):  # one entity a row (tens to thousands), not one claim
        parts = [FEATURES[names[j]].describe(std[names[j]].iat[row], std[f"med_{names[j]}"].iat[row], z[row, j],
                                             items.iat[row])
                 for j in picks if z[row, j] >= params.reason_z]
        texts.append("；".join(parts))
    return pd.Series(texts, index=std.index)


def rank_entities(features: pd.DataFrame, params: DetectorParams = DetectorParams()) -> pd.DataFrame:
    """The entities ranked by anomaly score: ``rank, entity, fixmedins_code, peer, cases, score,
    extreme, top_feature, reasons`` and per feature its value, peer median, ``z_`` and ``share_``."""
    if features.empty:
        raise ValidationError("claims", "no entity to rank (no claims treated in the region)")
    std = standardise(features, params)
    names = list(params.features)
    z = std[[f"z_{f}" for f in names]].to_numpy()
    squares = z ** 2
    total = squares.sum(axis=1, keepdims=True)
    shares = pd.DataFrame(np.divide(squares, total, out=np.zeros_like(squares), where=total > 0),
                          index=std.index, columns=names)
    out = features[["fixmedins_code", "peer", "cases"]].copy()
    out["score"] = _scores(z, params)
    out["extreme"] = z.max(axis=1) >= params.extreme_z
    out["top_feature"] = np.where(total[:, 0] > 0, np.array(names, dtype=object)[shares.to_numpy().argmax(axis=1)], "")
    out["reasons"] = _reasons(std, shares, params, top_items(features))
    for f in names:
        out[f], out[f"med_{f}"], out[f"z_{f}"], out[f"share_{f}"] = std[f], std[f"med_{f}"], std[f"z_{f}"], shares[f]
    out = out.reset_index().sort_values(["score", "entity"], ascending=[False, True], kind="stable")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)


__all__ = ["DetectorParams", "METHODS", "rank_entities", "standardise", "top_items"]
