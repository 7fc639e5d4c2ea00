"""Shared helpers for the benchmark scripts: run one measured step in a fresh process.

Every timed step runs in its own subprocess so that its peak memory is its own: the parent
reaps the child with :func:`os.wait4`, whose resource usage is that one child's (unlike
``getrusage(RUSAGE_CHILDREN)``, which is the maximum over every child reaped so far).

A child reports what it measured itself as one JSON object on the last line of its stdout
(:func:`report`); :func:`run_child` returns that object together with the wall time and the
peak resident set size seen by the parent.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field


@dataclass
class ChildRun:
    """One measured child process."""

    wall_s: float  #: wall time of the whole process (interpreter start, imports, work, exit)
    peak_rss: int  #: ``ru_maxrss`` from ``wait4``: includes the parent's RSS at the fork; use the child's own report (:func:`self_peak_rss`)
    cpu_s: float = 0.0  #: user + system CPU time of the process (from ``wait4``)
    report: dict = field(default_factory=dict)  #: the child's own JSON report
    stderr: str = ""


class ChildFailed(RuntimeError):
    """A benchmark child exited with an error; the message carries its stderr."""


def run_child(args: list[str], *, env: dict | None = None) -> ChildRun:
    """Run ``python <args>`` in a fresh process and measure it.

    Raises :class:`ChildFailed` (with the child's stderr) when it exits non-zero or prints no
    JSON report.
    """
    cmd = [sys.executable, *args]
    with tempfile.TemporaryFile(mode="w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env, text=True)
        out = proc.stdout.read()
        proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    if proc.returncode != 0:
        raise ChildFailed(f"{' '.join(cmd)} exited with {proc.returncode}:\n{stderr[-4000:]}")
    lines = [ln for ln in out.splitlines() if ln.strip()]
    try:
        report = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError) as exc:
        raise ChildFailed(f"{' '.join(cmd)} printed no JSON report:\n{out[-2000:]}\n{stderr[-2000:]}") from exc
    return ChildRun(wall_s=wall, peak_rss=maxrss_bytes(usage.ru_maxrss), report=report, stderr=stderr,
                    cpu_s=usage.ru_utime + usage.ru_stime)


def maxrss_bytes(ru_maxrss: int) -> int:
    """``ru_maxrss`` in bytes (Linux reports kilobytes, macOS bytes)."""
    return ru_maxrss if sys.platform == "darwin" else ru_maxrss * 1024


def self_cpu_s() -> float:
    """User + system CPU time of the current process so far (all its threads), seconds."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def load_average() -> str:
    """The 1-minute load average, e.g. ``'1.23'`` (other work on the machine skews timings)."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def self_peak_rss() -> int:
    """Peak resident set size of the current process so far, in bytes.

    On Linux this is ``VmHWM`` of ``/proc/self/status``: the high-water mark of this program's
    own memory. ``ru_maxrss`` is not used there because a child keeps the largest RSS it had
    before ``exec``, i.e. the parent's resident pages at the fork: a benchmark parent holding
    1.7 GB made every child report at least 1.7 GB.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return maxrss_bytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def report(**values) -> None:
    """Print a child's measurements as the JSON line :func:`run_child` reads."""
    print(json.dumps(values), flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values)


def fmt_bytes(n: float) -> str:
    """Bytes as MB/GB (powers of 1024), e.g. ``1.23 GB``."""
    for unit, size in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("kB", 1024)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:.0f} B"


def summary(*, bench: str, target: str, measured: str, met: bool | None, baseline: str = "",
            ratio: str = "", note: str = "") -> None:
    """Print the one-line summary that ``scripts/bench`` collects into its table.

    ``met`` is None when the benchmark has no target (comparison only).
    """
    print("BENCH-SUMMARY " + json.dumps(dict(bench=bench, target=target, measured=measured, met=met,
                                              baseline=baseline, ratio=ratio, note=note)),
          flush=True)



def cpu_by_descendant(root: int) -> dict[int, float]:
    """CPU seconds (user + system) of every living descendant of ``root`` (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[tuple[int, float]]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = open(f"/proc/{d}/stat").read()
        except OSError:
            continue
        f = stat[stat.rindex(")") + 2:].split()
        children.setdefault(int(f[1]), []).append((int(d), (int(f[11]) + int(f[12])) / tick))
    out, todo = {}, [root]
    while todo:
        for pid, cpu in children.get(todo.pop(), []):
            out[pid] = cpu
            todo.append(pid)
    return out


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` itself (0 when it is gone)."""
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return 0.0
    f = stat[stat.rindex(")") + 2:].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(*roots: int) -> float:
    """CPU seconds of the processes ``roots`` and all their descendants."""
    return sum(process_cpu(r) + sum(cpu_by_descendant(r).values()) for r in roots)


def wait_idle(*roots: int, idle_share: float = 0.05, timeout: float = 120.0) -> float:
    """Wait until the processes ``roots`` and their descendants use under ``idle_share`` of a
    core over a second (e.g. a server that warms its caches in the background after it
    answers); the seconds waited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        before = tree_cpu(*roots)
        time.sleep(1.0)
        if tree_cpu(*roots) - before < idle_share:
            break
    return time.perf_counter() - t0
