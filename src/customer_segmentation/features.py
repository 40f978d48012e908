"""Which columns are features, and the dense matrices the fits run on."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

NUMERIC_FEATURES = ("minutes_watched", "customer_lifetime_value")
REGION_PREFIX = "is_region_"
CHANNEL_PREFIX = "is_channel_"
KEY_COLUMN = "customer_id"
#: The canonical row order every fit reads int_customer_features in (a DuckDB ``order by``).
#: Floating-point sums and k-means++ draws depend on row order; sorting by the raw feature
#: values (the one-hot columns are functions of the two codes), then the key, makes every
#: result bit-identical however the input rows were ordered. Standardising is monotonic, so
#: this is also the order of the z-scores. Sorting in DuckDB is parallel: 10M rows take seconds,
#: where numpy's lexsort over 13 columns took 4.4 s per 2M rows.
CANONICAL_FEATURE_ORDER = (
    "minutes_watched, customer_lifetime_value, region_code, channel_code, customer_id"
)
Z_SUFFIX = "_z"


def feature_columns(available: Sequence[str], *, include_region_code: bool = False) -> list[str]:
    """The feature columns of ``int_customer_features``, in fit order.

    Default (13 columns on the reference lookups): minutes, CLV, region one-hots, channel
    one-hots. With ``include_region_code`` (the case-study preset) the notebook's 14 columns
    in its order: minutes, CLV, the raw region code, channel one-hots, region one-hots.
    """
    regions = [c for c in available if c.startswith(REGION_PREFIX)]
    channels = [c for c in available if c.startswith(CHANNEL_PREFIX)]
    missing = [c for c in NUMERIC_FEATURES if c not in available]
    if missing or not regions or not channels:
        raise ValueError(
            f"int_customer_features lacks feature columns: numeric missing {missing}, "
            f"{len(regions)} region and {len(channels)} channel one-hot columns"
        )
    if include_region_code:
        return [*NUMERIC_FEATURES, "region_code", *channels, *regions]
    return [*NUMERIC_FEATURES, *regions, *channels]


def to_matrix(table: pa.Table, columns: Sequence[str]) -> np.ndarray:
    """Columns of an Arrow table as a C-contiguous float64 array of shape (n_rows, len(columns))."""
    matrix = np.empty((table.num_rows, len(columns)), dtype=np.float64)
    for j, name in enumerate(columns):
        matrix[:, j] = table.column(name).to_numpy(zero_copy_only=False)
    return matrix


def z_name(feature: str) -> str:
    return feature + Z_SUFFIX


def z_columns(table: pa.Table) -> list[str]:
    """The standardised feature columns of a table, in stored (fit) order."""
    return [name for name in table.column_names if name.endswith(Z_SUFFIX)]


def feature_of(z_column: str) -> str:
    return z_column[: -len(Z_SUFFIX)]
