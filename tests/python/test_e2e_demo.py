"""End to end on the demo seed: one real `dbt build`, then the tables are checked."""

import pytest
from conftest import assert_ok, build

from customer_segmentation.explain import TOP_FEATURES

pytestmark = pytest.mark.e2e

MARTS = [
    "customer_segments",
    "segment_profiles",
    "rejected_customer_rows",
    "customer_value_summary",
    "category_effect_tests",
]


def test_every_demo_row_is_segmented(demo_build):
    assert demo_build.scalar("select count(*) from staging.stg_customer_input") == 3834
    assert demo_build.scalar("select count(*) from marts.customer_segments") == 3834
    assert demo_build.scalar("select count(*) from marts.rejected_customer_rows") == 0


def test_eight_segments_with_profiles(demo_build):
    assert demo_build.scalar("select count(distinct segment_id) from marts.customer_segments") == 8
    rows = demo_build.query(
        "select segment_id, count_customers, share_of_customers from marts.segment_profiles"
    )
    assert sorted(r[0] for r in rows) == list(range(1, 9))
    assert sum(r[1] for r in rows) == 3834
    assert sum(r[2] for r in rows) == pytest.approx(1.0)


def test_segment_ids_follow_centroid_clv(demo_build):
    clv = demo_build.query(
        """
        select segment_id, centroid_original from ml.ml_kmeans_fit
        where feature_name = 'customer_lifetime_value' order by segment_id
        """
    )
    values = [row[1] for row in clv]
    assert values == sorted(values, reverse=True)


def test_dbt_tests_ran_and_passed(demo_build):
    assert "ERROR=0" in demo_build.output
    assert "assert_every_input_row_is_segmented_or_rejected" in demo_build.output
    assert "one_hot_row_sums" in demo_build.output


def test_summary_command_prints_every_segment(demo_build):
    import subprocess
    import sys
    from pathlib import Path

    cli = Path(sys.executable).parent / "customer-segmentation"
    out = subprocess.run(
        [str(cli), "summary", "--database", str(demo_build.database)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = out.strip().splitlines()
    assert lines[0].split()[:3] == ["id", "segment", "name"]
    assert len(lines) == 9
    assert "3,834" not in out  # per-segment counts, not the total


def test_two_builds_give_identical_tables(demo_build, tmp_path):
    again = assert_ok(build(tmp_path, "again", stability=True))
    with_ml = MARTS + [
        "ml.ml_kmeans_fit",
        "ml.ml_k_diagnostics",
        "ml.ml_ward_linkage",
        "ml.ml_segment_stability",
    ]
    for table in with_ml:
        name = table if "." in table else f"marts.{table}"
        first = demo_build.query(f"select * from {name} order by all")
        second = again.query(f"select * from {name} order by all")
        assert first == second, f"{name} differs between two builds"


#: Every source feature's contribution to the squared margin, recomputed here from the z
#: scores, the centroids and the feature definitions (not by the library's code).
ALL_CONTRIBUTIONS = """
with z as (
    unpivot ml.ml_customer_features_z
    on columns(* exclude (fit_row, customer_id)) into name z_column value z
),
features as (
    select feature_position, feature_name, source_feature, feature_name || '_z' as z_column
    from intermediate.int_feature_definitions
)
select
    segments.customer_id,
    features.source_feature,
    min(features.feature_position) as first_position,
    sum((z.z - second.centroid_z) ** 2 - (z.z - own.centroid_z) ** 2) as contribution
from marts.customer_segments as segments
inner join z on segments.customer_id = z.customer_id
inner join features on z.z_column = features.z_column
inner join ml.ml_kmeans_fit as own
    on segments.segment_id = own.segment_id and features.feature_name = own.feature_name
inner join ml.ml_kmeans_fit as second
    on segments.second_segment_id = second.segment_id
    and features.feature_name = second.feature_name
group by all
"""


def _top_features(run, table: str) -> dict[str, tuple]:
    columns = ", ".join(
        f"top_feature_{r}, top_feature_{r}_contribution" for r in range(1, TOP_FEATURES + 1)
    )
    rows = run.query(f"select customer_id, {columns} from marts.{table}")
    return {row[0]: row[1:] for row in rows}


def test_top_features_rank_the_contributions_to_the_squared_margin(demo_build):
    top = _top_features(demo_build, "customer_segments")
    assert len(top) == 3834
    contributions = {}
    for customer, source, position, value in demo_build.query(ALL_CONTRIBUTIONS):
        contributions.setdefault(customer, []).append((position, source, value))
    squared = demo_build.query(
        "select customer_id, distance_to_centroid, distance_to_second_centroid "
        "from marts.customer_segments"
    )
    for customer, d1, d2 in squared:
        names, values = top[customer][0::2], top[customer][1::2]
        assert None not in names and None not in values
        assert values[0] >= values[1] >= values[2]
        features = contributions[customer]
        assert {source for _, source, _ in features} == {"minutes_watched",
            "customer_lifetime_value", "region", "channel"}  # fmt: skip
        total = sum(value for _, _, value in features)
        assert abs(total - (d2**2 - d1**2)) <= 1e-9 * max(d2**2, 1.0)
        expected = sorted(features, key=lambda f: (-f[2], f[0]))[:TOP_FEATURES]
        assert values == pytest.approx([v for _, _, v in expected], rel=1e-9, abs=1e-12)
        # Names must agree unless two recomputed contributions are equal to rounding.
        ranked = sorted(v for _, _, v in features)[::-1]
        if all(abs(a - b) > 1e-9 for a, b in zip(ranked, ranked[1:], strict=False)):
            assert list(names) == [source for _, source, _ in expected]


def test_sql_scoring_gives_the_same_top_features(demo_build):
    python, sql = (_top_features(demo_build, t) for t in ("customer_segments", "scored_customers"))
    assert python.keys() == sql.keys()
    for customer, values in python.items():
        assert sql[customer][0::2] == values[0::2]
        assert sql[customer][1::2] == pytest.approx(values[1::2], rel=1e-9, abs=1e-12)


def test_bootstrap_stability_is_in_the_marts_and_equals_the_library(demo_build):
    """segment_profiles.bootstrap_jaccard and segmentation_runs.bootstrap_mean_ari: in range,
    and equal to a call of the library on the build's own z rows and centroids."""
    import numpy as np

    from customer_segmentation.settings import SegmentationSettings
    from customer_segmentation.stability import bootstrap_stability

    jaccard = dict(
        demo_build.query("select segment_id, bootstrap_jaccard from marts.segment_profiles")
    )
    assert len(jaccard) == 8 and all(0 <= value <= 1 for value in jaccard.values())
    ari, resamples, size, n_init, note = demo_build.query(
        "select bootstrap_mean_ari, bootstrap_resamples, bootstrap_sample_size, "
        "bootstrap_n_init, bootstrap_note from marts.segmentation_runs"
    )[0]
    defaults = SegmentationSettings()
    assert (resamples, n_init) == (defaults.stability_resamples, defaults.stability_n_init)
    assert size == 3834 and note is None and -1 <= ari <= 1
    z_columns = [
        row[0]
        for row in demo_build.query(
            "select feature_name || '_z' from ml.ml_kmeans_fit "
            "group by feature_name, feature_position order by feature_position"
        )
    ]
    z = np.array(
        demo_build.query(
            f"select {', '.join(z_columns)} from ml.ml_customer_features_z order by fit_row"
        )
    )
    centroids = np.array(
        [
            row[0]
            for row in demo_build.query(
                "select list(centroid_z order by feature_position) from ml.ml_kmeans_fit "
                "group by segment_id order by segment_id"
            )
        ]
    )
    result = bootstrap_stability(
        z, centroids, n_resamples=resamples, n_init=n_init, random_state=defaults.random_state
    )
    assert [jaccard[s] for s in sorted(jaccard)] == result.jaccard.tolist()
    assert ari == result.mean_ari
