"""Settings in one place: presets in dbt_project.yml, resolved by macro segmentation_settings
into int_segmentation_settings, read by the Python fits as typed SegmentationSettings."""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pytest
import yaml
from conftest import REPO, run_dbt

from customer_segmentation.settings import SegmentationSettings, SettingsError

FIT_FIELDS = [f.name for f in dataclasses.fields(SegmentationSettings)]


def _presets() -> dict:
    project = yaml.safe_load((REPO / "dbt_project.yml").read_text())
    return project["vars"]["presets"]


def test_dataclass_defaults_equal_the_default_preset():
    defaults = SegmentationSettings()
    for name, value in _presets()["default"].items():
        assert getattr(defaults, name) == value, name
    assert defaults.preset == "default"


def _show(tmp_path, **dbt_vars) -> tuple[int, dict | str]:
    """Build only int_segmentation_settings (a view of one row) and read it back."""
    run = run_dbt(
        tmp_path / "settings.duckdb",
        "run",
        "--select",
        "int_segmentation_settings",
        dbt_vars=dbt_vars or None,
    )
    if run.returncode != 0:
        return run.returncode, run.output
    table = run.query("select * from intermediate.int_segmentation_settings")
    columns = [
        row[0]
        for row in run.query(
            "select column_name from information_schema.columns "
            "where table_name = 'int_segmentation_settings' order by ordinal_position"
        )
    ]
    assert len(table) == 1
    return 0, dict(zip(columns, table[0], strict=True))


def test_the_rfm_preset_and_a_var_resolve_into_one_typed_row(tmp_path):
    code, row = _show(tmp_path, preset="rfm", k=5, n_init=3)
    assert code == 0, row
    rfm = {**_presets()["default"], **_presets()["rfm"], "k": 5, "n_init": 3}
    for name, value in rfm.items():
        assert row[name] == value, name
    assert row["preset"] == "rfm" and row["warm_start"] is None
    assert row["input_label"] == "seed demo_transactions"
    settings = SegmentationSettings.from_arrow(pa.Table.from_pylist([row]))
    assert (settings.k, settings.k_values, settings.n_init) == (5, list(range(2, 10)), 3)


@pytest.mark.parametrize(
    ("dbt_vars", "message"),
    [
        ({"k": "eight"}, "var 'k': expected an integer, got 'eight'"),
        ({"n_init": 0}, "var 'n_init': must be at least 1, got 0"),
        # feature_spec (parsed first) names the var too: no feature set of that name.
        ({"preset": "notebook"}, "var 'preset': no feature set named 'notebook'"),
        ({"k_rule": "gap"}, "var 'k_rule': unknown value 'gap'"),
        ({"k": 12}, "var 'k' (12) is outside the diagnostics range"),
    ],
)
def test_a_bad_var_stops_the_build_naming_the_var(tmp_path, dbt_vars, message):
    code, output = _show(tmp_path, **dbt_vars)
    assert code != 0
    assert message in output


def test_from_arrow_takes_the_typed_row_and_checks_it():
    row = {name: getattr(SegmentationSettings(), name) for name in FIT_FIELDS}
    assert SegmentationSettings.from_arrow(pa.Table.from_pylist([row])) == SegmentationSettings()
    with pytest.raises(SettingsError, match="expected 1"):
        SegmentationSettings.from_arrow(pa.Table.from_pylist([row, row]))
    with pytest.raises(SettingsError, match="outside the diagnostics range"):
        SegmentationSettings.from_arrow(pa.Table.from_pylist([{**row, "k": 11}]))
    with pytest.raises(SettingsError, match="lacks columns"):
        SegmentationSettings.from_arrow(pa.Table.from_pylist([{"k": 3}]))
