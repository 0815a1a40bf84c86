"""Generate ``data/demo``: a synthetic review calibrated to the seed review's published figures.

Every number this script writes is synthetic. It is calibrated to what the abstract of Staal et
al., Eur Radiol 2022 (doi:10.1007/s00330-022-08996-w) reports: 45 included studies from 1364
records after de-duplication; representative AUC per aim spanning grade 0.74-0.96, differential
diagnosis 0.80-0.99, one outcome (recurrence) study at 0.77; mean RQS 18 %. The endpoints of
each range are placed by construction on the representative row (external > internal > training
validation, radiomics model); the rest is drawn from a seeded generator.

Run: ``python scripts/make_demo.py [OUT_DIR]`` (default ``data/demo``). Same seed, same files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.stats import norm

SEED = 2022
N_STUDIES = 45
AIM_COUNTS = {"grade": 20, "differential diagnosis": 19, "response": 5, "outcome": 1}
AUC_SPANS = {"grade": (0.74, 0.96), "differential diagnosis": (0.80, 0.99),
             "response": (0.70, 0.88), "outcome": (0.77, 0.77)}
TARGET_RQS_PERCENT = 18  # mean RQS percentage (negative totals floored at 0 %), rounded
TARGETS = {
    "grade": ["G1 vs G2/3", "G1 vs G2/3", "G1/2 vs G3"],
    "differential diagnosis": ["pNET vs PDAC", "hypovascular pNET vs PDAC", "pNET vs SPN",
                               "gastric NEC vs adenocarcinoma", "NET liver metastasis vs other"],
    "response": ["response to PRRT", "response to everolimus", "response to somatostatin analogue"],
    "outcome": ["recurrence"],
}
def logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def expit(x: float) -> float:
    return float(1 / (1 + np.exp(-x)))


SOURCE = f"synthetic: scripts/make_demo.py (seed {SEED})"

# RQS consensus points drawn per component: {points: probability}; 11 and 12 follow the design.
RQS_DRAW = {
    1: {0: 0.2, 1: 0.6, 2: 0.2}, 2: {0: 0.6, 1: 0.4}, 3: {0: 0.98, 1: 0.02},
    4: {0: 0.95, 1: 0.05}, 5: {-3: 0.15, 3: 0.85}, 6: {0: 0.5, 1: 0.5}, 7: {0: 0.85, 1: 0.15},
    8: {0: 0.7, 1: 0.3}, 9: {0: 0.1, 1: 0.5, 2: 0.4}, 10: {0: 0.7, 1: 0.25, 2: 0.05},
    13: {0: 0.9, 2: 0.1}, 14: {0: 0.9, 2: 0.1}, 15: {0: 1.0}, 16: {0: 0.9, 1: 0.08, 2: 0.02},
}
RQS_ALLOWED = {1: (0, 1, 2), 2: (0, 1), 3: (0, 1), 4: (0, 1), 5: (-3, 3), 6: (0, 1), 7: (0, 1),
               8: (0, 1), 9: (0, 1, 2), 10: (0, 1, 2), 11: (0, 7), 12: (-5, 2, 3, 4, 5),
               13: (0, 2), 14: (0, 2), 15: (0, 1), 16: (0, 1, 2, 3, 4)}
RQS_MAX = 36


def _choice(rng: np.random.Generator, dist: dict) -> object:
    keys = list(dist)
    return keys[rng.choice(len(keys), p=list(dist.values()))]


def _studies(rng: np.random.Generator) -> pd.DataFrame:
    aims = [aim for aim, k in AIM_COUNTS.items() for _ in range(k)]
    rng.shuffle(aims)
    years = np.sort(rng.choice(np.arange(2012, 2022), size=N_STUDIES,
                               p=np.linspace(1, 4, 10) / np.linspace(1, 4, 10).sum()))
    rows = []
    for i, (aim, year) in enumerate(zip(aims, years, strict=True), start=1):
        site = _choice(rng, {"pancreas": 0.72, "liver": 0.08, "small intestine": 0.07,
                             "stomach": 0.05, "colorectum": 0.04, "mixed": 0.04})
        if aim == "outcome":
            site = "pancreas"
        modality = _choice(rng, {"CT": 0.6, "MRI": 0.25, "PET": 0.15})
        detail = {"CT": "contrast-enhanced CT, arterial and portal venous phase",
                  "MRI": "T2-weighted and diffusion-weighted MRI",
                  "PET": "68Ga-DOTATATE PET/CT"}[modality]
        validation = _choice(rng, {"none": 0.4, "internal": 0.4, "external": 0.2})
        if aim == "outcome":
            validation = "external"
        rows.append({
            "study_id": f"demo{i:02d}", "first_author": f"Demo S{i:02d}", "year": int(year),
            "title": f"Synthetic study {i:02d}", "journal": None, "doi": None, "pmid": None,
            "country": None,
            "design": _choice(rng, {"retrospective": 0.93, "prospective": 0.07}),
            "centres": "multi" if validation == "external" else
            _choice(rng, {"single": 0.85, "multi": 0.15}),
            "site": site, "modality": modality, "modality_detail": detail,
            "n_patients": int(rng.integers(35, 260)),
            "software": _choice(rng, {"PyRadiomics": 0.45, "LIFEx": 0.15, "MaZda": 0.1,
                                      "TexRAD": 0.1, "in-house": 0.2}),
            "validation": validation, "period": None, "source": SOURCE, "notes": None,
            "_aim": aim,
        })
    return pd.DataFrame(rows)


def _representative_aucs(rng: np.random.Generator, aim: str, k: int) -> list[float]:
    lo, hi = AUC_SPANS[aim]
    if k == 1:
        return [lo] if lo == hi else [round(float(rng.uniform(lo, hi)), 2)]
    inner = [round(float(rng.uniform(lo, hi)), 2) for _ in range(k - 2)]
    values = [lo, hi, *inner]
    rng.shuffle(values)
    return values


def _ci(rng: np.random.Generator, auc: float, pos: int, neg: int) -> tuple[float, float]:
    """A 95 % CI on the logit scale from the Hanley-McNeil variance (synthetic only)."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (pos - 1) * (q1 - auc**2) + (neg - 1) * (q2 - auc**2)) / (pos * neg)
    se = np.sqrt(var) / (auc * (1 - auc))
    low = round(float(expit(logit(auc) - 1.96 * se)), 2)
    high = round(float(expit(logit(auc) + 1.96 * se)), 2)
    return low, min(high, 0.999)


def _performance(rng: np.random.Generator, studies: pd.DataFrame) -> pd.DataFrame:
    reps: dict[str, list[float]] = {
        aim: _representative_aucs(rng, aim, k) for aim, k in AIM_COUNTS.items()}
    rows = []
    for s in studies.itertuples():
        aim = studies.at[s.Index, "_aim"]
        target = TARGETS[aim][int(rng.integers(len(TARGETS[aim])))]
        cohorts = ["training"]
        if s.validation in ("internal", "external"):
            cohorts.append("internal validation")
        if s.validation == "external":
            cohorts.append("external validation")
        models = ["radiomics"]
        if rng.random() < 0.35:
            models.append("combined")
        if rng.random() < 0.2:
            models.append("clinical")
        rep = reps[aim].pop()
        n_total = int(s.n_patients)
        n_ext = int(round(n_total * 0.3)) if "external validation" in cohorts else 0
        n_int = int(round((n_total - n_ext) * 0.3)) if "internal validation" in cohorts else 0
        sizes = {"training": n_total - n_ext - n_int, "internal validation": n_int,
                 "external validation": n_ext}
        share_pos = float(rng.uniform(0.3, 0.6))
        top = cohorts[-1]
        for cohort in cohorts:
            radiomics = rep if cohort == top else min(0.99, round(
                rep + float(rng.uniform(0.01, 0.06)) * (1 + cohorts.index(top) -
                                                        cohorts.index(cohort)) / 2, 2))
            for model in models:
                if model == "radiomics":
                    auc = radiomics
                elif model == "combined":
                    auc = min(0.99, round(radiomics + float(rng.uniform(0.0, 0.03)), 2))
                else:
                    auc = max(0.55, round(radiomics - float(rng.uniform(0.05, 0.15)), 2))
                n = sizes[cohort]
                pos = max(3, int(round(n * share_pos)))
                row = {"study_id": s.study_id, "aim": aim, "target": target, "model": model,
                       "model_name": None, "cohort": cohort, "auc": auc, "ci_low": None,
                       "ci_high": None, "auc_se": None, "n": n, "positives": None,
                       "negatives": None, "source": SOURCE, "notes": None}
                reporting = rng.random()
                if reporting < 0.45:
                    row["ci_low"], row["ci_high"] = _ci(rng, auc, pos, n - pos)
                if reporting < 0.25 or 0.6 < reporting < 0.8:
                    row["positives"], row["negatives"] = pos, n - pos
                if 0.9 < reporting:
                    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
                    var = (auc * (1 - auc) + (pos - 1) * (q1 - auc**2)
                           + (n - pos - 1) * (q2 - auc**2)) / (pos * (n - pos))
                    row["auc_se"] = round(float(np.sqrt(var)), 3)
                rows.append(row)
    return pd.DataFrame(rows)


DTA_SEED = SEED + 15  # a separate stream: adding 2x2 tables leaves every other draw unchanged
DTA_SHARE = 0.7  # share of radiomics rows that also report a 2x2 table
DTA_AIMS = ("grade", "differential diagnosis")


def _two_by_two(rng: np.random.Generator, performance: pd.DataFrame) -> pd.DataFrame:
    """Add 2x2 tables to radiomics rows, consistent with each row's AUC under a binormal model.

    With equal variances, AUC = Phi(d / sqrt(2)); the threshold is drawn around d / 2 (Youden's
    point), so sensitivity and specificity are plausible for the AUC. Most rows report the four
    cells; about one in four reports sensitivity and specificity (two decimals) with positives
    and negatives instead, from which synth reconstructs the cells.
    """
    out = performance.copy()
    for col in ("tp", "fp", "fn", "tn"):
        out[col] = pd.array([None] * len(out), dtype="Int64")
    out["sensitivity"] = np.nan
    out["specificity"] = np.nan
    out["threshold"] = None
    for i, row in out.iterrows():
        if row["model"] != "radiomics" or row["aim"] not in DTA_AIMS or rng.random() > DTA_SHARE:
            continue
        d = np.sqrt(2) * norm.ppf(row["auc"])
        cut = d / 2 + float(rng.normal(0, 0.35))
        sens, spec = 1 - norm.cdf(cut - d), norm.cdf(cut)
        n = int(row["n"])
        pos = int(row["positives"]) if pd.notna(row["positives"]) else max(
            3, int(round(n * float(rng.uniform(0.3, 0.6)))))
        neg = n - pos
        tp = int(rng.binomial(pos, sens))
        tn = int(rng.binomial(neg, spec))
        out.at[i, "threshold"] = "Youden" if rng.random() < 0.6 else "0.5"
        if pd.notna(row["positives"]) and rng.random() < 0.25:
            out.at[i, "sensitivity"] = round(tp / pos, 2)
            out.at[i, "specificity"] = round(tn / neg, 2)
            continue
        out.loc[i, ["tp", "fn", "fp", "tn"]] = [tp, pos - tp, neg - tn, tn]
    new = ["tp", "fp", "fn", "tn", "sensitivity", "specificity", "threshold"]
    cols = [c for c in performance.columns if c not in ("source", "notes")]
    return out[cols + new + ["source", "notes"]]


def _rqs_consensus(rng: np.random.Generator, studies: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for s in studies.itertuples():
        scores = {item: _choice(rng, dist) for item, dist in RQS_DRAW.items()}
        scores[11] = 7 if s.design == "prospective" and rng.random() < 0.5 else 0
        scores[12] = {"none": -5, "internal": 2}.get(s.validation, _choice(rng, {3: 0.8, 4: 0.2}))
        rows.append({"study_id": s.study_id, "rater": "consensus",
                     **{f"rqs_{k:02d}": int(scores[k]) for k in range(1, 17)}})
    return pd.DataFrame(rows)


def _mean_percent(consensus: pd.DataFrame) -> float:
    totals = consensus[[f"rqs_{k:02d}" for k in range(1, 17)]].sum(axis=1)
    return float((totals.clip(lower=0) / RQS_MAX * 100).mean())


def _rater(rng: np.random.Generator, consensus: pd.DataFrame, name: str) -> pd.DataFrame:
    """A rater who disagrees with the consensus on about one item in eight, by one step."""
    out = consensus.copy()
    out["rater"] = name
    for idx in out.index:
        for k in range(1, 17):
            col = f"rqs_{k:02d}"
            allowed = RQS_ALLOWED[k]
            if len(allowed) > 1 and rng.random() < 0.12:
                pos = allowed.index(int(out.at[idx, col]))
                step = -1 if pos == len(allowed) - 1 or (pos > 0 and rng.random() < 0.5) else 1
                out.at[idx, col] = allowed[pos + step]
    return out


def _quality(rng: np.random.Generator, studies: pd.DataFrame) -> pd.DataFrame:
    for _ in range(1000):  # redraw until the mean RQS percentage rounds to the seed's 18 %
        consensus = _rqs_consensus(rng, studies)
        if round(_mean_percent(consensus)) == TARGET_RQS_PERCENT:
            break
    else:
        raise RuntimeError("could not calibrate the mean RQS percentage")
    raters = [_rater(rng, consensus, "A"), _rater(rng, consensus, "B"), consensus]
    out = pd.concat(raters).sort_values(["study_id", "rater"], kind="stable")
    return out.reset_index(drop=True)


APPRAISAL_SEED = SEED + 16  # a separate stream: METRICS and QUADAS-2 leave every other draw as is
APPRAISAL_DISAGREE = 0.1  # share of a rater's answers that differ from the consensus
METRICS_CONDITIONS = ("segmentation", "fully_automated_segmentation", "handcrafted_features",
                      "tabular_data", "end_to_end_deep_learning")
METRICS_OFF = {"segmentation": (8, 9, 10), "fully_automated_segmentation": (9,),
               "handcrafted_features": (12,), "tabular_data": (14, 15, 16),
               "end_to_end_deep_learning": (17,)}
"""Items each METRICS condition switches off when it is "no" (metrics.md)."""
METRICS_YES = {1: 0.3, 2: 0.8, 3: 0.85, 5: 0.9, 6: 0.75, 7: 0.4, 8: 0.8, 9: 0.5, 10: 0.4,
               11: 0.6, 12: 0.85, 13: 0.5, 14: 0.35, 15: 0.6, 16: 0.55, 17: 0.3, 19: 0.25,
               20: 0.9, 21: 0.45, 22: 0.2, 23: 0.3, 24: 0.45, 25: 0.3, 28: 0.1, 29: 0.1,
               30: 0.05}
"""Chance of "yes" per METRICS item; 4, 18, 26 and 27 follow each study's centres and validation."""
QUADAS2_DRAW = {
    "rob_patient_selection": {"low": 0.45, "unclear": 0.25, "high": 0.3},
    "rob_index_test": {"low": 0.55, "unclear": 0.3, "high": 0.15},
    "rob_reference_standard": {"low": 0.7, "unclear": 0.25, "high": 0.05},
    "rob_flow_timing": {"low": 0.6, "unclear": 0.3, "high": 0.1},
    "applicability_patient_selection": {"low": 0.65, "unclear": 0.15, "high": 0.2},
    "applicability_index_test": {"low": 0.75, "unclear": 0.15, "high": 0.1},
    "applicability_reference_standard": {"low": 0.85, "unclear": 0.1, "high": 0.05},
}
"""Consensus QUADAS-2 judgements per column: mostly low or unclear, some high."""


def _metrics_consensus(rng: np.random.Generator, studies: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for s in studies.itertuples():
        deep = rng.random() < 0.1
        cond = {"segmentation": "no" if deep and rng.random() < 0.5 else "yes",
                "handcrafted_features": "no" if deep and rng.random() < 0.5 else "yes"}
        cond["fully_automated_segmentation"] = ("yes" if cond["segmentation"] == "yes"
                                                and rng.random() < 0.15 else "no")
        cond["tabular_data"] = cond["handcrafted_features"]
        cond["end_to_end_deep_learning"] = "yes" if deep else "no"
        off = {k for c, items in METRICS_OFF.items() if cond[c] == "no" for k in items}
        fixed = {4: s.centres == "multi", 18: s.validation != "none",
                 26: s.validation != "none", 27: s.validation == "external"}
        answers = {}
        for k in range(1, 31):
            yes = fixed[k] if k in fixed else rng.random() < METRICS_YES[k]
            answers[f"metrics_{k:02d}"] = "n/a" if k in off else ("yes" if yes else "no")
        rows.append({"study_id": s.study_id, "rater": "consensus",
                     **{c: cond[c] for c in METRICS_CONDITIONS}, **answers, "notes": None})
    return pd.DataFrame(rows)


def _quadas2_consensus(rng: np.random.Generator, studies: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for s in studies.itertuples():
        judged = {col: _choice(rng, dist) for col, dist in QUADAS2_DRAW.items()}
        if s.design == "prospective":
            judged["rob_patient_selection"] = "low"
        rows.append({"study_id": s.study_id, "rater": "consensus", **judged, "notes": None})
    return pd.DataFrame(rows)


def _appraisal_rater(rng: np.random.Generator, consensus: pd.DataFrame, name: str,
                     columns: list[str], levels: tuple[str, ...]) -> pd.DataFrame:
    """A rater who differs from the consensus on about one answer in ten (n/a stays n/a)."""
    out = consensus.copy()
    out["rater"] = name
    for idx in out.index:
        for col in columns:
            value = out.at[idx, col]
            if value in levels and rng.random() < APPRAISAL_DISAGREE:
                out.at[idx, col] = rng.choice([v for v in levels if v != value])
    return out


def _appraisals(rng: np.random.Generator, studies: pd.DataFrame
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """METRICS and QUADAS-2 tables: raters A and B, and the consensus, per study."""
    tables = []
    for consensus, columns, levels in (
            (_metrics_consensus(rng, studies), [f"metrics_{k:02d}" for k in range(1, 31)],
             ("yes", "no")),
            (_quadas2_consensus(rng, studies), list(QUADAS2_DRAW), ("low", "unclear", "high"))):
        raters = [_appraisal_rater(rng, consensus, r, columns, levels) for r in ("A", "B")]
        out = pd.concat([*raters, consensus]).sort_values(["study_id", "rater"], kind="stable")
        tables.append(out.reset_index(drop=True))
    return tables[0], tables[1]


PRISMA = {
    "databases": {"PubMed": 812, "Embase": 1021, "Wiley/Cochrane Library": 174},
    "registers": {},
    "removed_before_screening": {"duplicates": 643, "automation": 0, "other": 0},
    "screened": 1364,
    "excluded_screening": 1228,
    "sought": 136,
    "not_retrieved": 3,
    "assessed": 133,
    "excluded_reasons": {
        "No radiomics or texture analysis": 31,
        "Not GEP-NET, or NET results not separable": 24,
        "Conference abstract only": 19,
        "No aim of interest (grade, diagnosis, response, outcome)": 12,
        "Review, editorial or case report": 7,
    },
    "other_methods": {
        "sources": {"Citation searching (forward and backward)": 9},
        "sought": 9,
        "not_retrieved": 0,
        "assessed": 9,
        "excluded_reasons": {"No radiomics or texture analysis": 2, "Not GEP-NET": 2},
    },
    "studies_included": 45,
    "reports_included": 45,
    "source": SOURCE,
}

README = f"""# data/demo — SYNTHETIC demonstration review

**Every number in this folder is synthetic.** Nothing here is a study's real result.

Generated by `scripts/make_demo.py` (seed {SEED}); re-running it rewrites these files byte for
byte, and a test checks that. It imitates the shape of the GEP-NET radiomics review by Staal et
al., Eur Radiol 2022 (doi:10.1007/s00330-022-08996-w), calibrated to what that review's abstract
reports, so that the pipeline can be shown to reproduce the published summary numbers:

- 45 studies; 1364 records after de-duplication (PRISMA counts add up);
- representative AUC per study (external > internal > training validation; radiomics model):
  grade 0.74–0.96, differential diagnosis 0.80–0.99, one outcome (recurrence) study at 0.77,
  and a few response studies (the published abstract gives no response range);
- 2x2 tables (seed {DTA_SEED}, a separate stream, so the AUCs above are unchanged) on about
  70 % of the radiomics rows of the grade and differential-diagnosis studies, consistent with
  each row's AUC (binormal model, threshold near Youden's point); about a quarter of them
  report sensitivity and specificity with positives and negatives instead of the cells;
- RQS: three rows per study (raters A and B, and the consensus), components from their allowed
  sets; the consensus mean percentage (negative totals floored at 0 %) rounds to 18 %.
- METRICS (`metrics.csv`) and QUADAS-2 (`quadas2.csv`; seed {APPRAISAL_SEED}, a separate
  stream): raters A and B and the consensus per study; METRICS conditions and answers drawn so
  that the mean score is moderate, items a condition switches off are `n/a`; QUADAS-2 risk of
  bias and applicability mostly low or unclear, some high; each rater differs from the
  consensus on about one answer in ten.

Study ids `demo01`..`demo45`, authors `Demo S01`.. and titles `Synthetic study NN` are
placeholders. `review.yaml` carries `synthetic: true`; figures made from this folder say
"Synthetic demonstration data".
"""


VOCABULARY = {
    "aims": ["grade", "differential diagnosis", "response", "outcome"],
    "sites": ["pancreas", "stomach", "duodenum", "small intestine", "appendix", "colorectum",
              "liver", "mixed"],
    "modalities": ["CT", "MRI", "PET", "multiple"],
    "models": ["radiomics", "deep learning", "combined", "clinical", "single feature"],
    "raters": ["A", "B", "consensus"],
    "consensus": "consensus",
    "ci_level": 0.95,
}
"""The demo's review.yaml vocabularies: the seed review's aims (in its order), sites and raters."""


def main(out_dir: str | Path = "data/demo") -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    studies = _studies(rng)
    performance = _performance(rng, studies)
    quality = _quality(rng, studies)
    performance = _two_by_two(np.random.default_rng(DTA_SEED), performance)
    metrics, quadas2 = _appraisals(np.random.default_rng(APPRAISAL_SEED), studies)
    studies = studies.drop(columns="_aim")
    for col in ("pmid", "n_patients"):
        studies[col] = studies[col].astype("Int64")
    for col in ("n", "positives", "negatives"):
        performance[col] = performance[col].astype("Int64")
    studies.to_csv(out / "studies.csv", index=False, lineterminator="\n")
    performance.to_csv(out / "performance.csv", index=False, lineterminator="\n")
    quality.to_csv(out / "quality.csv", index=False, lineterminator="\n")
    metrics.to_csv(out / "metrics.csv", index=False, lineterminator="\n")
    quadas2.to_csv(out / "quadas2.csv", index=False, lineterminator="\n")
    (out / "prisma.yaml").write_text(
        "# SYNTHETIC demonstration counts, made by scripts/make_demo.py\n"
        + yaml.safe_dump(PRISMA, sort_keys=False, allow_unicode=True), encoding="utf-8")
    (out / "review.yaml").write_text(yaml.safe_dump({
        "title": "Demonstration review: synthetic GEP-NET radiomics data",
        "synthetic": True,
        "description": "Synthetic data calibrated to the published summary of Staal et al., "
                       "Eur Radiol 2022; made by scripts/make_demo.py. Not real evidence.",
        **VOCABULARY,
    }, sort_keys=False, default_flow_style=None, width=96), encoding="utf-8")
    (out / "README.md").write_text(README, encoding="utf-8")
    return out


if __name__ == "__main__":
    print(f"wrote {main(*sys.argv[1:2])}")
