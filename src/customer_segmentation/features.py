"""Which columns are features, and the dense matrices the fits run on."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

NUMERIC_FEATURES = ("minutes_watched", "customer_lifetime_value")
REGION_PREFIX = "is_region_"
CHANNEL_PREFIX = "is_channel_"
KEY_COLUMN = "customer_id"
#: Order in which the scaler reads int_customer_features. Floating-point sums depend on the
#: order of their terms; sorting by the raw feature values first makes the scaler (and so every
#: z-score, centroid and Ward height) bit-identical however the input rows were ordered.
CANONICAL_FEATURE_ORDER = "minutes_watched, customer_lifetime_value, region_code, channel_code"
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


def canonical_row_order(features: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Row permutation that sorts by feature values, then key: shape (n_rows,) int64.

    Fitting in this order makes every result independent of the order rows arrived in:
    shuffling the input cannot move a customer to another segment.
    """
    sort_keys = [keys] + [features[:, j] for j in range(features.shape[1] - 1, -1, -1)]
    return np.lexsort(sort_keys)


def z_name(feature: str) -> str:
    return feature + Z_SUFFIX


def z_columns(table: pa.Table) -> list[str]:
    """The standardised feature columns of a table, in stored (fit) order."""
    return [name for name in table.column_names if name.endswith(Z_SUFFIX)]


def feature_of(z_column: str) -> str:
    return z_column[: -len(Z_SUFFIX)]
