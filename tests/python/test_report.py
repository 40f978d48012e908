"""The HTML report, rendered from real dbt builds: the demo (case-study features), the rfm preset
on the demo purchases, a custom one-measure set, and the published serving file."""

from __future__ import annotations

import base64
import html
import re
import struct
import subprocess
import sys
from pathlib import Path

import duckdb
import markupsafe
import numpy as np
import pytest
from conftest import DbtRun, assert_ok, run_dbt, shared_build
from scipy.cluster.hierarchy import fcluster, linkage

from customer_segmentation import report
from customer_segmentation.features import FeatureSet
from customer_segmentation.report import (
    CHART_IDS,
    PREVIOUS_RUN_CHART_IDS,
    ReportError,
    categories,
    charts,
    drawing,
    lifecycle,
    reading,
    render_report,
)
from customer_segmentation.scaling import column_z_scores

pytestmark = pytest.mark.e2e

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TABLE_IDS = ("table-profiles", "table-categories", "table-effects-kw", "table-effects-chi")
#: A first build of a database has no previous run: no migration and drift charts.
FIRST_RUN_CHARTS = tuple(c for c in CHART_IDS if c not in PREVIOUS_RUN_CHART_IDS)
CATEGORY_CHARTS = ("chart-categories", "chart-residuals")
SCATTER_CHARTS = ("chart-scatter", "chart-segments", "chart-segments-z")
FIGURE = re.compile(
    r'<figure id="(?P<id>chart-[a-z-]+)">\s*'
    r'<img src="data:image/png;base64,(?P<data>[A-Za-z0-9+/=]+)"[^>]*>\s*'
    r"<figcaption>(?P<caption>[^<]+)</figcaption>\s*</figure>"
)
# Words of the case study that must not show in a report on other features.
CASE_STUDY_WORDS = re.compile(r"region|channel|\bCLV\b|lifetime|minutes", re.I)
CUSTOM_FEATURES = {
    "input_kind": "customers",
    "numeric": [
        {
            "name": "customer_lifetime_value",
            "column": "CLV",
            "label": "spend to date",
            "summable": True,
            "transform": "log1p",
            "min": 0,
            "role": "value",
        }
    ],
    "categorical": [{"name": "channel", "column": "channel", "lookup": "channels"}],
    "name_parts": ["customer_lifetime_value", "channel"],
}


# The rfm page reads the session's rfm build (conftest.rfm_build: the demo purchases through
# the rfm preset, no categorical features), the same one test_e2e_rfm.py reads.


@pytest.fixture(scope="session")
def custom_report_build(tmp_path_factory) -> DbtRun:
    """The demo customers with a custom set: one log1p measure and one categorical."""
    return shared_build(
        tmp_path_factory,
        "custom_report",
        stability=True,
        features=CUSTOM_FEATURES,
        k=4,
        n_init=10,
    )


def _render(run: DbtRun, folder: Path) -> tuple[report.ReportResult, str]:
    result = render_report(run.database, folder / "report.html")
    return result, result.path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rendered(demo_build, tmp_path_factory) -> tuple[report.ReportResult, str]:
    out = tmp_path_factory.mktemp("report") / "nested" / "folder" / "report.html"
    result = render_report(demo_build.database, out)
    return result, out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rfm_rendered(rfm_build, tmp_path_factory) -> tuple[report.ReportResult, str]:
    return _render(rfm_build, tmp_path_factory.mktemp("rfm_page"))


@pytest.fixture(scope="module")
def custom_rendered(custom_report_build, tmp_path_factory) -> tuple[report.ReportResult, str]:
    return _render(custom_report_build, tmp_path_factory.mktemp("custom_page"))


def _figures(page: str) -> dict[str, re.Match]:
    return {match["id"]: match for match in FIGURE.finditer(page)}


def _caption(page: str, chart_id: str) -> str:
    return html.unescape(_figures(page)[chart_id]["caption"])


def _table(page: str, table_id: str) -> str:
    match = re.search(rf'<table id="{table_id}"[^>]*>.*?</table>', page, re.S)
    assert match, f"no table {table_id}"
    return match.group(0)


def _body_rows(table: str) -> int:
    return table.split("<tbody>", 1)[1].count("<tr>")


def _visible(page: str) -> str:
    """The page without its embedded images (base64 holds any letters)."""
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def _report_measures(run: DbtRun) -> list[tuple[str, str, str]]:
    """(name, label, transform) of the measures in report order: summable first."""
    return run.query(
        """
        select feature_name, feature_label, feature_transform
        from marts.feature_definitions
        where feature_kind = 'numeric'
        order by is_summable desc, feature_position
        """
    )


def _z_outliers(run: DbtRun, limit: float = 3.0) -> int:
    """Customers with |z| > limit on either of the first two measures, in numpy."""
    (y, _, y_transform), (x, _, x_transform) = _report_measures(run)[:2]
    scaler = {
        name: (mean, std)
        for name, mean, std in run.query(
            "select distinct feature_name, feature_mean, feature_std from marts.segment_centroids"
        )
    }
    values = np.array(run.query(f"select {x}, {y} from marts.customer_segments"), dtype=float)
    z = []
    for column, (name, transform) in enumerate(((x, x_transform), (y, y_transform))):
        fitted = np.log1p(values[:, column]) if transform == "log1p" else values[:, column]
        mean, std = scaler[name]
        z.append((fitted - mean) / std)
    return int(np.any(np.abs(np.column_stack(z)) > limit, axis=1).sum())


def _assert_real_figures(page: str, chart_ids: list[str]) -> None:
    figures = _figures(page)
    assert list(figures) == chart_ids
    for chart_id, match in figures.items():
        assert page.count(f'id="{chart_id}"') == 1
        png = base64.b64decode(match["data"], validate=True)
        assert len(png) > 5_000, chart_id
        width, height = _png_size(png)
        assert width > 200 and height > 200, (chart_id, width, height)
        assert len(match["caption"].strip()) > 20, chart_id


# --------------------------------------------------------------------------------------------
# The case-study features (demo build)


def test_result_describes_the_file(rendered):
    result, page = rendered
    assert result.path.exists()
    assert result.bytes == result.path.stat().st_size == len(page.encode("utf-8"))
    assert result.seconds > 0
    assert result.chart_ids == list(FIRST_RUN_CHARTS)
    assert not list(result.path.parent.glob(".*partial"))


def test_every_chart_once_with_a_real_png(rendered):
    _, page = rendered
    _assert_real_figures(page, list(FIRST_RUN_CHARTS))


def test_tables_present(rendered):
    _, page = rendered
    for table_id in (*TABLE_IDS, "table-run"):
        assert page.count(f'id="{table_id}"') == 1


def test_profiles_table_has_one_row_per_segment_with_its_action(rendered, demo_build):
    _, page = rendered
    table = _table(page, "table-profiles")
    segments = demo_build.query(
        "select segment_name, recommended_action from marts.segment_profiles"
    )
    assert _body_rows(table) == len(segments)
    assert "<th>recommended action</th>" in table
    text = html.unescape(re.sub(r"<[^>]+>", "", table))
    for name, action in segments:
        assert name in text and action in text


def test_profiles_table_has_a_column_per_measure_and_categorical(rendered, demo_build):
    _, page = rendered
    head = html.unescape(_table(page, "table-profiles").split("</thead>", 1)[0])
    for _, label, _ in _report_measures(demo_build):
        assert f">{label}<br>" in head
    categoricals = demo_build.query(
        "select distinct source_feature from marts.feature_definitions where feature_kind = "
        "'one_hot'"
    )
    for (name,) in categoricals:
        assert f"<th>dominant {name}</th>" in head


def test_category_table_is_a_matrix(rendered, demo_build):
    _, page = rendered
    table = _table(page, "table-categories")
    regions = demo_build.scalar("select count(distinct region_code) from marts.customer_segments")
    channels = demo_build.scalar("select count(distinct channel_code) from marts.customer_segments")
    assert _body_rows(table) == regions + 1  # fewer categories as rows, + the all-regions row
    header = table.split("</thead>", 1)[0]
    assert len(re.findall(r"<th[ >]", header)) == channels + 2  # corner + channels + all
    assert "<h2>Mean customer lifetime value by channel and region</h2>" in page


def test_run_table_is_the_newest_run(rendered, demo_build):
    _, page = rendered
    run_id = demo_build.scalar(
        "select run_id from marts.segmentation_runs order by run_started_at desc limit 1"
    )
    table = _table(page, "table-run")
    assert run_id in table
    assert "<th>input_source</th>" in table


def test_self_contained(rendered):
    result, page = rendered
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower() and "<link" not in page.lower()
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == len(result.chart_ids)
    assert all(source.startswith("data:image/png;base64,") for source in sources)


def test_header_and_scatter_captions(rendered, demo_build):
    _, page = rendered
    total = demo_build.scalar("select count(*) from marts.customer_segments")
    source = demo_build.scalar("select input_source from marts.segmentation_runs")
    assert "<h1>Customer segmentation report</h1>" in page
    assert str(markupsafe.escape(source)) in page  # escaped as the template escapes it
    assert "'" not in source or source not in page  # quotes (seed 'demo_customers') escaped
    for chart_id in SCATTER_CHARTS:
        assert f"sample of {total:,} of {total:,} customers" in _caption(page, chart_id)


def test_scatters_plot_the_first_two_measures(rendered, demo_build):
    _, page = rendered
    (_, y_label, _), (_, x_label, _) = _report_measures(demo_build)[:2]
    assert y_label == "customer lifetime value"  # the summable measure comes first
    caption = _caption(page, "chart-scatter")
    assert f"{y_label} (y, the first measure in report order) against {x_label} (x" in caption
    assert f"{x_label} is strongly skewed" in caption  # minutes watched: symlog axis


def test_z_scatter_drops_the_outliers_it_reports(rendered, demo_build):
    _, page = rendered
    total = demo_build.scalar("select count(*) from marts.customer_segments")
    expected = _z_outliers(demo_build)
    assert 0 < expected < total
    caption = _caption(page, "chart-segments-z")
    assert "|z| > 3 on either axis are dropped" in caption
    assert f"dropped: {expected:,} of the {total:,} sampled customers" in caption


def test_box_plots_and_bars_cover_every_measure(rendered, demo_build):
    _, page = rendered
    labels = [label for _, label, _ in _report_measures(demo_build)]
    boxes, bars = _caption(page, "chart-boxplots"), _caption(page, "chart-profiles")
    for label in labels:
        assert label in boxes and label in bars
    assert "Fliers (customers beyond the whiskers) are not drawn" in boxes
    assert "mean over all customers" in bars


def test_box_statistics_match_numpy(demo_build):
    measure = "minutes_watched"
    with duckdb.connect(str(demo_build.database), read_only=True) as con:
        boxes = reading.box_statistics(con, measure)
    rows = np.array(
        demo_build.query(f"select segment_id, {measure} from marts.customer_segments"),
        dtype=float,
    )
    assert sorted(boxes) == sorted(np.unique(rows[:, 0]).astype(int).tolist())
    for segment_id, box in boxes.items():
        values = rows[rows[:, 0] == segment_id, 1]
        q1, median, q3 = np.percentile(values, [25, 50, 75])
        low, high = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        np.testing.assert_allclose([box["q1"], box["med"], box["q3"]], [q1, median, q3])
        assert box["whislo"] == values[values >= low].min()
        assert box["whishi"] == values[values <= high].max()
        assert box["beyond"] == int(((values < low) | (values > high)).sum())
        assert box["count"] == len(values)


def test_effect_tables_have_a_row_per_test(rendered, demo_build):
    _, page = rendered
    kw = _table(page, "table-effects-kw")
    chi = _table(page, "table-effects-chi")
    assert _body_rows(kw) == demo_build.scalar("select count(*) from marts.category_effect_tests")
    assert _body_rows(chi) == demo_build.scalar(
        "select count(*) from marts.category_association_tests"
    )
    for _, label, _ in _report_measures(demo_build):
        assert f"<td>{label}</td>" in kw
    for header in ('<th class="num">H</th>', '<th class="num">ε²</th>', "<th>magnitude</th>"):
        assert header in kw
    assert '<th class="num">χ²</th>' in chi and "Cramér's V" in html.unescape(chi)


def test_residual_heatmap_marks_the_cells_beyond_two(rendered, demo_build):
    _, page = rendered
    row_feature, col_feature = demo_build.query(
        "select row_feature, col_feature from marts.category_association_tests"
    )[0]
    beyond = demo_build.scalar(
        f"""
        select count(*) from marts.category_association_cells
        where row_feature = '{row_feature}' and col_feature = '{col_feature}'
            and abs(adjusted_residual) > 2
        """
    )
    cells = demo_build.scalar(
        f"""
        select count(*) from marts.category_association_cells
        where row_feature = '{row_feature}' and col_feature = '{col_feature}'
        """
    )
    caption = _caption(page, "chart-residuals")
    assert f"{beyond} of {cells} cells lie beyond ±2" in caption
    assert f"{row_feature} × {col_feature}" in caption


def test_large_inputs_are_sampled(demo_build, tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "SCATTER_MAX_POINTS", 1_000)
    columns = ["minutes_watched", "customer_lifetime_value"]
    with duckdb.connect(str(demo_build.database), read_only=True) as con:
        first, total = reading.scatter_sample(con, columns)
        second, _ = reading.scatter_sample(con, columns)
    assert len(first["customer_id"]) == 1_000
    assert set(first) == {"customer_id", "segment_id", *columns}
    np.testing.assert_array_equal(first["customer_id"], second["customer_id"])
    result = render_report(demo_build.database, tmp_path / "sampled.html")
    page = result.path.read_text()
    for chart_id in SCATTER_CHARTS:
        assert f"sample of 1,000 of {total:,} customers" in _caption(page, chart_id)
    caption = _caption(page, "chart-segments-z")
    assert f"{_z_outliers(demo_build):,} of all {total:,} customers match the rule" in caption
    dropped = int(re.search(r"dropped: ([\d,]+) of the 1,000 sampled", caption)[1])
    assert dropped <= _z_outliers(demo_build)


def test_correlations_match_numpy(demo_build):
    with duckdb.connect(str(demo_build.database), read_only=True) as con:
        labels, matrix = reading.correlation_matrix(con)
        rows = con.execute(
            """
            select minutes_watched, customer_lifetime_value, region_code, channel_code
            from marts.customer_segments
            """
        ).fetchnumpy()
    regions = np.unique(rows["region_code"])
    channels = np.unique(rows["channel_code"])
    columns = [rows["minutes_watched"], rows["customer_lifetime_value"]]
    columns += [(rows["region_code"] == code).astype(float) for code in regions]
    columns += [(rows["channel_code"] == code).astype(float) for code in channels]
    expected = np.corrcoef(np.vstack(columns))
    assert len(labels) == 2 + len(regions) + len(channels)
    assert labels[:2] == ["minutes watched", "customer lifetime value"]  # fit order
    assert labels[2].startswith("region: ") and labels[-1].startswith("channel: ")
    np.testing.assert_allclose(matrix, expected, atol=1e-9)


def test_features_derived_without_feature_definitions_match(demo_build):
    """The fallback for databases without marts.feature_definitions (e.g. a serving file)
    finds the same measures, summable flags and categories."""
    with duckdb.connect(str(demo_build.database), read_only=True) as con:
        declared = reading.read_features(con)
        fit = reading.records(
            con,
            "select distinct feature_name, feature_position, feature_kind, feature_transform "
            "from marts.segment_centroids",
        )
        profiles = {r[0] for r in con.execute("describe marts.segment_profiles").fetchall()}
        derived = FeatureSet.from_rows(
            reading.derived_definitions(fit, profiles, reading.categories_present(con))
        )
    assert [m.name for m in derived.report_measures] == [m.name for m in declared.report_measures]
    assert [m.is_summable for m in derived.report_measures] == [
        m.is_summable for m in declared.report_measures
    ]
    assert derived.categoricals == declared.categoricals


def test_dendrogram_cut_leaves_k_clusters(demo_build):
    merges = np.array(
        demo_build.query(
            """
            select left_node_id, right_node_id, height, count_leaves
            from marts.segment_dendrogram order by merge_step
            """
        ),
        dtype=float,
    )
    k = demo_build.scalar("select k from marts.segmentation_runs")
    cut = charts.cut_height(merges, k)
    assert len(np.unique(fcluster(merges, t=cut, criterion="distance"))) == k
    ward_clusters = demo_build.scalar(
        "select count(distinct ward_cluster) from marts.customer_segments"
    )
    assert ward_clusters == k


@pytest.mark.parametrize("k", [2, 3, 5, 19, 20])
def test_cut_height_on_a_small_tree(k):
    points = np.random.default_rng(0).normal(size=(20, 3))
    merges = linkage(points, method="ward")
    cut = charts.cut_height(merges, k)
    assert len(np.unique(fcluster(merges, t=cut, criterion="distance"))) == k
    assert charts.cut_height(merges, 1) is None
    assert charts.cut_height(merges, 21) is None


def test_renders_from_the_serving_file(demo_build, tmp_path):
    from customer_segmentation.publish import publish

    published = publish(demo_build.database, tmp_path / "serving")
    with duckdb.connect(str(published.serving_file), read_only=True) as con:
        has_cells = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'marts' "
            "and table_name = 'category_association_cells'"
        ).fetchone()[0]
    result = render_report(published.serving_file, tmp_path / "from_serving.html")
    expected = [c for c in FIRST_RUN_CHARTS if has_cells or c != "chart-residuals"]
    assert result.chart_ids == expected
    page = result.path.read_text()
    assert published.run_id in page
    assert "customer lifetime value" in page  # labels derived when feature_definitions is absent


def test_without_effect_tests_the_chart_ids_are_the_page_figures(demo_build, tmp_path):
    """A database without marts.category_effect_tests (and feature_definitions): the effect
    section is a note, and chart_ids lists exactly the figures the page holds."""
    copy = tmp_path / "no_effects.duckdb"
    copy.write_bytes(demo_build.database.read_bytes())
    with duckdb.connect(str(copy)) as con:
        con.execute("drop table marts.category_effect_tests")
        con.execute("drop table marts.feature_definitions")
    result = render_report(copy, tmp_path / "no_effects.html")
    page = result.path.read_text()
    assert result.chart_ids == list(_figures(page))
    assert "chart-residuals" not in result.chart_ids and "chart-categories" in result.chart_ids
    assert "No effect tests: this database has no marts.category_effect_tests" in page


def test_no_figures_left_open(rendered):
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []


def test_missing_marts_named(tmp_path):
    database = tmp_path / "partial.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.customer_segments as select 1 as customer_id")
    with pytest.raises(ReportError) as error:
        render_report(database, tmp_path / "never.html")
    message = str(error.value)
    assert str(database) in message
    assert "marts.segment_profiles" in message and "marts.segmentation_runs" in message
    assert "marts.customer_segments" not in message
    assert "dbt build" in message
    assert not (tmp_path / "never.html").exists()


# --------------------------------------------------------------------------------------------
# Other feature sets


def test_rfm_report_follows_its_features(rfm_rendered, rfm_build):
    result, page = rfm_rendered
    expected = [c for c in FIRST_RUN_CHARTS if c not in CATEGORY_CHARTS]
    assert result.chart_ids == expected
    _assert_real_figures(page, expected)
    assert CASE_STUDY_WORDS.findall(_visible(page)) == []
    labels = [label for _, label, _ in _report_measures(rfm_build)]
    assert len(labels) == 4
    for chart_id in ("chart-profiles", "chart-boxplots"):
        caption = _caption(page, chart_id)
        assert all(label in caption for label in labels), chart_id
    assert f"{labels[0]} (y, the first measure in report order)" in _caption(page, "chart-scatter")


def test_rfm_report_tables(rfm_rendered, rfm_build):
    _, page = rfm_rendered
    table = _table(page, "table-profiles")
    segments = rfm_build.query("select recommended_action from marts.segment_profiles")
    assert _body_rows(table) == len(segments)
    text = html.unescape(re.sub(r"<[^>]+>", "", table))
    assert all(action in text for (action,) in segments)
    assert "dominant" not in table
    for table_id in TABLE_IDS[1:]:
        assert f'id="{table_id}"' not in page
    assert "has no categorical features" in page
    assert "<h2>Effect tests</h2>" in page


def test_rfm_z_scatter_outliers(rfm_rendered, rfm_build):
    _, page = rfm_rendered
    total = rfm_build.scalar("select count(*) from marts.customer_segments")
    expected = _z_outliers(rfm_build)
    assert f"dropped: {expected:,} of the {total:,} sampled customers" in _caption(
        page, "chart-segments-z"
    )


def test_custom_set_with_one_measure_and_one_categorical(custom_rendered, custom_report_build):
    result, page = custom_rendered
    expected = [
        c for c in FIRST_RUN_CHARTS if c not in SCATTER_CHARTS and c not in ("chart-residuals",)
    ]
    assert result.chart_ids == expected
    _assert_real_figures(page, expected)
    assert "fewer than two measures" in page
    assert "spend to date" in _caption(page, "chart-boxplots")
    kw = _table(page, "table-effects-kw")
    assert _body_rows(kw) == custom_report_build.scalar(
        "select count(*) from marts.category_effect_tests"
    )
    assert "One categorical feature: no pair to test." in page
    table = _table(page, "table-categories")
    channels = custom_report_build.scalar(
        "select count(distinct channel_code) from marts.customer_segments"
    )
    assert _body_rows(table) == 1  # all customers only
    assert len(re.findall(r"<th[ >]", table.split("</thead>", 1)[0])) == channels + 2
    assert not re.search(r"region", _visible(page), re.I)


# --------------------------------------------------------------------------------------------
# Pure helpers


def test_report_order_puts_summable_measures_first():
    rows = [
        {
            "feature_position": position,
            "feature_name": name,
            "feature_kind": kind,
            "source_feature": source,
            "feature_label": label,
            "feature_transform": "none",
            "is_summable": summable,
            "category_code": code,
            "feature_set": "feature set 'x'",
        }
        for position, name, kind, source, label, summable, code in [
            (3, "is_tier_gold", "one_hot", "tier", "Gold", False, 2),
            (1, "visits", "numeric", "visits", "visits", False, None),
            (2, "revenue", "numeric", "revenue", "revenue", True, None),
            (4, "is_tier_basic", "one_hot", "tier", "Basic", False, 1),
        ]
    ]
    features = FeatureSet.from_rows(rows)
    assert [m.name for m in features.report_measures] == ["revenue", "visits"]
    assert [m.name for m in features.measures] == ["visits", "revenue"]  # fit order
    assert features.set_name == "feature set 'x'"
    assert [c.name for c in features.categoricals] == ["tier"]
    assert features.categoricals[0].categories == ((1, "Basic"), (2, "Gold"))
    assert categories.category_pair(features) == (None, features.categoricals[0])


def test_z_scores_and_outlier_rule():
    values = np.array([0.0, 1.0, np.e - 1, 100.0])
    np.testing.assert_allclose(column_z_scores(values, 1.0, 2.0), (values - 1.0) / 2.0)
    np.testing.assert_allclose(
        column_z_scores(values, 0.0, 1.0, "log1p"), np.log1p(values), atol=1e-12
    )
    assert column_z_scores(values, 5.0, 0.0).tolist() == (values - 5.0).tolist()  # constant
    z = np.array([[0.0, 3.0], [-3.01, 0.0], [2.9, -2.9], [np.nan, 0.0], [0.0, 4.0]])
    assert reading.outlier_mask(z).tolist() == [False, True, False, False, True]


def test_axis_scale_uses_symlog_for_skewed_non_negative_measures():
    skewed = reading.MeasureStats(10.0, 0.0, 3.0, 1e5, 9.0, 100)
    assert drawing.axis_scale(skewed) == drawing.AxisScale("symlog", 1.0, True)
    small = reading.MeasureStats(0.1, 0.0, 0.02, 5.0, 4.0, 100)
    assert drawing.axis_scale(small).linthresh == pytest.approx(0.01)
    assert (
        drawing.axis_scale(reading.MeasureStats(10.0, 2.0, 3.0, 1e5, 9.0, 100)).from_zero is False
    )
    assert drawing.axis_scale(reading.MeasureStats(1.0, -5.0, 0.0, 1e5, 9.0, 100)).kind == "linear"
    assert drawing.axis_scale(reading.MeasureStats(1.0, 0.0, 1.0, 2.0, 0.5, 100)).kind == "linear"


def test_residual_matrix_orders_and_marks_cells():
    cells = [
        {"row_value": r, "col_value": c, "adjusted_residual": v, "is_low_expected": low}
        for r, c, v, low in [
            ("b", "x", 2.5, False),
            ("a", "x", -2.5, True),
            ("b", "y", 0.1, False),
            ("a", "y", None, False),
        ]
    ]
    rows, columns, residuals, low = categories.residual_matrix(cells, ["b", "a"], [])
    assert rows == ["b", "a"] and columns == ["x", "y"]
    np.testing.assert_array_equal(residuals, [[2.5, 0.1], [-2.5, np.nan]])
    assert low.tolist() == [[False, False], [True, False]]


def test_page_escapes_every_value_and_lays_out_the_tables():
    """The template autoescapes: a hostile segment name or input source stays text."""
    from customer_segmentation.report import page

    features = FeatureSet.from_rows(
        [
            {
                "feature_position": 1,
                "feature_name": "spend",
                "feature_kind": "numeric",
                "source_feature": "spend",
                "feature_label": "spend <em>",
                "is_summable": True,
            }
        ]
    )
    profile = {
        "segment_id": 1,
        "segment_name": "<script>alert(1)</script>",
        "count_customers": 12_345,
        "share_of_customers": 1.0,
        "avg_spend": 2.5,
        "median_spend": 2.0,
        "share_of_spend": 1.0,
        "recommended_action": "Retain: call <b>now</b>",
    }
    stats = {"spend": reading.MeasureStats(2.5, 0.0, 2.0, 9.0, 0.1, 12_345)}
    run = {"input_source": "file '<x>.csv'", "k": 1, "k_rule": "fixed"}
    tables = {
        "table-profiles": page.profiles_table([profile], features, stats),
        "table-run": page.run_table(run),
    }
    content = page.Page(Path("db.duckdb"), run, features, 1, {}, tables, set())
    text = page.render(content)
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<b>now</b>" not in text and "<b>Retain</b>: call &lt;b&gt;now&lt;/b&gt;" in text
    assert "spend &lt;em&gt;<br><small>mean / median</small>" in text
    assert "<code>file &#39;&lt;x&gt;.csv&#39;</code>" in text
    profiles_html = _table(text, "table-profiles")
    assert _body_rows(profiles_html) == 1 and "12,345<br><small>100.0%</small>" in profiles_html
    assert "No effect tests" in text  # no categoricals: the note instead of the tables


# --------------------------------------------------------------------------------------------
# The segment lifecycle: stability, and migration and drift from the second build on


@pytest.fixture(scope="module")
def second_run(demo_build, tmp_path_factory) -> tuple[DbtRun, str]:
    """A copy of the demo database rebuilt once more (n_init 10, so the fit may move): its
    report compares the two runs."""
    folder = tmp_path_factory.mktemp("second_run")
    copy = folder / "two_runs.duckdb"
    copy.write_bytes(demo_build.database.read_bytes())
    built = assert_ok(run_dbt(copy, "build", dbt_vars={"n_init": 10}, stability=True))
    _, page = _render(built, folder)
    return built, page


def test_first_run_shows_stability_and_says_no_previous_run(rendered, demo_build):
    _, page = rendered
    assert "No previous run in this database" in page
    assert "chart-migration" not in page and 'id="table-drift"' not in page
    caption = _caption(page, "chart-stability")
    resamples, size = demo_build.query(
        "select bootstrap_resamples, bootstrap_sample_size from marts.segmentation_runs"
    )[0]
    assert f"over {resamples} resamples of {size:,} customers" in caption


def test_second_run_shows_migration_and_drift_against_thresholds(second_run):
    built, page = second_run
    _assert_real_figures(page, list(CHART_IDS))
    assert "No previous run in this database" not in page
    run_id = built.scalar("select run_id from marts.segmentation_runs order by run_started_at desc")
    drift = built.query(
        "select adjusted_rand_index, min_ari_threshold, max_centroid_shift_z, "
        "max_centroid_shift_threshold, population_stability_index, max_psi_threshold "
        f"from marts.segment_drift where run_id = '{run_id}'"
    )[0]
    table = _table(page, "table-drift")
    assert _body_rows(table) == 3
    statuses = re.findall(r'<td class="status (pass|warn|na)">', table)
    ari, min_ari, shift, max_shift, psi, max_psi = drift
    expected = [
        "pass" if ari >= min_ari else "warn",
        "na" if shift is None else ("pass" if shift <= max_shift else "warn"),
        "pass" if psi <= max_psi else "warn",
    ]
    assert statuses == expected
    assert f"{min_ari:g}" in table and f"{max_psi:g}" in table
    moved = built.scalar(
        "select coalesce(sum(count_customers), 0) from marts.segment_transitions "
        f"where run_id = '{run_id}' and from_segment_id <> to_segment_id"
    )
    assert f"{moved:,} customers of both runs changed segment id" in _caption(
        page, "chart-migration"
    )


def test_without_stability_figures_the_page_says_so(demo_build, tmp_path):
    copy = tmp_path / "no_stability.duckdb"
    copy.write_bytes(demo_build.database.read_bytes())
    with duckdb.connect(str(copy)) as con:
        con.execute("update marts.segment_profiles set bootstrap_jaccard = null")
    result = render_report(copy, tmp_path / "no_stability.html")
    assert "chart-stability" not in result.chart_ids
    assert "No stability figures for this run" in result.path.read_text()


def test_migration_matrix_and_drift_status_by_hand():
    cells = [
        {"from_segment_id": None, "to_segment_id": 2, "count_customers": 5},
        {"from_segment_id": 1, "to_segment_id": 1, "count_customers": 8},
        {"from_segment_id": 1, "to_segment_id": 3, "count_customers": 2},
        {"from_segment_id": 2, "to_segment_id": None, "count_customers": 4},
    ]
    rows, columns, counts = lifecycle.migration_matrix(cells)
    assert rows == ["1", "2", "new"] and columns == ["1", "2", "3", "gone"]
    np.testing.assert_array_equal(counts, [[8, 0, 2, 0], [0, 0, 0, 4], [0, 5, 0, 0]])
    checks = lifecycle.drift_checks(
        {
            "adjusted_rand_index": 0.7,
            "min_ari_threshold": 0.8,
            "max_centroid_shift_z": None,
            "max_centroid_shift_threshold": 0.5,
            "population_stability_index": 0.1,
            "max_psi_threshold": 0.25,
        }
    )
    assert [c.status for c in checks] == ["warn", "n/a", "pass"]


# --------------------------------------------------------------------------------------------
# Command line


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "customer_segmentation.report", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_writes_the_report(demo_build, tmp_path):
    out = tmp_path / "reports" / "segmentation_report.html"
    completed = _cli("--database", str(demo_build.database), "--out", str(out), cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.strip().splitlines()
    assert len(lines) == 1
    assert (
        str(out) in lines[0] and " KB" in lines[0] and f"{len(FIRST_RUN_CHARTS)} charts" in lines[0]
    )
    assert out.exists()


def test_cli_missing_database_exits_2(tmp_path):
    missing = tmp_path / "nope.duckdb"
    completed = _cli("--database", str(missing), "--out", str(tmp_path / "r.html"), cwd=tmp_path)
    assert completed.returncode == 2
    assert str(missing) in completed.stderr
    assert "make demo" in completed.stderr and "dbt build" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not (tmp_path / "r.html").exists()
