"""The engine boundary: shared kernels, the local engine, and the interpretation above it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest

from customer_segmentation import diagnostics, segments
from customer_segmentation.engines import LocalEngine, for_session
from customer_segmentation.features import Feature, FeatureSet
from customer_segmentation.kernels import ClusterSums, assignment_sums, cluster_sums, nearest
from customer_segmentation.settings import SegmentationSettings
from customer_segmentation.ward import leaf_centroids


def _blobs(n: int = 300, seed: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.array([[4.0, 0.0], [0.0, 4.0], [-4.0, -4.0]])
    return centres[rng.integers(0, 3, n)] + rng.normal(scale=0.5, size=(n, 2))


def test_nearest_matches_a_brute_force_search_across_chunks():
    z = _blobs()
    centres = z[[0, 10, 20, 30]]
    found = nearest(z, centres, chunk_rows=70)
    for i, row in enumerate(z.tolist()):
        # Per row, every centre's squared distance summed feature by feature in Python, then
        # the two smallest by (distance, index): the same products and sums in the same order
        # (numpy squares by multiplying), so the values must agree exactly.
        squared = [
            sum((a - b) * (a - b) for a, b in zip(row, c, strict=True)) for c in centres.tolist()
        ]
        ranked = sorted(enumerate(squared), key=lambda pair: (pair[1], pair[0]))
        (best, first), (runner_up, second) = ranked[:2]
        assert (found.segment[i], found.second_segment[i]) == (best, runner_up)
        assert (found.squared[i], found.second_squared[i]) == (first, second)
    assert found.distance.tolist() == np.sqrt(found.squared).tolist()


def test_nearest_ties_go_to_the_lower_index_and_k_one_has_no_runner_up():
    z = np.array([[0.0, 0.0]])
    tied = nearest(z, np.array([[1.0, 0.0], [-1.0, 0.0]]))
    assert tied.segment.tolist() == [0] and tied.second_segment.tolist() == [1]
    single = nearest(z, np.array([[3.0, 4.0]]))
    assert single.distance.tolist() == [5.0] and single.second_segment.tolist() == [-1]
    assert np.isnan(single.second_squared).all()


def test_cluster_sums_match_leaf_centroids_and_partials_add_up():
    z = _blobs()
    labels = np.random.default_rng(1).integers(0, 7, len(z))
    sums = cluster_sums(z, labels, 7)
    means, counts = leaf_centroids(z, labels)
    assert sums.counts.tolist() == counts.astype(int).tolist()
    np.testing.assert_array_equal(sums.sums / counts[:, None], means)
    centres = z[[0, 1, 2]]
    whole = assignment_sums(z, centres)
    parts = assignment_sums(z[:100], centres) + assignment_sums(z[100:], centres)
    assert parts.counts.tolist() == whole.counts.tolist()
    np.testing.assert_allclose(parts.sums, whole.sums, rtol=1e-12)
    assert parts.wcss == pytest.approx(whole.wcss, rel=1e-12)
    shipped = ClusterSums.from_row(whole.to_row(), z.shape[1])
    np.testing.assert_array_equal(shipped.sums, whole.sums)


def test_empty_cluster_keeps_its_centre():
    sums = cluster_sums(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0, 0]), 2)
    fallback = np.array([[9.0, 9.0], [7.0, 7.0]])
    assert sums.means(fallback).tolist() == [[2.0, 3.0], [7.0, 7.0]]
    assert sums.distinct == 1


def _features() -> FeatureSet:
    return FeatureSet(
        (
            Feature("value", "numeric", "value", "value", is_summable=True, role="value"),
            Feature("minutes", "numeric", "minutes", "minutes", role="engagement"),
        )
    )


def _fit(previous: pa.Table | None = None, seed: int = 4):
    x = _blobs(seed=seed) + 10.0
    rows = pa.table(
        {
            "customer_id": pa.array(np.arange(len(x)), pa.int64()),
            "value": x[:, 0],
            "minutes": x[:, 1],
        }
    )
    engine = LocalEngine()
    order = "value, minutes, customer_id"
    scaler = engine.fit_scaler(rows, ["value", "minutes"])
    z = engine.standardise(rows, scaler, order)
    settings = SegmentationSettings(k=3, k_min=2, k_max=4, n_init=5)
    table = diagnostics.k_diagnostics_table(engine, z, settings)
    fit = segments.kmeans_fit_table(
        engine, z, scaler, table, _features(), settings, previous=previous
    )
    return engine, z, scaler, table, fit


def test_local_fit_is_canonical_and_matches_previous_ids():
    engine, z, scaler, table, fit = _fit()
    assert diagnostics.chosen_k(table) == 3
    assert fit["k"].to_pylist() == [3] * 6
    values = [
        v
        for v, name in zip(
            fit["centroid_original"].to_pylist(), fit["feature_name"].to_pylist(), strict=True
        )
        if name == "value"
    ]
    assert values == sorted(values, reverse=True)  # summable measure first, highest first
    assert fit["id_assignment"][0].as_py().startswith("canonical")
    # The previous run's ids, shuffled, are kept by Hungarian matching.
    renamed = fit.set_column(
        0,
        "segment_id",
        pa.array([{1: 3, 2: 1, 3: 2}[i] for i in fit["segment_id"].to_pylist()], pa.int32()),
    )
    _, _, _, _, again = _fit(previous=renamed)
    assert again["id_assignment"][0].as_py().startswith("matched")
    by_name = dict(
        zip(renamed["segment_name"].to_pylist(), renamed["segment_id"].to_pylist(), strict=True)
    )
    for name, segment in zip(
        again["segment_name"].to_pylist(), again["segment_id"].to_pylist(), strict=True
    ):
        assert by_name[name] == segment
    assignments = engine.assign(z, segments.centroid_matrix(fit))
    assert assignments.column_names[:2] == ["customer_id", "segment_id"]
    sizes = np.bincount(assignments["segment_id"].to_numpy(), minlength=4)[1:]
    per_segment = dict(
        zip(fit["segment_id"].to_pylist(), fit["count_customers"].to_pylist(), strict=True)
    )
    assert sizes.tolist() == [per_segment[i] for i in (1, 2, 3)]


def test_warm_start_with_another_k_names_the_var():
    engine, z, scaler, table, _ = _fit()
    from customer_segmentation.warm_start import WarmStart, WarmStartError

    warm = WarmStart(np.zeros((2, 2)), "warm_start 'x.csv'")
    with pytest.raises(WarmStartError, match="set var k: 2"):
        segments.start_of_fit(table, 2, warm)
    start = segments.start_of_fit(table, 2, dataclasses.replace(warm, centroids=np.zeros((3, 2))))
    assert start.n_init == 1 and start.label == "warm_start 'x.csv'"


def test_the_engine_is_chosen_from_the_session():
    import duckdb

    assert for_session(duckdb.connect()).name == "duckdb"
    assert isinstance(for_session(None), LocalEngine)


def test_local_mean_positions_are_exact_mean_ranks_in_the_fit_table():
    from scipy.stats import rankdata

    engine, z, scaler, table, fit = _fit()
    x = engine.matrix(z)
    centres = segments.centroid_matrix(fit)
    labels = nearest(x, centres).segment
    ranks = (rankdata(x, axis=0) - 0.5) / len(x)
    expected = np.array([ranks[labels == s].mean(axis=0) for s in range(3)])
    np.testing.assert_allclose(engine.mean_positions(z, centres), expected, rtol=1e-12)
    np.testing.assert_allclose(fit["mean_position"].to_numpy().reshape(3, 2), expected)
    # Segment 1 has the highest value: its customers rank at the top of value.
    assert fit["measure_level"].to_pylist()[0] == "high"
    assert fit["mean_position"][0].as_py() > 0.8


def test_mean_positions_after_lloyd_use_its_labels_not_a_new_nearest_pass(monkeypatch):
    from customer_segmentation import kernels
    from customer_segmentation.settings import SegmentationSettings

    x = _blobs(seed=6)
    engine = LocalEngine()
    start = x[[0, 150, 299]]
    fit = engine.lloyd(pa.table({"a_z": x[:, 0], "b_z": x[:, 1]}), start, SegmentationSettings())
    z = next(iter(engine._zs.values()))[0]  # the relation lloyd read, kept by the engine
    expected = kernels.exact_position_sums(engine.matrix(z), fit.centroids)

    def no_pass(*args, **kwargs):
        raise AssertionError("mean_positions ran a nearest-centre pass")

    monkeypatch.setattr(kernels, "nearest", no_pass)
    positions = engine.mean_positions(z, fit.centroids)
    np.testing.assert_array_equal(positions, expected.means(np.full(start.shape, np.nan)))


def test_read_takes_only_the_columns_asked_for_from_duckdb_and_arrow():
    import duckdb

    con = duckdb.connect()
    relation = con.sql('select 2 as b, 1 as a, 3 as "odd name" union all select 1, 5, 6')
    engine = LocalEngine(con)
    read = engine.read(relation, order="b", columns=["odd name", "a"])
    assert read.column_names == ["odd name", "a"]
    assert read.to_pydict() == {"odd name": [6, 3], "a": [5, 1]}
    whole = engine.read(relation)
    assert whole.column_names == ["b", "a", "odd name"]
    arrow = engine.read(whole, columns=["a"])
    assert arrow.to_pydict() == {"a": [1, 5]}


def test_a_sample_of_a_duckdb_relation_reads_only_its_rows_and_counts_without_a_read():
    import duckdb

    con = duckdb.connect()
    con.sql(
        "create table z as select i as fit_row, 'c' || i as customer_id, sin(i) as a_z,"
        " cos(i) as b_z from range(1000) t(i) order by hash(i)"
    )
    rows = np.array([3, 10, 11, 500, 999])
    engine = LocalEngine(con)
    relation = con.table("z")
    assert engine.count(relation) == 1000
    sampled = engine.matrix(relation, rows)
    assert engine._read == {}  # neither the count nor the sample read the whole relation
    whole = LocalEngine(con).matrix(con.table("z"))
    np.testing.assert_array_equal(sampled, whole[rows])
    np.testing.assert_array_equal(sampled[:, 0], np.sin(rows))


def _mixed_features(n: int = 5_000, seed: int = 9) -> pa.Table:
    """Shuffled ids, a float, an int32 count, an int64 flag, a cents price, ties between rows."""
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "customer_id": pa.array([f"c{i:05d}" for i in rng.permutation(n)]),
            "minutes": pa.array(np.round(rng.gamma(2.0, 900.0, n), -2)),  # many ties
            "count": pa.array(rng.integers(0, 50, n).astype(np.int32)),
            "flag": pa.array(rng.integers(0, 2, n).astype(np.int64)),
            "price": pa.array(np.round(rng.gamma(2.0, 40.0, n), 2)),
        }
    )


def test_scaler_from_a_duckdb_relation_equals_the_arrow_fit_bit_for_bit():
    import duckdb

    arrow = _mixed_features()
    names = ["minutes", "count", "flag", "price"]
    con = duckdb.connect()
    con.register("features_arrow", arrow)
    # price as DECIMAL: cast to DOUBLE in DuckDB, as the SQL z-scores cast it
    native = con.sql("select * replace (price::double as price) from features_arrow")
    decimal = con.sql("select * replace (price::decimal(12, 2) as price) from features_arrow")
    reference = LocalEngine().fit_scaler(arrow, names)
    for relation in (native, decimal):
        fitted = LocalEngine(con).fit_scaler(relation, names)
        assert fitted.mean.tobytes() == reference.mean.tobytes()
        assert fitted.std.tobytes() == reference.std.tobytes()
        assert fitted.n_samples == arrow.num_rows


def test_z_scores_in_sql_equal_the_arrow_path_bit_for_bit_in_any_input_order():
    import duckdb

    arrow = _mixed_features()
    names = ["minutes", "count", "flag", "price"]
    order = "minutes, count, flag, price, customer_id"
    scaler = LocalEngine().fit_scaler(arrow, names)
    reference = LocalEngine().standardise(arrow, scaler, order)
    assert reference["fit_row"].to_pylist() == list(range(arrow.num_rows))
    con = duckdb.connect()
    shuffled = arrow.take(pa.array(np.random.default_rng(1).permutation(arrow.num_rows)))
    for name, table in (("features", arrow), ("shuffled", shuffled)):
        con.register(name, table)
        relation = con.sql(f"select * replace (price::decimal(12, 2) as price) from {name}")
        z = LocalEngine(con).standardise(relation, scaler, order)
        assert isinstance(z, duckdb.DuckDBPyRelation)  # written by DuckDB, not via Python
        con.execute(f"create table z_{name} as select * from z")
        stored = con.table(f"z_{name}").to_arrow_table()
        assert stored.column_names == reference.column_names
        assert stored.equals(reference.cast(stored.schema))
        for column in reference.column_names[2:]:  # the same doubles, not just close ones
            assert stored[column].to_numpy().tobytes() == reference[column].to_numpy().tobytes()


def test_previous_table_with_a_quote_in_its_name_is_read():
    import duckdb

    from customer_segmentation.warehouse import existing_table

    con = duckdb.connect()
    con.execute('create schema "odd""schema"')
    con.execute('create table "odd""schema"."fit ""v2""" as select 1 as segment_id')
    found = existing_table(con, "memory", 'odd"schema', 'fit "v2"')
    assert found is not None and found["segment_id"].to_pylist() == [1]
    assert existing_table(con, "memory", 'odd"schema', "absent") is None
