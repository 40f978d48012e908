"""End to end on the real case-study file (../shared/data), skipped where it is absent."""

import pytest

pytestmark = pytest.mark.e2e


def test_all_rows_in_and_segmented(real_build):
    assert real_build.scalar("select count(*) from staging.stg_customer_input") == 3834
    assert real_build.scalar("select count(*) from marts.customer_segments") == 3834
    assert real_build.scalar("select count(*) from marts.rejected_customer_rows") == 0


def test_blank_minutes_are_zero_filled_and_flagged(real_build):
    flagged, zero = real_build.query(
        """
        select count_if(minutes_was_missing), count_if(minutes_was_missing and minutes_watched = 0)
        from marts.customer_segments
        """
    )[0]
    assert flagged == 109 and zero == 109


def test_one_hot_columns_sum_to_one(real_build):
    regions, channels = real_build.query(
        """
        select
            count_if(
                is_region_anglosphere + is_region_western_europe + is_region_rest_of_world != 1
            ),
            count_if(
                is_channel_google + is_channel_facebook + is_channel_youtube + is_channel_linkedin
                + is_channel_twitter + is_channel_instagram + is_channel_friend + is_channel_other
                != 1
            )
        from intermediate.int_customer_features
        """
    )[0]
    assert (regions, channels) == (0, 0)


def test_z_scores_have_mean_zero_and_population_std_one(real_build):
    columns = [
        row[0]
        for row in real_build.query(
            """
            select column_name from information_schema.columns
            where table_name = 'ml_customer_features_z' and column_name like '%\\_z' escape '\\'
            """
        )
    ]
    assert len(columns) == 13
    for column in columns:
        mean, std = real_build.query(
            f"select avg({column}), stddev_pop({column}) from ml.ml_customer_features_z"
        )[0]
        assert mean == pytest.approx(0, abs=1e-12), column
        assert std == pytest.approx(1, rel=1e-12), column


def test_eight_segments_and_k1_wcss_is_n_times_features(real_build):
    assert real_build.scalar("select count(distinct segment_id) from marts.customer_segments") == 8
    wcss_k1 = real_build.scalar("select wcss from ml.ml_k_diagnostics where k = 1")
    assert wcss_k1 == pytest.approx(13 * 3834, rel=1e-12)
