"""``customer-segmentation build``: ``dbt build`` that ends with one clear line per failure.

dbt prints every failure with its full context (for a Python model, the whole chained
traceback). For an expected stop (a bad input file, too few rows, a locked database) the user
needs the model and the message, nothing else. :func:`run_build` streams dbt's progress lines,
holds back dbt's failure details (they stay in ``logs/dbt.log``), and ends with a summary read
from ``target/run_results.json``::

    build stopped: 1 error
      model stg_customers: input_path 'x.csv': 177 of 200 rows (88.5 %) rejected, ...

An Excel workbook given as ``input_path`` is converted to Parquet first (:mod:`.convert`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

#: dbt's console lines worth streaming: progress, warnings and the final counts.
_PROGRESS = re.compile(
    r"^\[\w+\] |\d+ of \d+ (START|OK|PASS|WARN|ERROR|FAIL|SKIP|NO-OP)|warning:|Done\."
)
#: Where dbt's failure details start: everything after it is summarised instead.
_DETAILS = re.compile(r"Completed with \d+ errors?")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TIMESTAMP = re.compile(r"^\d\d:\d\d:\d\d\s+")
_LOCK = re.compile(
    r'Could not set lock on file "(?P<file>[^"]+)": Conflicting lock is held in '
    r"(?P<program>.+?) \(PID (?P<pid>\d+)\)"
)
#: The last line of a Python traceback: ``SomeError: message``.
_EXCEPTION = re.compile(r"^(?:[\w.]+\.)?(?P<kind>\w+(?:Error|Exception)): (?P<message>.+)$")


@dataclass(frozen=True)
class Failure:
    """One node that did not build: ``kind`` (model, test, seed, ...), ``name``, one line."""

    kind: str
    name: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}: {self.message}"


def clean(line: str) -> str:
    """A console line without colour codes and dbt's timestamp."""
    return _TIMESTAMP.sub("", _ANSI.sub("", line)).rstrip()


def lock_message(text: str) -> str | None:
    """The one line for a DuckDB file lock held by another process, or None."""
    found = _LOCK.search(text)
    if found is None:
        return None
    return (
        f"{found['file']} is open in another process (PID {found['pid']}, {found['program']}): "
        "close that program (a notebook, a BI tool, another dbt run) or set "
        "CUSTOMER_SEGMENTATION_DB to another file, then run again"
    )


def one_line(message: str) -> str:
    """dbt's message for a failed node as one line: the text raised by the model (a
    compiler error's message, a Python model's exception message), not its context."""
    lines = [clean(line).strip() for line in message.splitlines()]
    lines = [line for line in lines if line]
    raised = lock_message(message) or _last_exception(lines)
    if raised:
        return raised
    body = [line for line in lines[1:] if not _is_context(line)]
    return body[0] if body else (lines[0] if lines else "failed")


def _last_exception(lines: list[str]) -> str | None:
    """The message of the last ``SomeError: message`` line, or None."""
    exceptions = [match for line in lines if (match := _EXCEPTION.match(line))]
    return exceptions[-1]["message"] if exceptions else None


def _is_context(line: str) -> bool:
    """A line of dbt's context around an error (code excerpt, headers), not its message."""
    return (
        line.startswith(">")
        or line == "Python model failed:"
        or line.startswith("compiled code at")
    )


def failures(run_results: Path) -> list[Failure]:
    """The nodes that errored or failed in a dbt run_results.json, in run order."""
    results = json.loads(run_results.read_text())["results"]
    found = []
    for result in results:
        if result["status"] not in ("error", "fail", "runtime error"):
            continue
        kind, _, rest = result["unique_id"].partition(".")
        name = rest.split(".", 1)[-1]
        message = result.get("message") or ""
        if result["status"] == "fail":
            message = f"{result.get('failures')} failing rows ({message})"
        found.append(Failure(kind.replace("_", " "), name, one_line(message)))
    return found


def summary(returncode: int, output: str, run_results: Path | None) -> list[str]:
    """The closing lines: nothing when dbt succeeded; else one line per failed node (or the
    one line that explains why dbt could not start)."""
    if returncode == 0:
        return []
    listed = failures(run_results) if run_results and run_results.exists() else []
    if not listed:
        return ["build stopped:", f"  {_why_dbt_stopped(output)}"]
    noun = "error" if len(listed) == 1 else "errors"
    return [f"build stopped: {len(listed)} {noun}", *(f"  {failure}" for failure in listed)]


def _why_dbt_stopped(output: str) -> str:
    """One line for a failed run that listed no failed node (dbt stopped before running
    one: a var, the project, the profile): a file lock, else the message under dbt's last
    error header (``Compilation Error in model ...`` is followed by the var's own line)."""
    locked = lock_message(output)
    if locked:
        return locked
    lines = output.splitlines()
    headers = [i for i, line in enumerate(lines) if "Error" in line]
    if not headers:
        return "dbt failed; see logs/dbt.log"
    return one_line("\n".join(lines[headers[-1] :]))


def target_path(dbt_args: Sequence[str]) -> Path:
    """Where dbt writes run_results.json: ``--target-path`` if given, else $DBT_TARGET_PATH,
    else ``target``."""
    args = list(dbt_args)
    for i, arg in enumerate(args):
        if arg == "--target-path" and i + 1 < len(args):
            return Path(args[i + 1])
        if arg.startswith("--target-path="):
            return Path(arg.split("=", 1)[1])
    return Path(os.environ.get("DBT_TARGET_PATH") or "target")


def run_build(
    dbt_args: Sequence[str], dbt: str = "dbt", echo: Callable[[str], None] = print
) -> int:
    """Run ``dbt build <dbt_args>``, stream its progress, end with :func:`summary`; returns
    dbt's exit code. An ``input_path`` that names an Excel workbook is converted first (into
    ``<target>/inputs``)."""
    from customer_segmentation.convert import converted_args

    target = target_path(dbt_args)
    try:
        args = converted_args(list(dbt_args), target / "inputs", echo)
    except ValueError as error:
        echo(f"build stopped:\n  {error}")
        return 2
    run_results = target / "run_results.json"
    run_results.unlink(missing_ok=True)
    process = subprocess.Popen(
        [dbt, "build", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    captured, details = [], False
    for line in process.stdout:
        captured.append(line)
        text = clean(line)
        details = details or bool(_DETAILS.search(text))
        if not details and _PROGRESS.search(text) or text.startswith("Done."):
            echo(text)
    returncode = process.wait()
    for line in summary(returncode, "".join(captured), run_results):
        echo(line)
    return returncode


def main(argv: Sequence[str]) -> int:
    """Entry point for ``customer-segmentation build [dbt build arguments]``."""
    dbt = Path(sys.executable).with_name("dbt")
    return run_build(list(argv), dbt=str(dbt) if dbt.exists() else "dbt")
