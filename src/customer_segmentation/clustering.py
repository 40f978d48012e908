"""k-means: the final fit, the k diagnostics, the k rule, stable segment ids.

Nearest-centroid assignment is :func:`customer_segmentation.kernels.nearest`, shared with the
engines.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.cluster._kmeans import _kmeans_single_lloyd
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

from customer_segmentation.kernels import nearest
from customer_segmentation.local_search import LocalOptimum, lloyd, swap_search
from customer_segmentation.settings import BEST_REPEATS
from customer_segmentation.silhouette import mean_silhouettes
from customer_segmentation.threads import SINGLE_THREAD_BELOW_ROWS, native_threads_for

MAX_ITER = 300
#: KMeans's default relative tolerance (of the mean column variance) on the centre shift.
KMEANS_TOL = 1e-4
#: k-means++ restarts per chunk of the early-stopping search (:func:`restart_until_repeated`).
RESTART_CHUNK = 10
#: Two WCSS values within this relative distance are the same solution found again.
SAME_WCSS = 1e-9
#: Centroid swaps (:func:`~.local_search.swap_search`) only up to this many rows: each swap
#: costs a Lloyd run, affordable on small inputs, where restarts alone miss the best WCSS.
SWAP_MAX_ROWS = 20_000
#: From this many rows the k diagnostics search several k values at once, one thread each
#: (scikit-learn's Lloyd releases the GIL). At 1M customers the 50,000-row sample's search
#: runs alone for about 11 s while the other core idles: 17.9 s -> 11.4 s with two threads.
#: Below it a search takes milliseconds and dbt runs another model beside it.
PARALLEL_K_ROWS = 20_000

_THREAD_LIMIT = threading.local()


@contextmanager
def _threads(n_rows: int) -> Iterator[None]:
    """:func:`~.threads.native_threads_for`, entered once per thread: inside an outer use
    with the same limit it costs nothing (threadpoolctl takes ~30 ms to enter)."""
    single = n_rows < SINGLE_THREAD_BELOW_ROWS
    if getattr(_THREAD_LIMIT, "single", None) == single:
        yield
        return
    outer = getattr(_THREAD_LIMIT, "single", None)
    with native_threads_for(n_rows):
        _THREAD_LIMIT.single = single
        try:
            yield
        finally:
            _THREAD_LIMIT.single = outer


#: :func:`_threads` for callers outside this module that run many fits in a row: entered once
#: around the loop, the fits inside do not pay threadpoolctl's entry each.
thread_limit = _threads


class NotEnoughRowsError(ValueError):
    """Fewer usable customers than segments asked for."""


@dataclass(frozen=True)
class KMeansResult:
    """A k-means fit in z units.

    Attributes
    ----------
    centroids : (k, d) centroids, rows in segment order (segment id = row + 1).
    labels : (n,) 0-based segment index of each fitted row.
    wcss : within-cluster sum of squares (scikit-learn's ``inertia_``), z units squared.
    n_iter : Lloyd iterations of the winning run.
    converged : whether that run stopped before ``max_iter``.
    init : how the centroids were initialised (``"k-means++"`` or a warm-start label).
    """

    centroids: np.ndarray
    labels: np.ndarray
    wcss: float
    n_iter: int
    converged: bool
    init: str


def seeded_sample(n_rows: int, size: int, random_state: int) -> np.ndarray | None:
    """Sorted row indices of a seeded sample of ``size`` rows without replacement, or None
    when ``n_rows <= size`` (use every row)."""
    if n_rows <= size:
        return None
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n_rows, size=size, replace=False))


def check_enough_rows(n_rows: int, k: int, source: str = "input") -> None:
    if n_rows < k:
        raise NotEnoughRowsError(
            f"{source}: {n_rows} usable customer rows, fewer than k = {k} segments "
            "(rejected rows are listed in marts.rejected_customer_rows)"
        )


def k_workers(n_rows: int) -> int:
    """k values the diagnostics search at once on ``n_rows`` rows: every core from
    :data:`PARALLEL_K_ROWS` rows, else 1."""
    return 1 if n_rows < PARALLEL_K_ROWS else max(1, len(os.sched_getaffinity(0)))


def fit_kmeans(
    z: np.ndarray,
    k: int,
    *,
    n_init: int,
    random_state: int,
    initial_centroids: np.ndarray | None = None,
    init_label: str = "k-means++",
) -> KMeansResult:
    """Lloyd's k-means on ``z`` (n, d): k-means++ with ``n_init`` restarts, or one run started
    from ``initial_centroids`` (k, d) when given (a warm start, :func:`lloyd_from`)."""
    check_enough_rows(z.shape[0], k)
    if initial_centroids is not None:
        if initial_centroids.shape != (k, z.shape[1]):
            raise ValueError(
                f"warm-start centroids have shape {initial_centroids.shape}, "
                f"expected {(k, z.shape[1])}"
            )
        return lloyd_from(z, initial_centroids, init_label)
    model = KMeans(
        n_clusters=k,
        init="k-means++",
        n_init=n_init,
        max_iter=MAX_ITER,
        random_state=random_state,
        algorithm="lloyd",
    )
    with warnings.catch_warnings(), _threads(z.shape[0]):
        # Duplicate points can leave fewer distinct clusters than k; that is reported by the
        # diagnostics, not as a warning on every run.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(z)
    return KMeansResult(
        centroids=model.cluster_centers_,
        labels=model.labels_.astype(np.int64),
        wcss=float(model.inertia_),
        n_iter=int(model.n_iter_),
        converged=bool(model.n_iter_ < MAX_ITER),
        init="k-means++",
    )


def lloyd_from(z: np.ndarray, start: np.ndarray, init_label: str) -> KMeansResult:
    """scikit-learn's multi-threaded Lloyd loop from ``start`` (k, d) on ``z`` (n, d) as it is,
    with KMeans's stopping rule (centre shift below :data:`KMEANS_TOL` times the mean column
    variance, or no label changed).

    ``KMeans.fit`` first copies z, takes its column variances and centres it; z-scores are
    centred already, and at 10M × 13 those steps took about 8 s of a 10 s fit. The loop itself
    is scikit-learn's (a private function: the lock pins the version, and the tests compare
    it with ``KMeans`` from the same start)."""
    z = np.ascontiguousarray(z, dtype=np.float64)
    centres = np.array(start, dtype=np.float64, order="C", copy=True)
    tol = KMEANS_TOL * float(np.mean(column_variances(z)))
    with warnings.catch_warnings(), _threads(z.shape[0]):
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels, inertia, centres, n_iter = _kmeans_single_lloyd(
            z,
            np.ones(z.shape[0]),
            centres,
            max_iter=MAX_ITER,
            tol=tol,
            n_threads=_openmp_effective_n_threads(),
        )
    return KMeansResult(
        centroids=centres,
        labels=labels.astype(np.int64),
        wcss=float(inertia),
        n_iter=int(n_iter),
        converged=bool(n_iter < MAX_ITER),
        init=init_label,
    )


def column_variances(z: np.ndarray, chunk_rows: int = 1 << 20) -> np.ndarray:
    """(d,) population variances of the columns of ``z`` (n, d) from sums of x and x^2 over
    row chunks: no (n, d) temporary (a stopping threshold, not a reported figure)."""
    total = np.zeros(z.shape[1])
    squares = np.zeros(z.shape[1])
    for start in range(0, z.shape[0], chunk_rows):
        chunk = z[start : start + chunk_rows]
        total += chunk.sum(axis=0)
        squares += np.einsum("ij,ij->j", chunk, chunk)
    mean = total / z.shape[0]
    return np.maximum(squares / z.shape[0] - mean * mean, 0.0)


def canonical_segment_order(
    centroids_original: np.ndarray, sort_columns: Sequence[int]
) -> np.ndarray:
    """Order of segments for fresh ids: by the given original-unit centroid columns, each
    descending (e.g. CLV, then minutes), then by the whole centroid for exact ties.

    Returns ``order`` (k,), where ``order[new_index] = old_index``.
    """
    keys = [centroids_original[:, j] for j in range(centroids_original.shape[1] - 1, -1, -1)]
    keys += [-centroids_original[:, j] for j in reversed(list(sort_columns))]
    return np.lexsort(keys)


def match_to_previous(centroids: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Hungarian matching of new centroids (k, d) to a previous run's (k_prev, d), z units.

    Returns ``match`` (k,): ``match[i]`` is the previous row new segment i continues, or -1
    when k grew and segment i has no predecessor. Minimises the total squared distance.
    """
    cost = ((centroids[:, None, :] - previous[None, :, :]) ** 2).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    match = np.full(centroids.shape[0], -1, dtype=np.int64)
    match[rows] = cols
    return match


@dataclass(frozen=True)
class KDiagnostic:
    """Quality of the k-means fit at one k (z units)."""

    k: int
    wcss: float
    silhouette: float | None
    calinski_harabasz: float | None
    davies_bouldin: float | None
    n_iter: int
    converged: bool
    seconds: float
    centroids: np.ndarray
    best_from: str = ""
    restarts: int = 0


@dataclass(frozen=True)
class RestartSearch:
    """The outcome of :func:`restart_until_repeated` at one k.

    Attributes
    ----------
    best : the lowest-WCSS fit of all chunks.
    restarts : k-means++ restarts actually run (chunks used × chunk size, at most the cap).
    repeats : chunks whose best reached ``best.wcss`` (within :data:`SAME_WCSS`), the first
        finder included.
    """

    best: KMeansResult
    restarts: int
    repeats: int


def chunk_seed(random_state: int, k: int, chunk: int) -> int:
    """Seed of restart chunk ``chunk`` at ``k``: fixed by (random_state, k, chunk) alone, so
    results do not depend on how many chunks run at once."""
    return int(np.random.SeedSequence([random_state, k, chunk]).generate_state(1)[0])


def chunk_sizes(max_restarts: int, chunk: int) -> list[int]:
    """Restarts per chunk: ``chunk`` each, the last one short so the total is the cap."""
    full, rest = divmod(max_restarts, chunk)
    return [chunk] * full + ([rest] if rest else [])


def restart_until_repeated(
    z: np.ndarray,
    k: int,
    *,
    max_restarts: int,
    random_state: int,
    best_repeats: int,
    chunk: int = RESTART_CHUNK,
    workers: int = 1,
) -> RestartSearch:
    """k-means++ restarts in chunks until the best WCSS has been found ``best_repeats`` times.

    Chunk i runs ``chunk`` restarts seeded by :func:`chunk_seed`; on inputs up to
    :data:`SWAP_MAX_ROWS` rows its best then goes through centroid swaps
    (:func:`_swapped`), unless it already equals the best so far (relative
    :data:`SAME_WCSS`: a swap-searched optimum found again, its swaps would cost about 30
    Lloyd runs for nothing). A chunk whose result equals the best so far counts as finding
    it again, a lower one resets the count. Chunks are judged in index order, so
    ``workers`` (k-means++ chunks in flight at once, threads: scikit-learn's Lloyd releases
    the GIL) changes the speed, never the result. At most ``max_restarts`` restarts in all.
    """
    sizes = chunk_sizes(max_restarts, chunk)
    best: KMeansResult | None = None
    repeats, used = 0, 0

    def run(index: int) -> KMeansResult:
        return fit_kmeans(
            z, k, n_init=sizes[index], random_state=chunk_seed(random_state, k, index)
        )

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for wave in range(0, len(sizes), max(1, workers)):
            indices = range(wave, min(wave + max(1, workers), len(sizes)))
            for index, fit in zip(indices, pool.map(run, indices), strict=True):
                used += sizes[index]
                if best is None or abs(fit.wcss - best.wcss) > best.wcss * SAME_WCSS:
                    fit = _swapped(z, fit, chunk_seed(random_state, k, index))
                if best is None or fit.wcss < best.wcss * (1 - SAME_WCSS):
                    best, repeats = fit, 1
                elif fit.wcss <= best.wcss * (1 + SAME_WCSS):
                    repeats += 1
                if repeats >= best_repeats:
                    return RestartSearch(best, used, repeats)
    assert best is not None
    return RestartSearch(best, used, repeats)


def _swapped(z: np.ndarray, fit: KMeansResult, seed: int) -> KMeansResult:
    """``fit`` after :func:`~.local_search.swap_search` (seeded by ``seed``) when it lowers
    the WCSS; ``fit`` itself at k = 1 and above :data:`SWAP_MAX_ROWS` rows."""
    if fit.centroids.shape[0] == 1 or z.shape[0] > SWAP_MAX_ROWS:
        return fit
    with _threads(z.shape[0]):
        optimum, _ = swap_search(z, fit.centroids, np.random.default_rng(seed))
    if optimum.wcss >= fit.wcss * (1 - 1e-12):
        return fit
    return _as_result(optimum, "k-means++, then centroid swaps")


def neighbour_starts(
    z: np.ndarray, k: int, smaller: np.ndarray | None, larger: np.ndarray | None
) -> list[tuple[str, np.ndarray]]:
    """Deterministic k-means starts built from the best solutions at k - 1 and k + 1.

    - each (k + 1)-solution with one centroid removed (k + 1 starts);
    - the (k - 1)-solution plus the row farthest from its nearest centroid (1 start).

    Restarts from random k-means++ seeds find the best basin only rarely at some k (on the
    real data 11 to 46 in 10,000 single starts at k = 5..9); the neighbours' solutions are
    usually one move away from it.
    """
    starts: list[tuple[str, np.ndarray]] = []
    if larger is not None:
        for j in range(larger.shape[0]):
            starts.append(
                (f"k = {k + 1} solution without centroid {j + 1}", np.delete(larger, j, 0))
            )
    if smaller is not None:
        farthest = int(np.argmax(nearest(z, smaller).distance))
        starts.append(
            (f"k = {k - 1} solution plus the farthest row", np.vstack([smaller, z[farthest]]))
        )
    return starts


def _as_result(optimum: LocalOptimum, init: str) -> KMeansResult:
    return KMeansResult(
        centroids=optimum.centroids,
        labels=optimum.labels.astype(np.int64),
        wcss=optimum.wcss,
        n_iter=optimum.n_iter,
        converged=optimum.converged,
        init=init,
    )


def _lloyd_from(
    z: np.ndarray,
    k: int,
    start: np.ndarray,
    label: str,
    row_norms: np.ndarray,
    random_state: int,
) -> KMeansResult:
    """One Lloyd run from ``start``: NumPy to a fixed point up to :data:`SWAP_MAX_ROWS` rows
    (no per-fit overhead), scikit-learn's multi-threaded Lloyd with its tolerance above."""
    if z.shape[0] > SWAP_MAX_ROWS:
        return fit_kmeans(
            z, k, n_init=1, random_state=random_state, initial_centroids=start, init_label=label
        )
    with _threads(z.shape[0]):
        return _as_result(lloyd(z, start, row_norms, MAX_ITER), label)


def polish_neighbours(
    z: np.ndarray,
    ks: Sequence[int],
    best: dict[int, KMeansResult],
    source: dict[int, str],
    seconds: dict[int, float],
    random_state: int,
    max_passes: int,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Polish passes over ``best`` (k -> fit, updated in place, with ``source`` and
    ``seconds``): Lloyd from every :func:`neighbour_starts` start, keep any lower WCSS, and
    on inputs up to :data:`SWAP_MAX_ROWS` rows a :func:`swap_search` from each improved fit.
    Repeats until a pass improves nothing, at most ``max_passes`` passes."""
    row_norms = (z * z).sum(axis=1)
    for polish in range(1, max_passes + 1):
        improved = []
        for k in ks:
            started = time.perf_counter()
            found = _polish_one(z, k, best, row_norms, random_state, polish)
            if found is not None:
                source[k] = f"polish pass {polish}: {found}"
                improved.append(k)
            seconds[k] += time.perf_counter() - started
        if progress is not None:
            done = ", ".join(f"k = {k}: WCSS {best[k].wcss:,.1f}" for k in improved)
            progress(f"polish pass {polish}: " + (f"improved {done}" if improved else "no change"))
        if not improved:
            return


def _polish_one(
    z: np.ndarray,
    k: int,
    best: dict[int, KMeansResult],
    row_norms: np.ndarray,
    random_state: int,
    polish: int,
) -> str | None:
    """One polish of ``best[k]`` (updated in place) from its neighbours' solutions, then
    centroid swaps on small inputs; the winning start's label, or None when nothing improved."""
    smaller = best[k - 1].centroids if k - 1 in best else None
    larger = best[k + 1].centroids if k + 1 in best else None
    found = None
    for label, start in neighbour_starts(z, k, smaller, larger):
        fit = _lloyd_from(z, k, start, label, row_norms, random_state)
        if fit.wcss < best[k].wcss * (1 - 1e-12):
            best[k], found = fit, label
    if found is None or z.shape[0] > SWAP_MAX_ROWS:
        return found
    seed = chunk_seed(random_state, k, -polish % 2**31)
    with _threads(z.shape[0]):
        swapped, _ = swap_search(z, best[k].centroids, np.random.default_rng(seed))
    if swapped.wcss < best[k].wcss * (1 - 1e-12):
        found += ", then centroid swaps"
        best[k] = _as_result(swapped, found)
    return found


def k_silhouettes(
    z: np.ndarray, labels: dict[int, np.ndarray], sample: int | None, random_state: int
) -> dict[int, float]:
    """Mean silhouette per k of ``labels`` (k -> (n,) labels), every k in one pass over the
    distances (:func:`~.silhouette.mean_silhouettes`): exact when ``sample`` is None, else on
    the ``sample`` rows scikit-learn's ``silhouette_score(..., sample_size=sample,
    random_state=random_state)`` draws (the same rows for every k, so the same figures, at a
    tenth of the cost of ten calls)."""
    if not labels:
        return {}
    rows = slice(None) if sample is None else silhouette_rows(z.shape[0], sample, random_state)
    with _threads(sample or z.shape[0]):
        scores = mean_silhouettes(z[rows], [lab[rows] for lab in labels.values()])
    return dict(zip(labels, scores, strict=True))


def silhouette_rows(n_rows: int, sample: int, random_state: int) -> np.ndarray:
    """The rows ``sklearn.metrics.silhouette_score`` scores with ``sample_size=sample`` and
    an integer ``random_state``: the first ``sample`` of a seeded permutation."""
    return np.random.RandomState(random_state).permutation(n_rows)[:sample]


def _with_restarts(source: str, restarts: int) -> str:
    """``best_from`` text: the start that won, with the restarts run when it was a polish."""
    return source if source.startswith("best of") else f"{source} (after {restarts} restarts)"


def diagnose_k(
    z: np.ndarray,
    k_values: Sequence[int],
    *,
    n_init: int,
    random_state: int,
    silhouette_max_rows: int,
    silhouette_sample_size: int,
    progress: Callable[[str], None] | None = None,
    max_polish_passes: int = 10,
    best_repeats: int = BEST_REPEATS,
    workers: int | None = None,
) -> tuple[list[KDiagnostic], int | None]:
    """k-means at each k, with WCSS, silhouette, Calinski-Harabasz and Davies-Bouldin.

    Two phases: k-means++ restarts per k in chunks until the best WCSS has been found again by
    ``best_repeats`` chunks, at most ``n_init`` restarts (:func:`restart_until_repeated`);
    then polish passes that start Lloyd from the neighbours' solutions
    (:func:`neighbour_starts`) and keep any lower WCSS, repeated until a pass improves nothing
    (at most ``max_polish_passes``). ``best_from`` records which start won and how many
    restarts ran; ``restarts`` holds that count. ``workers`` k values are searched at once
    (threads; None: :func:`k_workers`, one thread on small inputs, every core on large
    samples); the result does not depend on it.

    Silhouette is O(n²): exact up to ``silhouette_max_rows`` rows, else on a sample of
    ``silhouette_sample_size`` rows drawn with ``random_state``. Returns the diagnostics and
    the silhouette sample size (None when exact). Metrics that need 2 <= k < n are None
    outside that range.
    """
    n = z.shape[0]
    ks = [k for k in k_values if k <= n]
    with _threads(n):
        best, source, seconds, restarts = _restart_phase(
            z, ks, n_init, random_state, best_repeats, workers, progress
        )
        polish_neighbours(z, ks, best, source, seconds, random_state, max_polish_passes, progress)
        sample = None if n <= silhouette_max_rows else min(silhouette_sample_size, n)
        scored = [k for k in ks if 2 <= len(np.unique(best[k].labels)) < n]
        silhouettes = k_silhouettes(z, {k: best[k].labels for k in scored}, sample, random_state)
        results = [
            _diagnostic(z, k, best[k], silhouettes.get(k), seconds[k], source[k], restarts[k])
            for k in ks
        ]
        return results, sample


def _restart_phase(
    z: np.ndarray,
    ks: Sequence[int],
    n_init: int,
    random_state: int,
    best_repeats: int,
    workers: int | None,
    progress: Callable[[str], None] | None,
) -> tuple[dict[int, KMeansResult], dict[int, str], dict[int, float], dict[int, int]]:
    """:func:`restart_until_repeated` at every k, ``workers`` k values at once (threads; None:
    :func:`k_workers`): per k the best fit, where it came from, the seconds spent and the
    restarts run. Each k's search is seeded on its own, so the result does not depend on
    ``workers``."""
    single = getattr(_THREAD_LIMIT, "single", None)

    def search(k: int) -> tuple[RestartSearch, float]:
        _THREAD_LIMIT.single = single  # the caller's native-thread limit is in force
        started = time.perf_counter()
        found = restart_until_repeated(
            z, k, max_restarts=n_init, random_state=random_state, best_repeats=best_repeats
        )
        return found, time.perf_counter() - started

    best: dict[int, KMeansResult] = {}
    source: dict[int, str] = {}
    seconds: dict[int, float] = {}
    restarts: dict[int, int] = {}
    pool_size = k_workers(z.shape[0]) if workers is None else max(1, workers)
    with ThreadPoolExecutor(max_workers=pool_size) as pool:
        for k, (found, spent) in zip(ks, pool.map(search, ks), strict=True):
            best[k], restarts[k], seconds[k] = found.best, found.restarts, spent
            swaps = " and centroid swaps" if z.shape[0] <= SWAP_MAX_ROWS and k > 1 else ""
            source[k] = f"best of {found.restarts} k-means++ restarts{swaps}"
            if progress is not None:
                progress(
                    f"k = {k}: WCSS {best[k].wcss:,.1f} after {found.restarts} restarts, "
                    f"found {found.repeats} times ({spent:.1f} s)"
                )
    return best, source, seconds, restarts


def _diagnostic(
    z: np.ndarray,
    k: int,
    fit: KMeansResult,
    silhouette: float | None,
    seconds: float,
    source: str,
    restarts: int,
) -> KDiagnostic:
    """The :class:`KDiagnostic` of the best ``fit`` at ``k``; Calinski-Harabasz and
    Davies-Bouldin only where a silhouette was scored."""
    calinski = davies = None
    if silhouette is not None:
        with _threads(z.shape[0]):
            calinski = float(calinski_harabasz_score(z, fit.labels))
            davies = float(davies_bouldin_score(z, fit.labels))
    return KDiagnostic(
        k=k,
        wcss=fit.wcss,
        silhouette=silhouette,
        calinski_harabasz=calinski,
        davies_bouldin=davies,
        n_iter=fit.n_iter,
        converged=fit.converged,
        seconds=seconds,
        centroids=fit.centroids,
        best_from=_with_restarts(source, restarts),
        restarts=restarts,
    )


def elbow_k(k_values: Sequence[int], wcss: Sequence[float]) -> int:
    """Knee of the WCSS curve: the k farthest below the straight line from the first to the
    last point, both axes scaled to [0, 1] (the "kneedle" idea). Needs >= 3 points."""
    ks = np.asarray(k_values, dtype=float)
    ws = np.asarray(wcss, dtype=float)
    if len(ks) < 3:
        return int(ks[-1])
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    span = ws[0] - ws[-1]
    y = (ws - ws[-1]) / span if span > 0 else np.zeros_like(ws)
    # The line joins (0, 1) and (1, 0); a convex decreasing curve lies below it.
    gap = (1 - x) - y
    return int(ks[int(np.argmax(gap))])


def choose_k(diagnostics: Sequence[KDiagnostic], rule: str, fixed_k: int) -> tuple[int, str]:
    """Apply the k rule; returns (k, reason) where reason is a sentence for the table."""
    if rule == "fixed":
        return fixed_k, f"fixed: k = {fixed_k} set by the k var or the preset"
    if rule == "silhouette":
        scored = [d for d in diagnostics if d.silhouette is not None]
        if not scored:
            raise ValueError(
                "k_rule 'silhouette': no k in range has a silhouette (need 2 <= k < n)"
            )
        best = max(scored, key=lambda d: (d.silhouette, -d.k))
        return best.k, f"silhouette: highest mean silhouette ({best.silhouette:.4f}) in the k range"
    if rule == "elbow":
        k = elbow_k([d.k for d in diagnostics], [d.wcss for d in diagnostics])
        return k, "elbow: knee of the WCSS curve (largest gap below the first-to-last chord)"
    raise ValueError(f"unknown k rule {rule!r}")
