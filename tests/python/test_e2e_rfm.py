"""Beyond the case study, through real dbt builds: transaction (RFM) input, a custom feature
set, bad purchase rows and bad feature configurations."""

from __future__ import annotations

import pyarrow.csv as pa_csv
import pytest
from conftest import REPO, assert_ok, build
from sklearn.metrics import adjusted_rand_score

from demo.generate import (
    TRANSACTIONS_END_DATE,
    generate_transactions,
    inject_bad_rows,
)

pytestmark = pytest.mark.e2e

RFM_MEASURES = ["recency_days", "frequency", "monetary", "mean_unit_cost"]


# rfm_build (conftest): the demo purchases through the rfm preset, shared with test_report.py.


def test_demo_purchases_seed_is_the_generator_output():
    transactions, _ = generate_transactions()
    seed = pa_csv.read_csv(REPO / "seeds" / "demo_transactions.csv")
    assert seed.num_rows == transactions.num_rows
    assert seed["customer_id"].to_pylist() == transactions["customer_id"].to_pylist()


def test_rfm_demo_recovers_the_planted_customer_types(rfm_build):
    _, truth = generate_transactions()
    # The marts carry ids as text, as the purchase file spells them.
    ids = [str(c) for c in truth["customer_id"].to_pylist()]
    planted = dict(zip(ids, truth["planted_type"].to_pylist(), strict=True))
    rows = rfm_build.query("select customer_id, segment_id from marts.customer_segments")
    assert len(rows) == len(planted)
    ari = adjusted_rand_score([planted[c] for c, _ in rows], [s for _, s in rows])
    assert ari >= 0.9


def test_rfm_aggregates_every_accepted_purchase_in_sql(rfm_build):
    runs = rfm_build.query(
        "select input_kind, count_input_rows, count_segmented_rows, count_rejected_rows, "
        "count_segmented_customers, feature_names, k from marts.segmentation_runs"
    )
    assert runs == [("transactions", runs[0][1], runs[0][1], 0, 1200, ", ".join(RFM_MEASURES), 4)]
    # frequency and monetary are the per-customer count and sum of the purchase lines.
    transactions, _ = generate_transactions()
    assert rfm_build.scalar("select sum(frequency) from marts.customer_segments") == (
        transactions.num_rows
    )
    total = sum(transactions["amount"].to_pylist())
    assert rfm_build.scalar("select sum(monetary) from marts.customer_segments") == (
        pytest.approx(total)
    )
    # Recency counts days to the latest purchase in the data: someone bought on that day.
    assert rfm_build.scalar("select min(recency_days) from marts.customer_segments") == 0


def test_rfm_elbow_range_segments_and_actions(rfm_build):
    ks = [row[0] for row in rfm_build.query("select k from marts.segment_k_diagnostics order by k")]
    assert ks == list(range(2, 10))
    profiles = rfm_build.query(
        "select segment_name, recommended_action, action_reason, avg_monetary, "
        "avg_recency_days from marts.segment_profiles order by segment_id"
    )
    assert len(profiles) == 4
    assert len({name for name, *_ in profiles}) == 4
    actions = {action.split(":")[0] for _, action, *_ in profiles}
    # Each of the four planted types (new, regular, lapsed, VIP) gets its own action, though
    # the VIPs' spend (about 10x the median) pulls the mean far above the regular buyers'.
    assert actions == {"Onboarding", "Loyalty programme", "Reactivation campaign", "VIP programme"}
    levels = rfm_build.query(
        "select feature_name, min(mean_position), max(mean_position), count(measure_level) "
        "from ml.ml_kmeans_fit group by feature_name order by feature_name"
    )
    assert [row[0] for row in levels] == ["frequency", "mean_unit_cost", "monetary", "recency_days"]
    assert all(0 < low < 0.5 < high < 1 and n == 4 for _, low, high, n in levels)
    # Segment 1 is the highest spender (fresh fits order segments by the summable measure).
    monetary = [row[3] for row in profiles]
    assert monetary == sorted(monetary, reverse=True)
    # Nothing of the case study leaks into an RFM build.
    columns = {
        row[0]
        for row in rfm_build.query(
            "select column_name from information_schema.columns where table_schema = 'marts'"
        )
    }
    assert not {c for c in columns if "region" in c or "channel" in c or "minutes" in c}
    assert rfm_build.scalar("select count(*) from marts.category_effect_tests") == 0


def test_bad_purchase_rows_are_quarantined_with_reasons(tmp_path):
    transactions, _ = generate_transactions(customers=150, seed=3)
    dirty = inject_bad_rows(transactions, with_kind=True)
    path = tmp_path / "purchases.csv"
    pa_csv.write_csv(dirty.drop_columns(["bad_row_kind"]), path)
    run = assert_ok(
        build(
            tmp_path,
            preset="rfm",
            n_init=10,
            input_path=str(path),
            reference_date=str(TRANSACTIONS_END_DATE),
        )
    )
    kinds = dirty["bad_row_kind"].to_pylist()
    # A text id ('C' + the id) is a valid key now: that purchase belongs to customer 'C<id>'.
    text_ids = [row + 1 for row, kind in enumerate(kinds) if kind == "non_integer_customer_id"]
    expected_rows = {
        row + 1: kind
        for row, kind in enumerate(kinds)
        if kind and kind != "non_integer_customer_id"
    }
    rejected = dict(
        run.query("select source_row_number, rejection_reason from marts.rejected_transaction_rows")
    )
    assert set(rejected) == set(expected_rows)
    starts = {
        "blank_customer_id": "customer_id: missing",
        "blank_amount": "amount: missing",
        "non_numeric_amount": "amount: not a number ('n/a')",
        "negative_amount": "amount: negative ('-",
        "zero_quantity": "quantity: not a positive count ('0')",
        "non_integer_quantity": "quantity: not a whole number ('1.5')",
        "unparseable_date": "purchase_date: not a date ('2025-02-30')",
        "future_date": f"purchase_date: after the reference date {TRANSACTIONS_END_DATE}",
    }
    for row, kind in expected_rows.items():
        assert rejected[row].startswith(starts[kind]), (kind, rejected[row])
    counts = run.query(
        "select count_input_rows, count_segmented_rows, count_rejected_rows "
        "from marts.segmentation_runs"
    )[0]
    assert counts == (dirty.num_rows, transactions.num_rows + len(text_ids), len(expected_rows))
    segmented = {r[0] for r in run.query("select customer_id from marts.customer_segments")}
    assert {dirty["customer_id"][row - 1].as_py() for row in text_ids} <= segmented


CUSTOM_FEATURES = {
    "numeric": [
        {"name": "customer_lifetime_value", "column": "CLV", "transform": "log1p",
         "summable": True, "role": "value"},
        {"name": "minutes_watched", "missing": "zero", "min": 0, "role": "engagement"},
    ],
    "categorical": [{"name": "channel", "column": "channel", "lookup": "channels"}],
}  # fmt: skip


def test_a_custom_feature_set_drives_every_layer(tmp_path):
    run = assert_ok(build(tmp_path, features=CUSTOM_FEATURES, k=5, n_init=10))
    features = run.query(
        "select feature_name, feature_kind, feature_transform from marts.feature_definitions "
        "order by feature_position"
    )
    assert features[:2] == [
        ("customer_lifetime_value", "numeric", "log1p"),
        ("minutes_watched", "numeric", "none"),
    ]
    assert [f[1] for f in features[2:]] == ["one_hot"] * 8
    columns = {
        row[0]
        for row in run.query(
            "select column_name from information_schema.columns "
            "where table_name = 'customer_segments'"
        )
    }
    assert {"channel_name", "customer_lifetime_value", "minutes_watched"} <= columns
    assert not {c for c in columns if c.startswith("region")}
    # The fit saw ln(1 + CLV); centroids come back in currency through expm1, and SQL scoring
    # (which applies the same transform) agrees with the Python assignment.
    assert run.scalar("select count(*) from ml.ml_kmeans_fit where k != 5") == 0
    log_means = run.query(
        """
        select max(abs(ln(1 + centroid_original) - (centroid_z * feature_std + feature_mean)))
        from marts.segment_centroids where feature_name = 'customer_lifetime_value'
        """
    )[0][0]
    assert log_means < 1e-9
    assert (
        run.scalar(
            """
        select count(*) from marts.scored_customers as scored
        join marts.customer_segments as fitted using (customer_id)
        where scored.segment_id != fitted.segment_id
        """
        )
        == 0
    )
    assert run.scalar("select count(*) from marts.category_association_tests") == 0
    assert run.scalar("select count(*) from marts.category_effect_tests") == 2


@pytest.mark.parametrize(
    ("dbt_vars", "message"),
    [
        ({"features": {"numeric": [{"name": "clv", "column": "CLV", "transform": "sqrt"}]}},
         "feature 'clv': transform must be none or log1p, got 'sqrt'"),
        ({"features": {"numeric": [{"name": "clv", "column": "CLV", "name_levels": [1.1, 0.9]}]}},
         "feature 'clv': name_levels are [high, low] mean positions of a segment's customers "
         "among all customers, 0 < low < high < 1 (default [0.8, 0.2]); got [1.1, 0.9]"),
        ({"features": "nope"}, "var 'features': no feature set named 'nope'"),
        ({"features": {"numeric": [{"name": "spend", "column": "spend"}]}},
         "required column 'spend' is missing"),
        ({"preset": "rfm", "features": {"input_kind": "transactions",
          "numeric": [{"name": "minutes_watched"}]}},
         "'minutes_watched' is not one of recency_days, frequency, monetary, mean_unit_cost"),
    ],
)  # fmt: skip
def test_bad_feature_configurations_fail_with_a_clear_message(tmp_path, dbt_vars, message):
    run = build(tmp_path, **dbt_vars)
    assert run.returncode != 0
    assert message in run.output
