"""QUADAS-2 judgements: tallies per domain (optionally weighted by study size), the study x
domain layout of a traffic-light plot, the studies at low risk in a domain, and the pooled AUC
restricted to them beside the full pool.

Judgements are long, as :func:`synth.instruments.quadas2_judgements` makes them: ``study_id,
rater, kind, domain, judgement``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from synth.appraisal.scores import _norm, rater_rows
from synth.auc import pool_by_aim
from synth.errors import check_choice

__all__ = [
    "JUDGEMENTS",
    "RISK_OF_BIAS",
    "APPLICABILITY",
    "domain_codes",
    "risk_tallies",
    "traffic_light_table",
    "low_risk_studies",
    "low_risk_pooling",
]

JUDGEMENTS: tuple[str, ...] = ("low", "unclear", "high")
"""QUADAS-2 judgements in the order tables and figures show them (robvis: low, some concerns or
unclear, high)."""
RISK_OF_BIAS = "risk of bias"
APPLICABILITY = "applicability"
"""The two kinds of QUADAS-2 judgement (the ``kind`` column of judgements)."""
_KIND_CODES = {RISK_OF_BIAS: "D", APPLICABILITY: "A"}

# --- QUADAS-2 --------------------------------------------------------------------------------

def domain_codes(judgements: pd.DataFrame) -> pd.DataFrame:
    """Each (kind, domain) with its column code: D1.. for risk of bias, A1.. for applicability,
    ``Overall`` (and ``Overall A`` for applicability) for a domain named overall."""
    if "code" in judgements.columns:
        return judgements[["kind", "domain", "code"]].drop_duplicates(["kind", "domain"])
    rows, counts = [], {}
    for kind, domain in dict.fromkeys(zip(judgements["kind"], judgements["domain"],
                                          strict=True)):
        if str(domain).lower() == "overall":
            code = "Overall" if kind == RISK_OF_BIAS else "Overall A"
        else:
            counts[kind] = counts.get(kind, 0) + 1
            code = f"{_KIND_CODES.get(kind, str(kind)[:1].upper())}{counts[kind]}"
        rows.append({"kind": kind, "domain": domain, "code": code})
    return pd.DataFrame(rows, columns=["kind", "domain", "code"])


def _judged(judgements: pd.DataFrame, rater: str) -> pd.DataFrame:
    rows = rater_rows(judgements, rater=rater)
    rows["judgement"] = rows["judgement"].map(_norm)
    return rows.merge(domain_codes(judgements), on=["kind", "domain"], how="left")


def risk_tallies(judgements: pd.DataFrame, *, rater: str, weights: pd.Series | None = None
                 ) -> pd.DataFrame:
    """Low / unclear / high counts and shares per QUADAS-2 domain, for one rater.

    Parameters
    ----------
    judgements
        Long judgements, one row per study x rater x domain: ``study_id, rater, kind`` (
        :data:`RISK_OF_BIAS` or :data:`APPLICABILITY`), ``domain``, ``judgement`` (one of
        :data:`JUDGEMENTS`); an optional ``code`` (``D1``) else codes by order of appearance.
    rater
        Whose judgements (the consensus).
    weights
        A weight per ``study_id`` (e.g. its number of patients): the shares become weighted,
        Σ weight of studies judged so / Σ weight, as robvis's weighted summary plot. A study
        without a weight counts 0 and is counted in ``n_unweighted``.

    Returns
    -------
    pandas.DataFrame
        ``kind, domain, code, n_studies, n_low, n_unclear, n_high, share_low, share_unclear,
        share_high, weighted`` (shares in %, unweighted unless ``weights``), ``n_unweighted``;
        domains in the judgements' order.
    """
    rows = _judged(judgements, rater)
    if weights is not None:
        rows["_w"] = rows["study_id"].map(weights).astype(float)
    out = []
    for (kind, domain, code), sub in rows.groupby(["kind", "domain", "code"], sort=False):
        row: dict[str, Any] = {"kind": kind, "domain": domain, "code": code,
                               "n_studies": int(sub["study_id"].nunique())}
        for j in JUDGEMENTS:
            row[f"n_{j}"] = int((sub["judgement"] == j).sum())
        w = sub["_w"].fillna(0.0) if weights is not None else pd.Series(1.0, index=sub.index)
        total = float(w.sum())
        for j in JUDGEMENTS:
            row[f"share_{j}"] = (float(w[sub["judgement"] == j].sum()) / total * 100
                                 if total else np.nan)
        row["weighted"] = weights is not None
        row["n_unweighted"] = int(sub["_w"].isna().sum()) if weights is not None else 0
        out.append(row)
    return pd.DataFrame(out)


def traffic_light_table(judgements: pd.DataFrame, *, rater: str,
                        labels: pd.Series | None = None, note: str = "") -> pd.DataFrame:
    """One rater's judgements study x domain, as the traffic-light plot lays them out.

    ``note`` (e.g. how the overall judgement was made, the words of
    :data:`synth.instruments.QUADAS2_OVERALL_RULES`) is kept in ``attrs["note"]`` for the plot.

    Returns
    -------
    pandas.DataFrame
        ``study_id, label`` then one column per domain code (``D1`` .. ``D4``, ``Overall``,
        ``A1`` .. ``A3`` and so on, in the judgements' order) holding low / unclear / high (or
        empty); studies in the judgements' order. ``attrs["domains"]`` maps each code to
        ``(kind, domain)``.
    """
    rows = _judged(judgements, rater)
    codes = domain_codes(judgements)
    wide = rows.pivot_table(index="study_id", columns="code", values="judgement",
                            aggfunc="first", sort=False)
    order = list(dict.fromkeys(rows["study_id"]))
    wide = wide.reindex(index=order, columns=list(codes["code"])).reset_index()
    wide.columns.name = None
    wide.insert(1, "label", wide["study_id"].map(labels).fillna(wide["study_id"])
                if labels is not None else wide["study_id"].astype(str))
    wide.attrs["domains"] = {c: (k, d) for k, d, c in codes.itertuples(index=False)}
    wide.attrs["note"] = note
    return wide


def low_risk_studies(judgements: pd.DataFrame, *, domain: str, rater: str,
                     kind: str = RISK_OF_BIAS) -> list[str]:
    """The studies judged at low risk (or low concern) in one domain, in the judgements' order.

    Parameters
    ----------
    domain
        The domain's name or code (``patient selection``, ``D1``, ``overall``); an unknown
        domain raises :func:`synth.errors.check_choice`'s ValueError listing those present.
    kind
        :data:`RISK_OF_BIAS` (default) or :data:`APPLICABILITY`.
    """
    rows = _judged(judgements, rater)
    rows = rows[rows["kind"] == kind]
    names = list(dict.fromkeys(rows["domain"].astype(str))) + list(dict.fromkeys(rows["code"]))
    check_choice("domain", domain, names)
    chosen = rows[(rows["domain"].astype(str) == domain) | (rows["code"] == domain)]
    return list(dict.fromkeys(chosen.loc[chosen["judgement"] == "low", "study_id"]))


def low_risk_pooling(table: pd.DataFrame, judgements: pd.DataFrame, *, domain: str, rater: str,
                     aims: Sequence[str], kind: str = RISK_OF_BIAS, **pooling: Any
                     ) -> pd.DataFrame:
    """The pooled AUC of every aim, from all studies and from those at low risk in ``domain``.

    Parameters
    ----------
    table
        Output of :func:`synth.auc.study_variances`.
    judgements, domain, rater, kind
        As for :func:`low_risk_studies`.
    aims
        The aims pooled, in display order.
    **pooling
        Options of :func:`synth.auc.pool_by_aim` (method, knapp_hartung, alpha, ...).

    Returns
    -------
    pandas.DataFrame
        Two rows per aim, ``subset`` "all studies" then "low risk: <domain>": ``aim, subset,
        k, k_shown, auc_pooled, ci_low, ci_high, pi_low, pi_high, i2, tau2, note`` (the columns
        of :meth:`synth.auc.AimPooling.pooled_frame`); a subset too small to pool has NaN
        and a note.
    """
    low = set(low_risk_studies(judgements, domain=domain, rater=rater, kind=kind))
    restricted = table[table["study_id"].isin(low)]
    frames = []
    for subset, data in (("all studies", table), (f"low risk: {domain}", restricted)):
        for aim, p in pool_by_aim(data, aims=aims, **pooling).items():
            row = p.pooled_frame()
            row.insert(1, "subset", subset)
            row["aim"] = aim
            frames.append(row)
    cols = ["aim", "subset", "k", "k_shown", "auc_pooled", "ci_low", "ci_high", "pi_low",
            "pi_high", "i2", "tau2", "note"]
    out = pd.concat(frames, ignore_index=True)[cols]
    order = {a: i for i, a in enumerate(aims)}
    return out.sort_values("aim", key=lambda s: s.map(order), kind="stable").reset_index(
        drop=True)


