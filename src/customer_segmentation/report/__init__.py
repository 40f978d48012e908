"""The segmentation report: charts and tables from the built marts, as one self-contained HTML file.

    python -m customer_segmentation.report --database customer_segmentation.duckdb \\
        --out reports/segmentation_report.html

The report follows the feature set of the build (:class:`~customer_segmentation.features.
FeatureSet`, read from ``marts.feature_definitions``) and names no column of any particular
set. Measures are shown in *report order* (summable measures first, e.g. a lifetime value or
the money spent, then the others in fit order); categorical features are the sources of the
one-hot columns, in fit order; display labels come from ``feature_label``. Charts that need
categorical features (means by the first two categoricals, the effect tests, the residual
heatmap) are left out, with a one-line note, when the feature set has none (e.g. ``rfm``).

Charts (:data:`CHART_IDS`, page order): feature correlations; the first two measures against
each other (the first in report order on y); k diagnostics and the Ward dendrogram; the segment
scatter in original units and in z units, the latter without outliers (a customer with |z| >
3 on either plotted axis is dropped; the caption says how many); per-measure bars (segment
means, overall-mean line) and box plots (fliers not drawn); the first measure's mean by the
first two categoricals; adjusted residuals of the first chi-square pair; each segment's
bootstrap stability; and, from the second build of a database on
(:data:`PREVIOUS_RUN_CHART_IDS`), the migration of customers since the previous run and the
drift figures against their thresholds.

Modules, in the order a render runs them:

- :mod:`.reading`: every SQL read of ``marts.*`` (read-only), as plain records and arrays;
- :mod:`.charts` (measures, segments, k), :mod:`.categories` (category grid, residuals)
  and :mod:`.lifecycle` (stability, migration, drift): one short function per chart, on
  :mod:`.drawing`'s shared helpers;
- :mod:`.page` and ``templates/report.html.j2``: the tables as data and the HTML from an
  autoescaped Jinja2 template;
- :mod:`.render`: :func:`render_report` and the command line.
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
