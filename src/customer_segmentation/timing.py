"""Run commands one after another and say how long each took (``make demo`` uses it).

Run:  python -m customer_segmentation.timing --step LABEL "COMMAND" [--step LABEL "COMMAND" ...]

Each command runs through the shell with the caller's terminal; the first failure stops the
run with its exit code. At the end (also after a failure) one line per step that ran gives
its wall-clock seconds, then the total.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable, Sequence


def run_steps(
    steps: Sequence[tuple[str, str]],
    runner: Callable[[str], int] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[list[tuple[str, float, int]], int]:
    """Run ``steps`` (label, shell command) in order until one fails.

    Returns ``(timings, exit_code)``: timings holds (label, seconds, exit code) per step that
    ran; exit_code is the failing step's code, or 0.
    """
    runner = runner or (lambda command: subprocess.run(command, shell=True, check=False).returncode)
    timings: list[tuple[str, float, int]] = []
    for label, command in steps:
        started = clock()
        code = runner(command)
        timings.append((label, clock() - started, code))
        if code != 0:
            return timings, code
    return timings, 0


def format_timings(timings: Sequence[tuple[str, float, int]]) -> str:
    """``took: dbt build 12.3 s, publish 0.9 s, summary 0.4 s; total 13.6 s`` (a failed step
    is marked with its exit code)."""
    parts = [
        f"{label} {seconds:.1f} s" + (f" (failed, exit {code})" if code else "")
        for label, seconds, code in timings
    ]
    total = sum(seconds for _, seconds, _ in timings)
    return f"took: {', '.join(parts)}; total {total:.1f} s"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m customer_segmentation.timing")
    parser.add_argument(
        "--step",
        nargs=2,
        action="append",
        metavar=("LABEL", "COMMAND"),
        required=True,
        help="a step to run and time (repeatable, run in order)",
    )
    args = parser.parse_args(argv)
    steps = [(label, command) for label, command in args.step]

    started = []

    def runner(command: str) -> int:
        if started:
            print(flush=True)  # a blank line between the steps' outputs
        started.append(command)
        return subprocess.run(command, shell=True, check=False).returncode

    timings, code = run_steps(steps, runner)
    print(f"\n{format_timings(timings)}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
