"""The review's tables: one vocabulary of columns, their pandera schemas and the data dictionary.

Each table is declared once as a tuple of :class:`Field`; the pandera schema that validates it and
the data dictionary in ``data/README.md`` are both built from that declaration, so the two cannot
drift apart.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

import pandera.pandas as pa

from synth.instruments import (
    APPRAISAL_FILES,
    CLEAR,
    METRICS,
    METRICS_BANDS,
    METRICS_CONDITIONS,
    QUADAS2,
    QUADAS2_JUDGEMENTS,
    QUADAS2_OVERALL_RULES,
    RQS,
    RQS2,
    RQS2_LEVELS,
    RQS2_METHODS,
)
from synth.instruments.metrics import NA, YES_NO
from synth.instruments.quadas2 import SIGNALLING_ANSWERS
from synth.vocabulary import COHORTS, DEFAULT_VOCABULARY, LIST_KEYS, MAX_AIMS, Vocabulary

__all__ = [
    "COHORTS",
    "DESIGNS",
    "CENTRES",
    "VALIDATIONS",
    "Field",
    "Table",
    "TABLES",
    "APPRAISAL_TABLES",
    "STUDIES",
    "PERFORMANCE",
    "QUALITY",
    "pandera_schema",
    "data_dictionary",
]

DESIGNS: tuple[str, ...] = ("retrospective", "prospective")
CENTRES: tuple[str, ...] = ("single", "multi")
VALIDATIONS: tuple[str, ...] = ("none", "internal", "external")

FIRST_YEAR = 1990
"""Earliest plausible publication year of a radiomics or texture-analysis study."""


@dataclass(frozen=True)
class Field:
    """One column of a review table: its type, whether it must be present, and what it allows."""

    name: str
    dtype: str
    description: str
    required: bool = False
    nullable: bool = True
    allowed: tuple | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    help: str | None = None
    vocabulary: str | None = None
    """The review.yaml list (:data:`synth.vocabulary.LIST_KEYS`) this column's values come
    from; :meth:`Table.bind` fills ``allowed`` from a review's :class:`Vocabulary`."""
    open_range: bool = False
    """``min`` and ``max`` themselves are not allowed (a confidence level lies in (0, 1))."""

    def allowed_text(self) -> str:
        """What this column accepts, in words, for error messages and the data dictionary."""
        if self.help:
            return self.help
        if self.vocabulary is not None and self.allowed is None:
            return (f"one of the review's {self.vocabulary} (review.yaml `{self.vocabulary}`; "
                    "defaults below)")
        if self.allowed is not None:
            return "one of: " + ", ".join(str(a) for a in self.allowed)
        kind = {"int": "a whole number", "float": "a number", "str": "text"}[self.dtype]
        if self.min is not None and self.max is not None:
            return f"{kind} from {_num(self.min)} to {_num(self.max)}"
        if self.min is not None:
            return f"{kind} ≥ {_num(self.min)}"
        if self.max is not None:
            return f"{kind} ≤ {_num(self.max)}"
        return kind


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


@dataclass(frozen=True)
class RowCheck:
    """A rule across columns of one row; reported at ``column`` when it fails."""

    name: str
    column: str
    columns: tuple[str, ...]
    allowed: str


@dataclass(frozen=True)
class Table:
    """A review table: file stem, its fields and its cross-column rules."""

    name: str
    description: str
    fields: tuple[Field, ...]
    row_checks: tuple[RowCheck, ...] = ()
    optional: bool = False

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def bind(self, vocabulary: Vocabulary) -> Table:
        """This table with each vocabulary-bound column allowing the review's own list.

        The message of a value outside the list names where the list comes from:
        ``one of: CT, MRI (review.yaml: modalities)``, or the default list and how to declare
        another.
        """
        fields = tuple(
            replace(f, allowed=vocabulary.values(f.vocabulary),
                    help="one of: " + ", ".join(vocabulary.values(f.vocabulary))
                    + f" ({vocabulary.source(f.vocabulary)})")
            if f.vocabulary is not None else f
            for f in self.fields)
        return replace(self, fields=fields)


_MAX_YEAR = _dt.date.today().year + 1
_SOURCE = "Where this row's facts were read: URL or citation, plus table/section."

STUDIES = Table(
    name="studies",
    description="One row per included study.",
    fields=(
        Field(
            "study_id",
            "str",
            "Unique key, first author + year, e.g. `gu2019`.",
            required=True,
            nullable=False,
            pattern=r"^[a-z][a-z0-9_]*$",
            help="lower-case letters, digits and _, starting with a letter (e.g. gu2019)",
        ),
        Field("first_author", "str", "First author, e.g. `Gu D`.", required=True, nullable=False),
        Field(
            "year",
            "int",
            "Publication year.",
            required=True,
            nullable=False,
            min=FIRST_YEAR,
            max=_MAX_YEAR,
            help=f"a year from {FIRST_YEAR} to next year",
        ),
        Field("title", "str", "Article title."),
        Field("journal", "str", "Journal."),
        Field(
            "doi",
            "str",
            "DOI without URL prefix.",
            pattern=r"^10\.\d{4,9}/\S+$",
            help="a DOI such as 10.1007/s00330-022-08996-w (no https://doi.org/)",
        ),
        Field(
            "pmid",
            "str",
            "PubMed identifier, kept as text as typed.",
            pattern=r"^[1-9]\d{0,9}$",
            help="a PubMed identifier: 1 to 10 digits, such as 35211726",
        ),
        Field("country", "str", "Country of the (first) centre."),
        Field("design", "str", "Study design.", allowed=DESIGNS),
        Field("centres", "str", "Single- or multi-centre data.", allowed=CENTRES),
        Field("site", "str", "Primary tumour site.", required=True, nullable=False,
              vocabulary="sites"),
        Field(
            "modality",
            "str",
            "Imaging modality of the radiomics analysis.",
            required=True,
            nullable=False,
            vocabulary="modalities",
        ),
        Field("modality_detail", "str", "Tracer, sequence or contrast phase, free text."),
        Field("n_patients", "int", "Number of patients analysed.", min=1),
        Field("software", "str", "Feature-extraction software."),
        Field("validation", "str", "Strongest validation the study reports.", allowed=VALIDATIONS),
        Field("period", "str", "Free-text period label, e.g. the review window or an update."),
        Field("source", "str", _SOURCE, required=True, nullable=False),
        Field("notes", "str", "Free-text remarks."),
    ),
)

PERFORMANCE = Table(
    name="performance",
    description="One row per reported model performance (AUC) of a study.",
    fields=(
        Field("study_id", "str", "Study (key in studies.csv).", required=True, nullable=False),
        Field("aim", "str", "Clinical aim (its name; review.yaml gives its label).",
              required=True, nullable=False, vocabulary="aims"),
        Field(
            "target",
            "str",
            "What is predicted, e.g. `G1 vs G2/3`, `pNET vs PDAC`, `recurrence`.",
            required=True,
            nullable=False,
        ),
        Field("model", "str", "Kind of model.", required=True, nullable=False,
              vocabulary="models"),
        Field("model_name", "str", "The model's label in the paper."),
        Field(
            "primary",
            "str",
            "`yes` on the rows of the model the study names as its main result (empty where "
            "the source does not say); the representative-row rule prefers them.",
            allowed=("yes", "no"),
        ),
        Field(
            "cohort",
            "str",
            "Cohort the AUC was measured in.",
            required=True,
            nullable=False,
            allowed=COHORTS,
        ),
        Field("auc", "float", "Area under the ROC curve (empty on a row that reports only a "
              "2×2 table or sensitivity and specificity).", required=True, min=0, max=1),
        Field("ci_low", "float", "Lower bound of the reported CI of the AUC (at `ci_level`).",
              min=0, max=1),
        Field("ci_high", "float", "Upper bound of the reported CI of the AUC.", min=0, max=1),
        Field("ci_level", "float", "Confidence level of this row's CI when it is not the "
              "review's (review.yaml `ci_level`, default 0.95); empty cells get the review's.",
              min=0, max=1, open_range=True,
              help="a number between 0 and 1, e.g. 0.90 (not 90)"),
        Field("auc_se", "float", "Reported standard error of the AUC.", min=0, max=1),
        Field("n", "int", "Patients (or lesions) in this cohort.", min=1),
        Field("positives", "int", "Cases of the positive class in this cohort.", min=0),
        Field("negatives", "int", "Cases of the negative class in this cohort.", min=0),
        Field("tp", "int", "True positives of the 2×2 table at the reported threshold.", min=0),
        Field("fp", "int", "False positives.", min=0),
        Field("fn", "int", "False negatives.", min=0),
        Field("tn", "int", "True negatives.", min=0),
        Field("sensitivity", "float", "Reported sensitivity (0–1); with `positives` (or `n` and "
              "`prevalence`) the 2×2 table is reconstructed from it.", min=0, max=1),
        Field("specificity", "float", "Reported specificity (0–1); with `negatives` (or `n` and "
              "`prevalence`).", min=0, max=1),
        Field("prevalence", "float", "Share of positives in this cohort (0–1), when only `n` "
              "is given.", min=0, max=1),
        Field("threshold", "str", "Operating point of the 2×2 table, free text (e.g. "
              "`Youden`, `0.42`, `score ≥ 3`)."),
        Field("source", "str", _SOURCE),
        Field("notes", "str", "Free-text remarks."),
    ),
    row_checks=(
        RowCheck("ci_low_le_auc", "ci_low", ("ci_low", "auc"), "ci_low ≤ auc"),
        RowCheck("auc_le_ci_high", "ci_high", ("auc", "ci_high"), "auc ≤ ci_high"),
        RowCheck(
            "ci_both_or_neither", "ci_high", ("ci_low", "ci_high"),
            "ci_low and ci_high given together",
        ),
        RowCheck(
            "classes_sum_to_n",
            "n",
            ("n", "positives", "negatives"),
            "positives + negatives = n",
        ),
        RowCheck("positives_le_n", "positives", ("n", "positives"),
                 "positives ≤ n"),
        RowCheck("negatives_le_n", "negatives", ("n", "negatives"),
                 "negatives ≤ n"),
        RowCheck(
            "auc_or_2x2", "auc", ("auc",),
            "an AUC or a 2×2 table (tp, fp, fn, tn), or sensitivity and specificity with "
            "positives and negatives (or n with positives or prevalence)",
        ),
        RowCheck(
            "cells_together", "tn", ("tp", "fp", "fn", "tn"),
            "tp, fp, fn and tn given together",
        ),
        RowCheck(
            "cells_match_classes", "tp", ("tp", "fp", "fn", "tn", "positives", "negatives"),
            "tp + fn = positives and fp + tn = negatives",
        ),
    ),
)

QUALITY = Table(
    name="quality",
    description=f"One row per study x rater: the {len(RQS.items)} {RQS.name} component scores.",
    fields=(
        Field("study_id", "str", "Study (key in studies.csv).", required=True, nullable=False),
        Field("rater", "str", "Who scored: a reviewer or the consensus.", required=True,
              nullable=False, vocabulary="raters"),
        *(
            Field(
                item.column,
                "int",
                f"{RQS.name} {item.number}: {item.name}.",
                required=True,
                nullable=False,
                allowed=item.allowed,
            )
            for item in RQS.items
        ),
        Field("notes", "str", "Free-text remarks."),
    ),
    optional=True,
)

TABLES: tuple[Table, ...] = (STUDIES, PERFORMANCE, QUALITY)


def _key_fields(what: str) -> tuple[Field, Field]:
    return (Field("study_id", "str", "Study (key in studies.csv).", required=True,
                  nullable=False),
            Field("rater", "str", f"Who {what}: a reviewer or the consensus.", required=True,
                  nullable=False, vocabulary="raters"))


def _notes() -> Field:
    return Field("notes", "str", "Free-text remarks.")


def _appraisal_tables() -> tuple[Table, ...]:
    """The instrument files of :mod:`synth.instruments` (METRICS, RQS 2.0, QUADAS-2, CLEAR)
    as tables: their columns and allowed answers, read from the declarations."""
    answers = (*YES_NO, NA)
    levels = "; ".join(f"{n} {name}" for n, name in RQS2_LEVELS.items())
    metrics = (
        *(Field(c.column, "str", c.question + (f" (asked when {c.requires} is yes)"
                                               if c.requires else ""),
                required=c.requires is None, nullable=c.requires is not None, allowed=YES_NO)
          for c in METRICS_CONDITIONS),
        *(Field(i.column, "str", f"METRICS {i.number} ({i.category}, weight {i.weight:g}): "
                f"{i.name}; n/a or empty when a condition switches it off.", allowed=answers)
          for i in METRICS.items))
    rqs2 = (
        Field("readiness_level", "int", f"Radiomics readiness level: {levels}.",
              required=True, nullable=False, allowed=tuple(RQS2_LEVELS)),
        Field("method", "str", "Method: hand-crafted-only items are empty under deep learning.",
              required=True, nullable=False, allowed=RQS2_METHODS),
        *(Field(i.column, "int", f"RQS 2.0 {i.number} (level {i.level}"
                + (", hand-crafted only" if i.handcrafted_only else "") + f"): {i.name}; "
                "empty above the study's readiness level.", allowed=i.points)
          for i in RQS2.items))
    quadas2 = (
        *(Field(c, "str", ("Risk of bias" if c.startswith("rob_") else "Concern about "
                           "applicability") + ": " + c.split("_", 1)[1].replace("_", " ") + ".",
                required=True, nullable=False, allowed=QUADAS2_JUDGEMENTS)
          for c in QUADAS2.judgement_columns),
        *(Field(q.column, "str", f"Signalling question (optional): {q.question}",
                allowed=SIGNALLING_ANSWERS) for q in QUADAS2.signalling))
    clear = tuple(Field(i.column, "str", f"CLEAR {i.number} ({i.category}): {i.name}.",
                        allowed=answers) for i in CLEAR.items)
    switches = "; ".join(
        f"{c.column} no → items {', '.join(map(str, c.switches_off))}"
        for c in METRICS_CONDITIONS)
    rules = {
        METRICS.name: f"A condition answered no switches items off ({switches}); an item switched "
                 "off is n/a or empty, every other item yes or no. Score = Σ weight(yes) / "
                 "Σ weight(yes or no) × 100, rounded to one decimal as the official calculator "
                 "rounds; bands " + ", ".join(f"{name} from {low:g}"
                                              for name, low, _ in METRICS_BANDS) + ".",
        RQS2.name: "Score every item up to the study's readiness level; items above it, and the "
              "hand-crafted-only items under deep learning, stay empty. Percent = total / "
              "the maximum at the study's level and method.",
        QUADAS2.name: "The overall judgement per kind is derived, not entered: "
                 + QUADAS2_OVERALL_RULES["worst"] + ".",
        CLEAR.name: "Compliance = yes / (yes + no); CLEAR-S is the subset of items "
               + _number_ranges(i.number for i in CLEAR.items if i.clear_s) + ".",
    }
    return tuple(
        Table(name=inst.stem, description=f"One row per study x rater: {inst.name} "
              f"({inst.citation}). {rules[inst.name]} Provenance: {inst.provenance}.",
              fields=(*_key_fields("appraised"), *fields, _notes()), optional=True)
        for inst, fields in ((METRICS, metrics), (RQS2, rqs2), (QUADAS2, quadas2),
                             (CLEAR, clear)))


def _number_ranges(numbers: Iterable[int]) -> str:
    """``7–43, 53–58`` for a run of item numbers."""
    nums = sorted(numbers)
    runs: list[list[int]] = []
    for n in nums:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


APPRAISAL_TABLES: tuple[Table, ...] = _appraisal_tables()
"""The instrument files besides ``quality.csv`` (METRICS, RQS 2.0, QUADAS-2, CLEAR), their
columns and allowed answers read from :mod:`synth.instruments`; the instruments validate them
(:func:`synth.instruments.check_appraisal`), these declarations document them and give
``synth new`` its columns."""


def _row_check(rule: RowCheck) -> pa.Check:
    def ok(df):
        def col(name):
            return df[name] if name in df else None

        if rule.name == "ci_low_le_auc":
            a, b = col("ci_low"), col("auc")
            return ~(a > b).fillna(False) if a is not None and b is not None else True
        if rule.name == "auc_le_ci_high":
            a, b = col("auc"), col("ci_high")
            return ~(a > b).fillna(False) if a is not None and b is not None else True
        if rule.name == "ci_both_or_neither":
            a, b = col("ci_low"), col("ci_high")
            return a.isna() == b.isna() if a is not None and b is not None else True
        if rule.name == "auc_or_2x2":
            return _has_accuracy(df)
        if rule.name == "cells_together":
            given = df[["tp", "fp", "fn", "tn"]].notna().sum(axis=1)
            return given.isin([0, 4])
        if rule.name == "cells_match_classes":
            pos = (df["tp"] + df["fn"] != df["positives"]).fillna(False)
            neg = (df["fp"] + df["tn"] != df["negatives"]).fillna(False)
            return ~(pos | neg)
        if rule.name in ("positives_le_n", "negatives_le_n"):
            n, k = col("n"), col(rule.column)
            other = col("negatives" if rule.column == "positives" else "positives")
            covered = other.notna() if other is not None else False  # classes_sum_to_n
            return ~(k > n).fillna(False) | covered
        if rule.name == "classes_sum_to_n":
            n, p, q = col("n"), col("positives"), col("negatives")
            if n is None or p is None or q is None:
                return True
            return ~((p + q) != n).fillna(False)
        raise ValueError(f"unknown row check {rule.name!r}")

    return pa.Check(ok, name=rule.name, error=rule.name)


def _has_accuracy(df):
    """Rows with an AUC, a full 2×2 table, or sensitivity and specificity with class sizes."""
    def col(name):
        return df[name].notna() if name in df else False

    cells = col("tp") & col("fp") & col("fn") & col("tn")
    classes = ((col("positives") & col("negatives")) | (col("n") & col("positives"))
               | (col("n") & col("prevalence")))
    return col("auc") | cells | (col("sensitivity") & col("specificity") & classes)


def pandera_schema(table: Table, present: tuple[str, ...] | None = None, *,
                   vocabulary: Vocabulary | None = None) -> pa.DataFrameSchema:
    """Build the pandera schema of ``table``, restricted to the ``present`` columns.

    Types are coerced before validation (see :mod:`synth.review`), so the schema checks values:
    nullability, vocabularies, ranges, patterns and the cross-column row rules. Each check's
    ``error`` is the text shown to the user as "what is allowed". Vocabulary-bound columns
    check against ``vocabulary`` (:meth:`Table.bind`); without it, against the lists ``table``
    was bound to, or :data:`~synth.vocabulary.DEFAULT_VOCABULARY` if it was not.
    """
    if vocabulary is not None:
        table = table.bind(vocabulary)
    elif any(f.vocabulary is not None and f.allowed is None for f in table.fields):
        table = table.bind(DEFAULT_VOCABULARY)
    cols = present if present is not None else table.columns
    dtypes = {"int": "Int64", "float": "Float64", "str": object}
    columns = {}
    for f in table.fields:
        if f.name not in cols:
            continue
        checks = []
        if f.allowed is not None:
            checks.append(pa.Check.isin(list(f.allowed), error=f.allowed_text()))
        elif f.min is not None or f.max is not None:
            lo = f.min if f.min is not None else float("-inf")
            hi = f.max if f.max is not None else float("inf")
            checks.append(pa.Check.in_range(lo, hi, include_min=not f.open_range,
                                            include_max=not f.open_range,
                                            error=f.allowed_text()))
        if f.pattern is not None:
            checks.append(pa.Check.str_matches(f.pattern, error=f.allowed_text()))
        columns[f.name] = pa.Column(dtypes[f.dtype], checks=checks, nullable=f.nullable)
    row_checks = [_row_check(r) for r in table.row_checks if set(r.columns) <= set(cols)]
    return pa.DataFrameSchema(columns, checks=row_checks, strict=False, name=table.name)


def data_dictionary() -> str:
    """Render the data dictionary (Markdown) of every table from the field declarations."""
    lines = [
        "<!-- generated by `python -m synth dictionary`; edit src/synth/schema.py instead -->",
        "# Data dictionary",
        "",
        "A review folder holds `studies.csv`, `performance.csv`, optionally one file per quality",
        "instrument (`quality.csv` for RQS 1.0, `metrics.csv`, `rqs2.csv`, `quadas2.csv`,",
        "`clear.csv`; one row per study and rater) and `prisma.yaml`, and `review.yaml` with the",
        "review's title and its own vocabularies",
        "(aims, sites, modalities, models, raters); or, instead of the CSV files, one `.xlsx`",
        "workbook whose sheets carry the same names (see *The workbook* below). Empty cells are",
        "missing values. Columns may come in any order; unknown columns are rejected.",
        "",
        "## How synth reads your files",
        "",
        "- **CSV**: UTF-8 (a byte-order mark is fine). The delimiter is whichever of `,`, `;` or",
        "  a tab the header row holds most of. Quote a cell that holds the delimiter, a quote",
        "  (written twice: `\"\"`) or a line break. A quote that never closes, text after a",
        "  closing quote, a row with more cells than the header, or a tab-separated row in a",
        "  `,`/`;` file is reported with its spreadsheet row.",
        "- **Numbers**: each file's decimal mark is read from the numbers that show it beyond",
        "  doubt: `0,85` or `1.234,5` mean a decimal comma (dots then only group thousands);",
        "  `0.85` or `1,234.5` mean a decimal point. A number that breaks the file's convention is",
        "  refused, and so is a number that could be read two ways in a file that shows no",
        "  decimal mark (`1.000`: one, or one thousand?) — write it without a thousands",
        "  separator. Nothing is guessed.",
        "- **Identifiers**: `study_id`, `doi` and `pmid` are text, kept as typed.",
        "- **Workbooks (.xlsx)**: cells are read as saved; text such as `NA` stays text. An error",
        "  value (`#DIV/0!`, `#N/A`, ...) or a formula whose result was never saved (files written",
        "  by scripts) is reported as `book.xlsx[sheet]:row:column: formula =B2/C2 gives",
        "  #DIV/0!`, in any column. Excel's `~$book.xlsx` lock file beside a workbook is ignored.",
        "- **The workbook's prisma sheet**: two columns, `key` and `value`. A key is split at its",
        "  dots until it reaches a list of names (`databases`, `registers`, `excluded_reasons`,",
        "  `other_methods.sources`, `other_methods.excluded_reasons`); the rest, dots and all, is",
        "  the name: `excluded_reasons.Not GEP-NET, e.g. lung.` is the reason \"Not GEP-NET, e.g.",
        "  lung.\". Each key may appear once.",
        "- **YAML** (`review.yaml`, `prisma.yaml`): at most 256 KB, 32 levels of nesting and",
        "  10,000 values once aliases are expanded; a key written twice in one mapping is refused",
        "  on the line of its second use.",
        "",
    ]
    for t in (*TABLES, *APPRAISAL_TABLES):
        opt = " (optional file)" if t.optional else ""
        lines += [f"## `{t.filename}`{opt}", "", t.description, "",
                  "| column | type | required | allowed | description |",
                  "|---|---|---|---|---|"]
        for f in t.fields:
            req = "yes" if f.required and not f.nullable else ("column" if f.required else "no")
            lines.append(
                f"| `{f.name}` | {f.dtype} | {req} | {f.allowed_text()} | {f.description} |"
            )
        for r in t.row_checks:
            when = (f"when all of {', '.join(r.columns)} are given" if len(r.columns) > 1
                    else "every row")
            lines.append(f"\nRule: {r.allowed} ({when}).")
        lines.append("")
    lines += [
        "`required`: *yes* = column must be present and every cell filled; *column* = column",
        "must be present, cells may be empty; *no* = column may be left out.",
        "",
        "Keys: `study_id` is unique in `studies.csv`; every `study_id` in `performance.csv` and",
        "`quality.csv` appears in `studies.csv`; (`study_id`, `rater`) is unique in `quality.csv`.",
        "",
        *_review_yaml_section(),
        *_workbook_section(),
        *_cross_file_section(),
        "## `prisma.yaml` (optional file)",
        "",
        "PRISMA 2020 flow counts. Every count is a whole number ≥ 0 or `not reported`; a",
        "mapping of databases, sources or exclusion reasons may be `not reported` (or `{}`) as a",
        "whole. `registers: {}` means no register was searched. Counts that are not reported are",
        "drawn as \"not reported\", never guessed.",
        "",
        "The counts must add up as the PRISMA 2020 template says: screened = identified −",
        "removed before screening; sought = screened − excluded; assessed = sought − not",
        "retrieved (in each column); studies included = Σ (assessed − excluded with reasons)",
        "over the columns (+ previous studies). When `reports_included` differs from",
        "`studies_included` (a study with several reports), the columns must add up to the",
        "reports instead. Each rule involving a `not reported` count is skipped. With",
        "`strict: true` (the default) a rule that fails is an error naming the boxes and numbers,",
        "e.g. `prisma.yaml:10:screened: screened (1200) ≠ identified (1500) − removed before",
        "screening (364)`; with `strict: false` it is a warning shown in the notebook and under",
        "the diagram.",
        "",
        "```yaml",
        *_PRISMA_EXAMPLE.strip("\n").splitlines(),
        "```",
        "",
        "## `screening_log.csv` (optional file, instead of `prisma.yaml`)",
        "",
        "A screening log, one row per record identified (the shape of Rayyan and Covidence",
        "exports), from which every count is derived, so the diagram cannot disagree with the",
        "screening. It is read when the folder has no `prisma.yaml`; when a folder has both,",
        "the notebook lists where they disagree. Columns (any order; case, spaces and",
        "punctuation in names are ignored; other columns such as title or authors are ignored):",
        "",
        "| column | required | allowed | description |",
        "|---|---|---|---|",
        "| `source` | yes | text | Database, register or other source, e.g. `PubMed`. |",
        "| `source_type` | no | database, register, other (empty = database) | Which column "
        "of the diagram the source belongs to. |",
        "| `duplicate` | no | yes/no, true/false, 1/0, x (empty = no) | Removed before "
        "screening as a duplicate. |",
        "| `removed` | no | automation, other (empty = kept) | Removed before screening by "
        "automation tools or for another reason. |",
        "| `screening` | yes | include, exclude (also included/excluded, yes/no, maybe = "
        "include) | Title/abstract decision; empty only for removed records. |",
        "| `full_text` | yes | include, exclude, not retrieved | Full-text decision; only for "
        "records included at screening. |",
        "| `reason` | yes | text | Why the report was excluded at full text (only then). |",
        "| `study_id` | no | text | Reports of the same study share it; studies are counted "
        "once. |",
        "",
        "Column names such as `Title/Abstract decision`, `Full-text decision`, `Exclusion",
        "reason`, `Database`, `Is duplicate` are read as the columns above.",
        "",
    ]
    return "\n".join(lines)


def _review_yaml_section() -> list[str]:
    """The data dictionary's review.yaml section: its keys and every default list."""
    lines = [
        "## `review.yaml` (optional file)",
        "",
        "The review's title and its own words. Every key is optional; a list the file does not",
        "declare is the default list below, and a declared list replaces the default (it does",
        "not extend it). Columns bound to a list accept exactly its names, and a value outside",
        "it is refused with the list it was checked against, e.g. `studies.csv:7:site: 'lung'",
        "— one of: pancreas, stomach (review.yaml: sites)`. review.yaml is checked before the",
        "tables (which are checked against it): its problems are reported with those of",
        "`prisma.yaml` only, and the tables are checked once review.yaml is right.",
        "",
        "| key | allowed | meaning |",
        "|---|---|---|",
        "| `title` | text | The review's title. |",
        "| `synthetic` | true, false | Made-up data: every figure says so. |",
        "| `description` | text | What the folder holds, where it comes from. |",
        f"| `aims` | a list of 1 to {MAX_AIMS} names, each a name or `{{name: ..., label: ...}}` "
        "| The clinical aims (`performance.aim`), in display order: every table and figure "
        "shows them in this order, with their labels, each in a colour of its own. |",
        "| `sites` | a list of names | Tumour sites (`studies.site`). |",
        "| `modalities` | a list of names | Imaging modalities (`studies.modality`). |",
        "| `models` | a list of names | Kinds of model (`performance.model`). |",
        "| `raters` | a list of names | Who scores quality (`quality.rater`). |",
        "| `consensus` | one of `raters` | The rater whose scores the summaries use "
        f"(default `{DEFAULT_VOCABULARY.consensus}`; must be named when `raters` does not "
        "hold it). |",
        "| `ci_level` | a number between 0 and 1, e.g. 0.90 (not 90) | Confidence level of the "
        f"intervals the studies report (default {DEFAULT_VOCABULARY.ci_level}); a "
        "performance row's own `ci_level` overrides it. |",
        "| `partial` | true, false | `studies.csv` holds only part of the included studies, so "
        "PRISMA's `studies_included` is not compared with it (default false). |",
        "",
        "Names are text (a whole number is read as its digits), each listed once. Default",
        "lists, used for a key review.yaml does not declare:",
        "",
    ]
    for key in LIST_KEYS:
        values = DEFAULT_VOCABULARY.values(key)
        lines.append(f"- `{key}`: " + ", ".join(values))
    lines += ["", "```yaml", *_REVIEW_EXAMPLE.strip("\n").splitlines(), "```", ""]
    return lines


_REVIEW_EXAMPLE = """
title: Radiomics for EGFR status in lung adenocarcinoma
synthetic: false
aims:                       # display order
  - name: malignancy
    label: Malignancy
  - name: egfr              # the name performance.csv uses
    label: EGFR mutation    # the label figures show
sites: [lung]
modalities: [CT, ultrasound]
raters: [JS, MK, agreed]
consensus: agreed
ci_level: 0.95
partial: false
"""


def _workbook_section() -> list[str]:
    """The data dictionary's section on the one-workbook form of a review."""
    return [
        "## The workbook (instead of the CSV files)",
        "",
        "One `.xlsx` file, one sheet per file, named as the file without its extension:",
        "",
        "| sheet | holds | required |",
        "|---|---|---|",
        "| `studies` | the columns of `studies.csv`, header in row 1 | yes |",
        "| `performance` | the columns of `performance.csv` | yes |",
        "| `quality` | the columns of `quality.csv` | no |",
        "| `prisma` | the PRISMA counts: two columns `key` and `value`, one row per count | no |",
        "| `screening_log` | a screening log, columns as `screening_log.csv` (read when there "
        "is no `prisma` sheet) | no |",
        *(f"| `{stem}` | the {name} appraisals, columns as `{stem}.csv` | no |"
          for stem, name in APPRAISAL_FILES.items()),
        "",
        "The `prisma` sheet's rows hold the keys of `prisma.yaml`, nested keys joined by dots:",
        "",
        "| key | value |",
        "|---|---|",
        "| `databases.PubMed` | 812 |",
        "| `databases.Embase` | not reported |",
        "| `removed_before_screening.duplicates` | 469 |",
        "| `screened` | 1364 |",
        "| `excluded_reasons.Not GEP-NET, e.g. lung.` | 41 |",
        "| `other_methods.sources.Citation searching` | 9 |",
        "| `studies_included` | 45 |",
        "",
        "`review.yaml` stays a file beside the workbook; a `prisma.yaml` or `screening_log.csv`",
        "beside it is read when the workbook has neither a `prisma` nor a `screening_log` sheet.",
        "A folder holds one review: one workbook or the CSV files, not both (see below).",
        "",
    ]


def _cross_file_section() -> list[str]:
    """The data dictionary's section on the checks that compare files with each other."""
    return [
        "## Checks across files",
        "",
        "Run by `synth check` and before any notebook, so a review `check` calls valid runs:",
        "",
        "- **One review per folder**: a folder holding a workbook and CSV tables, or two",
        "  workbooks, is an error naming the files (Excel's `~$…` lock files are ignored). Name",
        "  the workbook (`synth check folder/review.xlsx`) or move the other files out.",
        "- **Consensus scores**: every study with rows in `quality.csv` (or in an instrument",
        "  file such as `metrics.csv`) has a row there by the consensus rater (review.yaml",
        "  `consensus`); the summaries, figures and sensitivity analyses use those rows, so a",
        "  study without one is an error naming the file, the study, its raters and the",
        "  consensus rater (nothing falls back to another rater's scores).",
        "- **Studies included**: PRISMA's `studies_included`, when reported, equals the number",
        "  of studies in `studies.csv` — unless review.yaml says `partial: true` (the table",
        "  holds only part of the included studies). The error is on the line of",
        "  `studies_included` in `prisma.yaml` (or its row in the `prisma` sheet).",
        "- **Class sizes**: positives + negatives = n; positives ≤ n and negatives ≤ n when",
        "  only one of them is given (rules of `performance.csv` above).",
        "- **Intervals**: a reported CI contains its AUC (ci_low ≤ auc ≤ ci_high).",
        "",
    ]


_PRISMA_EXAMPLE = """
databases:                 # records identified, one count per database
  PubMed: 812
  Embase: 1021
registers: {}              # records identified, one count per register ({} = none searched)
removed_before_screening:
  duplicates: 469
  automation: 0            # marked ineligible by automation tools
  other: 0
screened: 1364
excluded_screening: 1228
sought: 136                # reports sought for retrieval
not_retrieved: 3
assessed: 133              # reports assessed for eligibility
excluded_reasons:          # reports excluded, one count per reason
  No radiomics analysis: 52
  Not GEP-NET: 41
other_methods:             # optional second column (citation searching, websites, ...)
  sources:
    Citation searching: 9
  sought: 9
  not_retrieved: 0
  assessed: 9
  excluded_reasons:
    Not GEP-NET: 4
studies_included: 45       # (133 − 93) + (9 − 4)
reports_included: 45
previous_studies: not reported   # only for the template of an updated review
strict: true               # false: counts that do not add up are warnings, not errors
source: "where these counts were read"
"""
