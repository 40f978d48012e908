"""The k diagnostics table (ml_k_diagnostics), for either engine.

The engine supplies the rows (a seeded sample of at most ``diagnostics_max_rows``, collected
as a matrix); :func:`clustering.diagnose_k` runs the restarts and polish passes on it, and
:func:`diagnostics_table` turns one :class:`~customer_segmentation.clustering.KDiagnostic`
per k into the table, with the k the settings' rule chooses.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from customer_segmentation.clustering import (
    KDiagnostic,
    check_enough_rows,
    choose_k,
    diagnose_k,
    elbow_k,
    seeded_sample,
)
from customer_segmentation.engines.base import Engine, Rows
from customer_segmentation.progress import reporter
from customer_segmentation.settings import SegmentationSettings

#: How the Spark engine runs the k diagnostics unless var spark_diagnostics says otherwise.
#: ``driver``: this project's restarts and polish passes on the seeded sample collected to the
#: driver (at most diagnostics_max_rows rows), so both engines choose from the same fits. One
#: MLlib k-means|| per k (``mllib``) ended 37 % above that WCSS at k = 8 on the demo data.
DIAGNOSTICS_MODES = ("driver", "mllib")


def k_diagnostics_table(
    engine: Engine,
    z: Rows,
    settings: SegmentationSettings,
    source: str | None = None,
    *,
    mode: str = "driver",
) -> pa.Table:
    """One row per k in the settings' range that the data allows (k <= n).

    ``mode`` ``driver`` (every engine): :func:`clustering.diagnose_k` on the (sampled) z
    matrix. ``mllib`` (Spark only): one MLlib k-means|| per k on the rows in Spark
    (``engine.mllib_diagnostics``). Columns: see :func:`diagnostics_table`.
    """
    if mode not in DIAGNOSTICS_MODES:
        raise ValueError(f"var 'spark_diagnostics' {mode!r}: use one of {DIAGNOSTICS_MODES}")
    n = engine.count(z)
    needed = settings.k if settings.k_rule == "fixed" else max(settings.k_min, 2)
    check_enough_rows(n, needed, source or "input")
    report = reporter("ml_k_diagnostics")
    rows = seeded_sample(n, settings.diagnostics_max_rows, settings.random_state)
    sampled = None if rows is None else len(rows)
    if mode == "mllib":
        diagnostics, n_init = engine.mllib_diagnostics(z, settings, rows)  # type: ignore[attr-defined]
        silhouette_sample = None  # ClusteringEvaluator scores every row
    else:
        matrix = engine.matrix(z, rows)
        n_init = settings.restarts(matrix.shape[0])
        report(
            f"k-means for k = {settings.k_min}..{settings.k_max}, n_init = {n_init}, on "
            f"{matrix.shape[0]:,} customers" + (" (seeded sample)" if rows is not None else "")
        )
        diagnostics, silhouette_sample = diagnose_k(
            matrix,
            settings.k_values,
            n_init=n_init,
            best_repeats=settings.best_repeats,
            random_state=settings.random_state,
            silhouette_max_rows=settings.silhouette_max_rows,
            silhouette_sample_size=settings.silhouette_sample_size,
            progress=report,
        )
    return diagnostics_table(
        diagnostics,
        settings,
        n_init=n_init,
        silhouette_sample=silhouette_sample,
        diagnostics_sample=sampled,
        report=report,
    )


def diagnostics_table(
    diagnostics: list[KDiagnostic],
    settings: SegmentationSettings,
    *,
    n_init: int,
    silhouette_sample: int | None,
    diagnostics_sample: int | None,
    report: Callable[[str], None] | None = None,
) -> pa.Table:
    """The ml_k_diagnostics table from one KDiagnostic per k.

    Columns: k, wcss, silhouette, calinski_harabasz, davies_bouldin, n_iter, converged,
    best_from, silhouette_sample_size (null = exact), diagnostics_sample_size (null = every
    row), is_best_silhouette, is_elbow, is_chosen, k_rule, choice_reason (on the chosen row),
    n_init, random_state, centroids_z (the best restart's k × d centroids, row-major, z units:
    the final fit starts from them instead of repeating the restarts).
    """
    chosen, reason = choose_k(diagnostics, settings.k_rule, settings.k)
    scored = [d for d in diagnostics if d.silhouette is not None]
    best_silhouette = max(scored, key=lambda d: (d.silhouette, -d.k)).k if scored else None
    elbow = elbow_k([d.k for d in diagnostics], [d.wcss for d in diagnostics])
    if report is not None:
        report(f"chosen k = {chosen} ({reason})")

    run = {
        "silhouette_sample_size": silhouette_sample,
        "diagnostics_sample_size": diagnostics_sample,
        "k_rule": settings.k_rule,
        "n_init": n_init,
        "random_state": settings.random_state,
    }
    rows = [
        {
            **run,
            "k": d.k,
            "wcss": d.wcss,
            "silhouette": d.silhouette,
            "calinski_harabasz": d.calinski_harabasz,
            "davies_bouldin": d.davies_bouldin,
            "n_iter": d.n_iter,
            "converged": d.converged,
            "best_from": d.best_from,
            "is_best_silhouette": d.k == best_silhouette,
            "is_elbow": d.k == elbow,
            "is_chosen": d.k == chosen,
            "choice_reason": reason if d.k == chosen else None,
            "centroids_z": d.centroids.ravel().tolist(),
        }
        for d in diagnostics
    ]
    return pa.Table.from_pylist(rows, schema=DIAGNOSTICS_SCHEMA)


#: Columns of :func:`diagnostics_table` (ml_k_diagnostics), in order.
DIAGNOSTICS_SCHEMA = pa.schema(
    [
        ("k", pa.int32()),
        ("wcss", pa.float64()),
        ("silhouette", pa.float64()),
        ("calinski_harabasz", pa.float64()),
        ("davies_bouldin", pa.float64()),
        ("n_iter", pa.int32()),
        ("converged", pa.bool_()),
        ("best_from", pa.string()),
        ("silhouette_sample_size", pa.int64()),
        ("diagnostics_sample_size", pa.int64()),
        ("is_best_silhouette", pa.bool_()),
        ("is_elbow", pa.bool_()),
        ("is_chosen", pa.bool_()),
        ("k_rule", pa.string()),
        ("choice_reason", pa.string()),
        ("n_init", pa.int32()),
        ("random_state", pa.int64()),
        ("centroids_z", pa.list_(pa.float64())),
    ]
)


def chosen_row(diagnostics: pa.Table) -> dict:
    """The one row of ml_k_diagnostics marked is_chosen, as a dict."""
    chosen = [row for row in diagnostics.to_pylist() if row["is_chosen"]]
    if len(chosen) != 1:
        raise ValueError(f"ml_k_diagnostics marks {len(chosen)} rows as chosen, expected 1")
    return chosen[0]


def chosen_k(diagnostics: pa.Table) -> int:
    return int(chosen_row(diagnostics)["k"])
