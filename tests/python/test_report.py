"""The HTML report, rendered from a real dbt build of the demo data (and its serving file)."""

from __future__ import annotations

import base64
import re
import struct
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage

from customer_segmentation import report
from customer_segmentation.report import CHART_IDS, ReportError, render_report

pytestmark = pytest.mark.e2e

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TABLE_IDS = ("table-profiles", "table-region-channel", "table-run")
FIGURE = re.compile(
    r'<figure id="(?P<id>chart-[a-z-]+)">\s*'
    r'<img src="data:image/png;base64,(?P<data>[A-Za-z0-9+/=]+)"[^>]*>\s*'
    r"<figcaption>(?P<caption>[^<]+)</figcaption>\s*</figure>"
)


@pytest.fixture(scope="module")
def rendered(demo_build, tmp_path_factory) -> tuple[report.ReportResult, str]:
    out = tmp_path_factory.mktemp("report") / "nested" / "folder" / "report.html"
    result = render_report(demo_build.database, out)
    return result, out.read_text(encoding="utf-8")


def _figures(page: str) -> dict[str, re.Match]:
    return {match["id"]: match for match in FIGURE.finditer(page)}


def _table(page: str, table_id: str) -> str:
    match = re.search(rf'<table id="{table_id}"[^>]*>.*?</table>', page, re.S)
    assert match, f"no table {table_id}"
    return match.group(0)


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def test_result_describes_the_file(rendered):
    result, page = rendered
    assert result.path.exists()
    assert result.bytes == result.path.stat().st_size == len(page.encode("utf-8"))
    assert result.seconds > 0
    assert result.chart_ids == list(CHART_IDS)
    assert not list(result.path.parent.glob(".*partial"))


def test_every_chart_once_with_a_real_png(rendered):
    _, page = rendered
    figures = _figures(page)
    assert sorted(figures) == sorted(CHART_IDS)
    for chart_id, match in figures.items():
        assert page.count(f'id="{chart_id}"') == 1
        png = base64.b64decode(match["data"], validate=True)
        assert len(png) > 5_000, chart_id
        width, height = _png_size(png)
        assert width > 200 and height > 200, (chart_id, width, height)
        assert len(match["caption"].strip()) > 20, chart_id


def test_tables_present(rendered):
    _, page = rendered
    for table_id in TABLE_IDS:
        assert page.count(f'id="{table_id}"') == 1


def test_profiles_table_has_one_row_per_segment(rendered, demo_build):
    _, page = rendered
    body = _table(page, "table-profiles").split("<tbody>", 1)[1]
    segments = demo_build.scalar("select count(*) from marts.segment_profiles")
    assert body.count("<tr>") == segments
    for (name,) in demo_build.query("select segment_name from marts.segment_profiles"):
        assert name in page  # names are plain text here (no characters HTML would escape)


def test_region_channel_table_is_a_matrix(rendered, demo_build):
    _, page = rendered
    table = _table(page, "table-region-channel")
    regions = demo_build.scalar("select count(distinct region_code) from marts.customer_segments")
    channels = demo_build.scalar("select count(distinct channel_code) from marts.customer_segments")
    body = table.split("<tbody>", 1)[1]
    assert body.count("<tr>") == regions + 1  # + the all-regions row
    header = table.split("</thead>", 1)[0]
    cells = re.findall(r"<th[ >]", header)
    assert len(cells) == channels + 2  # corner + channels + all channels


def test_run_table_is_the_newest_run(rendered, demo_build):
    _, page = rendered
    run_id = demo_build.scalar(
        "select run_id from marts.segmentation_runs order by run_started_at desc limit 1"
    )
    table = _table(page, "table-run")
    assert run_id in table
    assert "<th>input_source</th>" in table


def test_self_contained(rendered):
    _, page = rendered
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower() and "<link" not in page.lower()
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == len(CHART_IDS)
    assert all(source.startswith("data:image/png;base64,") for source in sources)


def test_header_and_scatter_captions(rendered, demo_build):
    _, page = rendered
    total = demo_build.scalar("select count(*) from marts.customer_segments")
    source = demo_build.scalar("select input_source from marts.segmentation_runs")
    assert "<h1>Customer segmentation report</h1>" in page
    assert source.replace("'", "&#x27;") in page
    figures = _figures(page)
    for chart_id in ("chart-scatter", "chart-segments"):
        assert f"sample of {total:,} of {total:,} customers" in figures[chart_id]["caption"]


def test_large_inputs_are_sampled(demo_build, tmp_path, monkeypatch):
    monkeypatch.setattr(report, "SCATTER_MAX_POINTS", 1_000)
    with duckdb.connect(str(demo_build.database), read_only=True) as con:
        first, total = report._scatter_sample(con)
        second, _ = report._scatter_sample(con)
    assert len(first["customer_id"]) == 1_000
    np.testing.assert_array_equal(first["customer_id"], second["customer_id"])
    result = render_report(demo_build.database, tmp_path / "sampled.html")
    caption = _figures(result.path.read_text())["chart-scatter"]["caption"]
    assert f"sample of 1,000 of {total:,} customers" in caption


def test_correlations_match_numpy(demo_build):
    with duckdb.connect(str(demo_build.database), read_only=True) as con:
        labels, matrix = report.correlation_matrix(con)
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
    assert labels[:2] == ["minutes watched", "customer lifetime value"]
    np.testing.assert_allclose(matrix, expected, atol=1e-9)


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
    cut = report._cut_height(merges, k)
    assert len(np.unique(fcluster(merges, t=cut, criterion="distance"))) == k
    ward_clusters = demo_build.scalar(
        "select count(distinct ward_cluster) from marts.customer_segments"
    )
    assert ward_clusters == k


@pytest.mark.parametrize("k", [2, 3, 5, 19, 20])
def test_cut_height_on_a_small_tree(k):
    points = np.random.default_rng(0).normal(size=(20, 3))
    merges = linkage(points, method="ward")
    cut = report._cut_height(merges, k)
    assert len(np.unique(fcluster(merges, t=cut, criterion="distance"))) == k
    assert report._cut_height(merges, 1) is None
    assert report._cut_height(merges, 21) is None


def test_renders_from_the_serving_file(demo_build, tmp_path):
    from customer_segmentation.publish import publish

    published = publish(demo_build.database, tmp_path / "serving")
    result = render_report(published.serving_file, tmp_path / "from_serving.html")
    assert result.chart_ids == list(CHART_IDS)
    assert published.run_id in result.path.read_text()


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
    assert str(out) in lines[0] and " KB" in lines[0] and f"{len(CHART_IDS)} charts" in lines[0]
    assert out.exists()


def test_cli_missing_database_exits_2(tmp_path):
    missing = tmp_path / "nope.duckdb"
    completed = _cli("--database", str(missing), "--out", str(tmp_path / "r.html"), cwd=tmp_path)
    assert completed.returncode == 2
    assert str(missing) in completed.stderr
    assert "make demo" in completed.stderr and "dbt build" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not (tmp_path / "r.html").exists()
