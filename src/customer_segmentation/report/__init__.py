"""The segmentation report: charts and tables from the built marts, one self-contained HTML file.

    python -m customer_segmentation.report --database customer_segmentation.duckdb \\
        --out reports/segmentation_report.html

The report follows the build's feature set (``marts.feature_definitions``) and names no column
of any set: measures in report order (summable first), categoricals in fit order; charts that
need two measures or a categorical are left out, with a note, when the set has none (see
:data:`CHART_IDS`; :data:`PREVIOUS_RUN_CHART_IDS` show from the second build on). Modules:
:mod:`.reading` (SQL), :mod:`.charts`, :mod:`.categories` and :mod:`.lifecycle` (one function
per chart, on :mod:`.drawing`'s helpers), :mod:`.page` (tables, HTML from the Jinja2 template
``templates/report.html.j2``) and :mod:`.render` (:func:`render_report`, the command line).
"""

from customer_segmentation.report.reading import ReportError
from customer_segmentation.report.render import (
    CHART_IDS,
    DEFAULT_OUT,
    PREVIOUS_RUN_CHART_IDS,
    ReportResult,
    main,
    render_report,
)

__all__ = [
    "CHART_IDS",
    "DEFAULT_OUT",
    "PREVIOUS_RUN_CHART_IDS",
    "ReportError",
    "ReportResult",
    "main",
    "render_report",
]
