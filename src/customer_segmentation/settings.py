"""Run settings: one typed row per build (dbt model int_segmentation_settings).

Presets and every default live in dbt_project.yml (var ``presets``); macro
segmentation_settings resolves the vars against the preset, checks them (a bad var stops the
build with one line naming it) and materialises one typed row, which the Python fits read with
:meth:`SegmentationSettings.from_arrow`. Nothing here parses dbt-rendered text.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import pyarrow as pa

K_RULES = ("fixed", "silhouette", "elbow")

#: k-means++ restarts when the n_init var is unset: a budget of rows × restarts per k, so small
#: inputs get many restarts and large samples few. Measured on the real data (3,834 rows):
#: n_init 10 ends 3.1 % above the best known WCSS at case-study k = 8 and up to 6 % at other
#: k; 200 still misses by up to 0.9 %; 1,000 by 0.14 % once; 2,000 reaches the best known
#: WCSS (from 10,000 independent restarts) at every k = 1..10 in both presets.
RESTART_BUDGET_ROWS = 8_000_000
MIN_RESTARTS, MAX_RESTARTS = 10, 2_000
#: The k diagnostics stop restarting at a k once this many chunks of restarts found its best
#: WCSS (n_init is then the cap); var best_repeats. Measured on the real data (case_study
#: preset, random_state 0, 1, 7, 42): 4 reaches the best-known WCSS at every k = 1..10 with
#: 40 to 110 restarts per k; 1 to 3 miss it at k = 9 (a common optimum repeats first).
BEST_REPEATS = 4
#: Bootstrap stability (:mod:`customer_segmentation.stability`) defaults. Each refit is the
#: better of Lloyd from the run's centroids and STABILITY_N_INIT k-means++ restarts. Measured
#: on the case-study file (3,834 rows, k = 8, 50 resamples, seeds 0-2): restarts alone read
#: search failures as instability (weakest segment 0.52-0.61 with 20 restarts, 0.62 with
#: 100, mean ARI 0.66-0.72); with the start from the centroids it is 0.91-0.93 with 10
#: restarts, 0.89 with 20 and 0.80 with 100 (more restarts find more of the resamples'
#: better, different optima; the figure falls towards its limit slowly while the cost
#: grows linearly: 0.8 s, 1.9 s, 8.5 s). On the demo data every segment scores 1.0 with
#: 10. With 20 resamples the weakest segment's figure moved by up to 0.14 between seeds,
#: with 50 by up to 0.06.
STABILITY_RESAMPLES = 50
STABILITY_N_INIT = 10
STABILITY_SAMPLE_SIZE = 20_000
#: Without score_input_path, the SQL scoring check covers every fitted customer up to this many
#: input rows, every m-th input line above (var scoring_check_rows; stg_scoring_input).
SCORING_CHECK_ROWS = 100_000


def restarts_for(n_rows: int) -> int:
    """Default n_init for k-means on ``n_rows`` rows: 2,000 up to 4,000 rows, 40 at 200,000,
    never fewer than 10."""
    return int(min(MAX_RESTARTS, max(MIN_RESTARTS, RESTART_BUDGET_ROWS // max(n_rows, 1))))


class SettingsError(ValueError):
    """A var has a value the pipeline cannot use; the message names the var."""


@dataclass(frozen=True)
class SegmentationSettings:
    """Everything that decides a fit. Same settings and same input give identical tables.

    The defaults are dbt_project.yml's ``presets.default`` (a test checks they agree).

    Attributes
    ----------
    preset : a preset of var ``presets`` (``default``, ``case_study``, ``rfm``).
    k : segments when ``k_rule == "fixed"``.
    k_min, k_max : the k range of the diagnostics table (inclusive).
    k_rule : ``fixed`` (use ``k``), ``silhouette`` (best silhouette in range, k >= 2) or
        ``elbow`` (knee of the WCSS curve).
    random_state : k-means seed (k-means++ initialisation and restarts).
    n_init : k-means++ restarts, the fit with the lowest WCSS wins; None = :func:`restarts_for`
        the rows the diagnostics run on. The diagnostics treat it as a cap (best_repeats).
    best_repeats : the diagnostics stop restarting at a k once this many chunks of restarts
        found its best WCSS (:func:`~.clustering.restart_until_repeated`).
    ward_max_rows : exact Ward linkage up to this many customers.
    silhouette_max_rows : exact silhouette up to this many customers, a seeded sample above.
    silhouette_sample_size : rows in that sample.
    diagnostics_max_rows : the k diagnostics run on a seeded sample of this many rows above it.
    stability_resamples : bootstrap refits behind segment_profiles.bootstrap_jaccard; 0
        turns the step off.
    stability_n_init : k-means++ restarts of each refit (besides its start from the run's
        centroids).
    stability_sample_size : the refits resample a seeded sample of this many rows above it.
    scoring_check_rows : without score_input_path, SQL scoring (scored_customers) is checked
        against the Python assignment on every fitted customer up to this many input rows,
        on every m-th input line above (read by the dbt models, not by the fits).
    warm_start : ``previous``, the path of a centroid CSV, or None.
    warm_start_units : ``original`` or ``z``: units of that CSV.
    spark_diagnostics : ``driver`` or ``mllib``: how the Spark engine runs the k diagnostics.
    input_label : how messages name the input (file path, table or seed).
    """

    preset: str = "default"
    k: int = 8
    k_min: int = 1
    k_max: int = 10
    k_rule: str = "fixed"
    random_state: int = 0
    n_init: int | None = None
    best_repeats: int = BEST_REPEATS
    ward_max_rows: int = 20_000
    silhouette_max_rows: int = 20_000
    silhouette_sample_size: int = 10_000
    diagnostics_max_rows: int = 50_000
    stability_resamples: int = STABILITY_RESAMPLES
    stability_n_init: int = STABILITY_N_INIT
    stability_sample_size: int = STABILITY_SAMPLE_SIZE
    scoring_check_rows: int = SCORING_CHECK_ROWS
    warm_start: str | None = None
    warm_start_units: str = "original"
    spark_diagnostics: str = "driver"
    input_label: str = "seed demo_customers"

    @classmethod
    def from_arrow(cls, table: pa.Table) -> SegmentationSettings:
        """From the one row of int_segmentation_settings: typed columns named like the fields
        (n_init and warm_start may be null)."""
        if table.num_rows != 1:
            raise SettingsError(f"int_segmentation_settings has {table.num_rows} rows, expected 1")
        row = table.to_pylist()[0]
        names = {f.name for f in fields(cls)}
        missing = sorted(names - set(row))
        if missing:
            raise SettingsError(f"int_segmentation_settings lacks columns {missing}")
        settings = cls(**{name: row[name] for name in names})
        settings.validate()
        return settings

    def validate(self) -> None:
        """The cross-field checks (the macro makes the same ones first, naming the vars)."""
        if self.k_min > self.k_max:
            raise SettingsError(f"vars 'k_min' ({self.k_min}) > 'k_max' ({self.k_max})")
        if self.k_rule == "fixed" and not self.k_min <= self.k <= self.k_max:
            raise SettingsError(
                f"var 'k' ({self.k}) is outside the diagnostics range k_min..k_max "
                f"({self.k_min}..{self.k_max}); widen the range or change k"
            )
        for name, value, allowed in (
            ("k_rule", self.k_rule, K_RULES),
            ("warm_start_units", self.warm_start_units, ("original", "z")),
            ("spark_diagnostics", self.spark_diagnostics, ("driver", "mllib")),
        ):
            if value not in allowed:
                raise SettingsError(f"var {name!r}: unknown value {value!r}; use one of {allowed}")
        if self.k_rule == "silhouette" and self.k_max < 2:
            raise SettingsError("k_rule 'silhouette' needs k_max >= 2")

    def restarts(self, n_rows: int) -> int:
        """n_init for a fit on ``n_rows`` rows: the var, or the budgeted default."""
        return self.n_init if self.n_init is not None else restarts_for(n_rows)

    @property
    def k_values(self) -> list[int]:
        return list(range(self.k_min, self.k_max + 1))
