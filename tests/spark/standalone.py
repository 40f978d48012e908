"""A Spark standalone cluster on this machine, from pyspark's own jars: one master and some
workers, each a separate JVM started with ``$SPARK_HOME/bin/spark-class`` (SPARK_HOME = the
pyspark package directory), on 127.0.0.1 and free ports. Test and benchmark support (not
part of the installed package): the runner against a real ``spark://`` master::

    with StandaloneCluster(workers=2, scratch=Path("/tmp/cluster")) as cluster:
        customer-segmentation spark --master {cluster.master_url} \\
            --conf spark.driver.host=127.0.0.1 build

Only the processes it started are stopped (by PID, each in its own process group so that the
executors a worker launched go too). Needs pyspark and Java 17; imports neither.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def spark_home() -> Path:
    """The pyspark package directory: it ships ``bin/spark-class`` and the jars."""
    import importlib.util

    spec = importlib.util.find_spec("pyspark")
    if spec is None or spec.origin is None:
        raise RuntimeError("pyspark is not installed: pip install -e '.[spark]'")
    return Path(spec.origin).parent


@dataclass
class StandaloneCluster:
    """A master and ``workers`` workers (``cores`` cores, ``memory`` each) as child processes.

    ``scratch`` holds their logs (``master.log``, ``worker-<i>.log``) and work directories.
    ``start()`` returns once every worker registered with the master (or raises, after
    stopping what it started, when that takes longer than ``timeout`` seconds).
    """

    scratch: Path
    workers: int = 2
    cores: int = 1
    memory: str = "2g"
    timeout: float = 120.0
    master_port: int = 0
    master_webui_port: int = 0
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def master_url(self) -> str:
        return f"spark://{HOST}:{self.master_port}"

    @property
    def pids(self) -> dict[str, int]:
        """Role (``master``, ``worker-1``, ...) to PID of each process started."""
        return {role: process.pid for role, process in self.processes.items()}

    def _spawn(self, role: str, arguments: list[str]) -> None:
        home = spark_home()
        log = open(self.scratch / f"{role}.log", "wb")  # noqa: SIM115 (closed with the process)
        environment = {
            **os.environ,
            "SPARK_HOME": str(home),
            "SPARK_LOG_DIR": str(self.scratch),
            "SPARK_WORKER_DIR": str(self.scratch / f"{role}-work"),
            "SPARK_LOCAL_IP": HOST,
            "SPARK_NO_DAEMONIZE": "1",
        }
        self.processes[role] = subprocess.Popen(
            [str(home / "bin" / "spark-class"), *arguments],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,  # its own process group: the worker's executors stop with it
        )
        log.close()

    def start(self) -> StandaloneCluster:
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.master_port = self.master_port or free_port()
        self.master_webui_port = self.master_webui_port or free_port()
        try:
            self._spawn(
                "master",
                ["org.apache.spark.deploy.master.Master", "--host", HOST]
                + ["--port", str(self.master_port), "--webui-port", str(self.master_webui_port)],
            )
            self._wait(lambda state: state is not None, "the master to start")
            for i in range(1, self.workers + 1):
                self._spawn(
                    f"worker-{i}",
                    ["org.apache.spark.deploy.worker.Worker", self.master_url, "--host", HOST]
                    + ["--cores", str(self.cores), "--memory", self.memory]
                    + ["--webui-port", str(free_port())],
                )
            self._wait(
                lambda state: state is not None and self.alive_workers(state) == self.workers,
                f"{self.workers} workers to register",
            )
        except BaseException:
            self.stop()
            raise
        return self

    def state(self) -> dict | None:
        """The master's JSON status page, or None while it does not answer."""
        url = f"http://{HOST}:{self.master_webui_port}/json/"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.load(response)
        except OSError:
            return None

    @staticmethod
    def alive_workers(state: dict) -> int:
        return sum(worker.get("state") == "ALIVE" for worker in state.get("workers", []))

    def _wait(self, ready, what: str) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            for role, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(
                        f"spark {role} exited ({process.returncode}) while waiting for {what}; "
                        f"see {self.scratch / (role + '.log')}"
                    )
            if ready(self.state()):
                return
            time.sleep(0.5)
        raise TimeoutError(f"waited {self.timeout:.0f} s for {what}; logs in {self.scratch}")

    def stop(self, grace: float = 20.0) -> None:
        """Stop the workers, then the master: SIGTERM to each started process group, SIGKILL
        after ``grace`` seconds. Safe to call twice."""
        for role in sorted(self.processes, key=lambda r: r == "master"):
            process = self.processes[role]
            if process.poll() is None:
                _signal_group(process.pid, signal.SIGTERM)
                try:
                    process.wait(grace)
                except subprocess.TimeoutExpired:
                    _signal_group(process.pid, signal.SIGKILL)
                    process.wait()
            _signal_group(process.pid, signal.SIGKILL)  # executors left in its group, if any

    def __enter__(self) -> StandaloneCluster:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _children() -> dict[int, list[int]]:
    """Parent PID to child PIDs, from /proc (Linux)."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(parent, []).append(int(entry))
    return tree


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(pid: int, tree: dict[int, list[int]] | None = None) -> int:
    """Resident memory (bytes) of ``pid`` and all its descendants now; 0 once it is gone."""
    tree = _children() if tree is None else tree
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += _rss_bytes(current)
        stack.extend(tree.get(current, []))
    return total


class PeakMemory:
    """Samples the resident memory of some process trees every ``interval`` seconds in a
    background thread and keeps each one's peak (bytes): ``peaks[role]``. A worker's tree
    includes the executor JVM and its Python workers; a driver's its JVM."""

    def __init__(self, roots: dict[str, int], interval: float = 0.5) -> None:
        import threading

        self.roots = dict(roots)
        self.interval = interval
        self.peaks = dict.fromkeys(self.roots, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def add(self, role: str, pid: int) -> None:
        self.roots[role] = pid
        self.peaks.setdefault(role, 0)

    def _run(self) -> None:
        while not self._stop.is_set():
            tree = _children()
            for role, pid in list(self.roots.items()):
                self.peaks[role] = max(self.peaks[role], tree_rss(pid, tree))
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
