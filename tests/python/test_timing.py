"""The step timer behind `make demo`'s timing line."""

import sys

from customer_segmentation.timing import format_timings, main, run_steps


def test_steps_run_in_order_and_stop_at_the_first_failure():
    ran = []
    ticks = iter([0.0, 1.5, 1.5, 2.0, 2.0, 9.0])

    def runner(command: str) -> int:
        ran.append(command)
        return 3 if command == "fail" else 0

    timings, code = run_steps(
        [("a", "ok"), ("b", "fail"), ("c", "never")], runner, clock=lambda: next(ticks)
    )
    assert ran == ["ok", "fail"]
    assert code == 3
    assert timings == [("a", 1.5, 0), ("b", 0.5, 3)]
    assert format_timings(timings) == "took: a 1.5 s, b 0.5 s (failed, exit 3); total 2.0 s"


def test_main_runs_real_commands_and_prints_the_timing_line(capfd):
    ok = f'"{sys.executable}" -c "print(42)"'
    code = main(["--step", "first", ok, "--step", "second", ok])
    out = capfd.readouterr().out
    assert code == 0
    assert out.count("42") == 2
    last = out.strip().splitlines()[-1]
    assert last.startswith("took: first ") and ", second " in last and "; total " in last


def test_main_returns_the_failing_exit_code(capfd):
    code = main(["--step", "bad", f'"{sys.executable}" -c "raise SystemExit(5)"'])
    assert code == 5
    assert "bad" in capfd.readouterr().out
