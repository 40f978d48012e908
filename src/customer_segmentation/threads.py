"""How many native threads the numeric kernels may use.

On small inputs scikit-learn's OpenMP and BLAS threads cost more than they save, and dbt runs
two models at once on a 2-core machine: measured on 3,834 × 13, k-means for k = 1..10 with
n_init = 10 took 0.51 s with 2 threads and 0.16 s with 1, and 13.8 s while a second dbt model
competed for the cores. Large inputs keep every core.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from threadpoolctl import threadpool_limits

#: Below this many rows the kernels run single-threaded.
SINGLE_THREAD_BELOW_ROWS = 200_000


def native_threads_for(n_rows: int) -> AbstractContextManager:
    """Context manager that limits OpenMP/BLAS to one thread for small inputs."""
    if n_rows < SINGLE_THREAD_BELOW_ROWS:
        return threadpool_limits(limits=1)
    return nullcontext()
