"""Segment lifecycle end to end: one database rebuilt six times (demo seed at k = 8, 10 % new
customers, k = 6, k = 9, the same again, a planted shift), checked against each run's own
customer_segments read right after it was built.

What is asserted: continuing segments keep their ids (and most of their customers), new ids
were never issued before and retired ids never come back, transitions equal a crosstab of the
two runs' assignments, and segment_drift equals an independent computation (scikit-learn's
adjusted Rand index, numpy's PSI); the drift tests warn on the planted shift only.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, DbtRun, assert_ok, run_dbt
from sklearn.metrics import adjusted_rand_score

DEMO = REPO / "seeds" / "demo_customers.csv"
pytestmark = pytest.mark.e2e

FAST = {"n_init": 10}
PSI_FLOOR = 0.0001  # segment_drift's floor for a share of 0


@dataclass
class Run:
    """One build of the chain: its output, run id and customer -> segment id."""

    name: str
    dbt: DbtRun
    run_id: str
    segments: dict[str, int]


def _demo_rows() -> list[dict]:
    with DEMO.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    # The seed's key is its data row number as text: the files below keep those ids.
    return [{"customer_id": str(i), **row} for i, row in enumerate(rows, start=1)]


def _write(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _with_new_customers(rows: list[dict], share: float, seed: int) -> list[dict]:
    """``rows`` plus ``share`` x as many new customers, copies of random rows with new ids."""
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(rows), int(len(rows) * share), replace=False)
    return rows + [{**rows[i], "customer_id": f"N{n}"} for n, i in enumerate(picked, start=1)]


def _planted_shift(rows: list[dict], share: float, seed: int) -> list[dict]:
    """The same customers, a random ``share`` of them moved to another channel."""
    rng = np.random.default_rng(seed)
    moved = set(rng.choice(len(rows), int(len(rows) * share), replace=False).tolist())
    shifted = []
    for i, row in enumerate(rows):
        if i in moved:
            other = (int(row["channel"]) % 8) + 1  # channel codes 1..8
            row = {**row, "channel": str(other)}
        shifted.append(row)
    return shifted


def _run(database: Path, name: str, **dbt_vars) -> Run:
    built = assert_ok(run_dbt(database, "build", dbt_vars={**FAST, **dbt_vars}, stability=True))
    run_id = built.scalar("select run_id from marts.segmentation_runs order by run_started_at desc")
    segments = dict(built.query("select customer_id, segment_id from marts.customer_segments"))
    return Run(name, built, run_id, segments)


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> dict[str, Run]:
    folder = tmp_path_factory.mktemp("lifecycle")
    database = folder / "lifecycle.duckdb"
    demo = _demo_rows()
    grown = _write(folder / "grown.csv", _with_new_customers(demo, 0.10, seed=1))
    shifted = _write(folder / "shifted.csv", _planted_shift(demo, 0.35, seed=2))
    runs = [
        _run(database, "k8"),
        _run(database, "grown", input_path=str(grown)),
        _run(database, "k6", input_path=str(grown), k=6),
        _run(database, "k9", input_path=str(grown), k=9),
        # Stability off for this one run: its figures are null, the next run has them again.
        _run(database, "unchanged", input_path=str(grown), k=9, stability_resamples=0),
        _run(database, "shifted", input_path=str(shifted), k=9),
    ]
    return {run.name: run for run in runs}


ORDER = ["k8", "grown", "k6", "k9", "unchanged", "shifted"]


def _history(run: Run) -> list[dict]:
    rows = run.dbt.query(
        f"""
        select segment_id, lifecycle_event, previous_segment_id, related_segment_id
        from marts.segment_id_history where run_id = '{run.run_id}' order by segment_id
        """
    )
    keys = ["segment_id", "event", "previous", "related"]
    return [dict(zip(keys, row, strict=True)) for row in rows]


def test_stability_is_recorded_per_run_and_off_with_zero_resamples(chain):
    def figures(run: Run) -> tuple:
        return run.dbt.query(
            "select bootstrap_mean_ari, bootstrap_resamples, bootstrap_sample_size, "
            f"bootstrap_note from marts.segmentation_runs where run_id = '{run.run_id}'"
        )[0]

    assert figures(chain["unchanged"]) == (None, 0, None, "off: var stability_resamples is 0")
    ari, resamples, size, note = figures(chain["shifted"])
    assert -1 <= ari <= 1 and resamples > 0 and size == len(chain["shifted"].segments)
    assert note is None
    # segment_profiles holds the last run (shifted, k = 9): a figure for every segment.
    jaccard = chain["shifted"].dbt.query("select bootstrap_jaccard from marts.segment_profiles")
    assert len(jaccard) == 9 and all(0 <= value <= 1 for (value,) in jaccard)


def test_a_fresh_database_numbers_segments_one_to_k(chain):
    history = _history(chain["k8"])
    assert [row["segment_id"] for row in history] == list(range(1, 9))
    assert {row["event"] for row in history} == {"born"}
    assert sorted(set(chain["k8"].segments.values())) == list(range(1, 9))


def test_continuing_segments_keep_their_ids_and_customers(chain):
    for before, after in zip(ORDER, ORDER[1:], strict=False):
        old, new = chain[before].segments, chain[after].segments
        for row in _history(chain[after]):
            if row["event"] != "continued":
                continue
            segment = row["segment_id"]
            assert row["previous"] == segment and row["related"] == segment
            members = [c for c, s in new.items() if s == segment and c in old]
            # More than half of its returning customers were in the same id before.
            same = sum(old[c] == segment for c in members)
            assert same > len(members) / 2, (after, segment)


def test_unchanged_data_and_new_customers_continue_every_segment(chain):
    for name in ("grown", "unchanged"):
        events = [row["event"] for row in _history(chain[name])]
        assert events == ["continued"] * len(events), name
    # A customer already there keeps the id it had: 10 % new customers barely move anyone.
    old, new = chain["k8"].segments, chain["grown"].segments
    kept = sum(new[c] == s for c, s in old.items()) / len(old)
    assert kept > 0.95


def test_k_changes_keep_ids_meaning_and_never_reuse_an_id(chain):
    issued: set[int] = set()
    retired: set[int] = set()
    for name in ORDER:
        history = _history(chain[name])
        current = {r["segment_id"] for r in history if r["event"] not in ("merged", "retired")}
        assert current == set(chain[name].segments.values()), name
        assert not current & retired, f"{name} reused a retired id"
        for row in history:
            if row["event"] in ("born", "split"):
                assert row["segment_id"] not in issued, f"{name} reissued {row['segment_id']}"
            if row["event"] in ("merged", "retired"):
                assert row["segment_id"] in issued and row["segment_id"] not in current
                retired.add(row["segment_id"])
        issued |= current
    k6 = _history(chain["k6"])
    continued = [r for r in k6 if r["event"] == "continued"]
    gone = [r for r in k6 if r["event"] in ("merged", "retired")]
    assert len(continued) >= 4 and len(continued) + len(gone) == 8
    assert len([r for r in k6 if r["event"] not in ("merged", "retired")]) == 6
    # k 6 -> 9: three more segments, all with ids above every id issued before.
    k9_new = [r for r in _history(chain["k9"]) if r["event"] in ("born", "split")]
    assert len(k9_new) >= 3 and min(r["segment_id"] for r in k9_new) > 8


def _transitions(run: Run) -> Counter:
    rows = run.dbt.query(
        f"""
        select from_segment_id, to_segment_id, count_customers
        from marts.segment_transitions where run_id = '{run.run_id}'
        """
    )
    return Counter({(a, b): n for a, b, n in rows})


def test_transitions_equal_a_crosstab_of_the_two_runs(chain):
    assert _transitions(chain["k8"]) == Counter()  # first run: no rows, no error
    for before, after in zip(ORDER, ORDER[1:], strict=False):
        old, new = chain[before].segments, chain[after].segments
        expected = Counter((old.get(c), new.get(c)) for c in set(old) | set(new))
        assert _transitions(chain[after]) == expected, after
    common = set(chain["k9"].segments) & set(chain["k6"].segments)
    cells = chain["k9"].dbt.query(
        f"""
        select sum(count_customers), sum(share_of_common_customers)
        from marts.segment_transitions
        where run_id = '{chain["k9"].run_id}' and transition_kind in ('stayed', 'moved')
        """
    )[0]
    assert cells[0] == len(common) and cells[1] == pytest.approx(1.0)
    new_rows = chain["grown"].dbt.scalar(
        f"""
        select sum(count_customers) from marts.segment_transitions
        where run_id = '{chain["grown"].run_id}' and transition_kind = 'new'
        """
    )
    assert new_rows == 383


def _psi(old: dict, new: dict) -> float:
    ids = set(old.values()) | set(new.values())
    before, after = Counter(old.values()), Counter(new.values())
    p = np.array([max(before[i] / len(old), PSI_FLOOR) for i in sorted(ids)])
    q = np.array([max(after[i] / len(new), PSI_FLOOR) for i in sorted(ids)])
    return float(np.sum((q - p) * np.log(q / p)))


def _drift(run: Run) -> dict:
    row = run.dbt.query(
        f"""
        select adjusted_rand_index, population_stability_index, max_centroid_shift_z,
            count_common_customers, count_new_customers, count_gone_customers
        from marts.segment_drift where run_id = '{run.run_id}'
        """
    )
    keys = ["ari", "psi", "shift", "common", "new", "gone"]
    assert len(row) == 1
    return dict(zip(keys, row[0], strict=True))


def test_drift_figures_equal_an_independent_computation(chain):
    first = _drift(chain["k8"])
    assert first["ari"] is None and first["psi"] is None and first["common"] == 0
    for before, after in zip(ORDER, ORDER[1:], strict=False):
        old, new = chain[before].segments, chain[after].segments
        common = sorted(set(old) & set(new))
        drift = _drift(chain[after])
        expected = adjusted_rand_score([old[c] for c in common], [new[c] for c in common])
        assert drift["ari"] == pytest.approx(expected, abs=1e-9), after
        assert drift["psi"] == pytest.approx(_psi(old, new), abs=1e-9), after
        assert (drift["common"], drift["new"], drift["gone"]) == (
            len(common),
            len(set(new) - set(old)),
            len(set(old) - set(new)),
        )
        shifts = chain[after].dbt.query(
            f"""
            select max(centroid_shift_z) from marts.segment_id_history
            where run_id = '{chain[after].run_id}' and lifecycle_event = 'continued'
            """
        )[0][0]
        assert drift["shift"] == shifts


def _drift_lines(run: Run) -> list[str]:
    return [line for line in run.dbt.output.splitlines() if "drift: " in line]


def test_a_planted_shift_warns_and_an_unchanged_rebuild_does_not(chain):
    assert _drift_lines(chain["unchanged"]) == []
    assert "WARN=0" in chain["unchanged"].dbt.output
    unchanged = _drift(chain["unchanged"])
    assert unchanged["ari"] == pytest.approx(1.0) and unchanged["psi"] == pytest.approx(0.0)
    shifted = _drift(chain["shifted"])
    lines = _drift_lines(chain["shifted"])
    assert shifted["ari"] < 0.8
    assert any(
        f"adjusted_rand_index = {shifted['ari']:.4f} is below drift_min_ari = 0.8" in line
        for line in lines
    ), lines
    assert "WARN=0" not in chain["shifted"].dbt.output


def test_drift_severity_error_fails_the_drift_tests(chain):
    database = chain["shifted"].dbt.database
    warned = run_dbt(database, "test", "--select", "segment_drift")
    assert warned.returncode == 0 and "drift: adjusted_rand_index" in warned.output
    failed = run_dbt(
        database, "test", "--select", "segment_drift", dbt_vars={"drift_severity": "error"}
    )
    assert failed.returncode != 0 and "drift: adjusted_rand_index" in failed.output
    relaxed = run_dbt(
        database,
        "test",
        "--select",
        "segment_drift",
        dbt_vars={
            "drift_severity": "error",
            "drift_min_ari": 0.0,
            "drift_max_psi": 100,
            "drift_max_centroid_shift": 100,
        },
    )
    assert relaxed.returncode == 0, relaxed.output[-3000:]
