"""The closing lines of ``customer-segmentation build`` from dbt's console output."""

from __future__ import annotations

import json
from pathlib import Path

from customer_segmentation.build import summary

# dbt 1.11's console output when a var check stops the settings model at compile time (no
# node ran, so run_results.json lists no failure); colour codes and timestamps as dbt prints.
VAR_STOP = """\
\x1b[0m12:12:33  Running with dbt=1.11.16
\x1b[0m12:12:33  Registered adapter: duckdb=1.11.1
\x1b[0m12:12:34  Encountered an error:
Compilation Error in model int_segmentation_settings (dbt_project/models/intermediate/x.sql)
  var 'k': expected an integer, got 'eight'

  > in macro _settings_integer (dbt_project/macros/settings/segmentation_settings.sql)
  > called by model int_segmentation_settings (dbt_project/models/intermediate/x.sql)
"""


def test_a_stop_before_any_node_ends_with_the_message_not_the_error_header():
    assert summary(2, VAR_STOP, None) == [
        "build stopped:",
        "  var 'k': expected an integer, got 'eight'",
    ]


def test_a_header_without_a_message_is_kept_and_no_error_line_points_to_the_log():
    assert summary(2, "\x1b[0m12:00:00  Runtime Error\n", None) == [
        "build stopped:",
        "  Runtime Error",
    ]
    assert summary(1, "nothing useful\n", None)[1] == "  dbt failed; see logs/dbt.log"


def test_failed_nodes_are_listed_one_line_each(tmp_path: Path):
    results = tmp_path / "run_results.json"
    results.write_text(
        json.dumps(
            {
                "results": [
                    {"unique_id": "model.p.ok", "status": "success", "message": "OK"},
                    {
                        "unique_id": "model.p.stg_customers",
                        "status": "error",
                        "message": "Runtime Error in model stg_customers\n"
                        "  Python model failed:\n  ValueError: input_path 'a.csv': no rows",
                    },
                    {
                        "unique_id": "test.p.not_null_x",
                        "status": "fail",
                        "failures": 3,
                        "message": "Got 3 results, configured to fail if != 0",
                    },
                ]
            }
        )
    )
    assert summary(0, "", results) == []
    assert summary(1, VAR_STOP, results) == [
        "build stopped: 2 errors",
        "  model stg_customers: input_path 'a.csv': no rows",
        "  test not_null_x: 3 failing rows (Got 3 results, configured to fail if != 0)",
    ]
