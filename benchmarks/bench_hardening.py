"""Load and bounded requests (issue 18): the server under 50 connections, and its memory through
the largest requests the bounds allow.

1. **Load.** ``wijkmonitor serve --host 127.0.0.1 --workers 2`` on the real store; every URL
   once (warm-up), then ``wrk`` (Debian 4.1, one thread) with 50 connections for 30 s, no think
   time, over one shuffled list mixing the three kinds of bench_web (``/api/v1/value/...``,
   ``/api/v1/gaps?areas=...``, ``/gebied/{area}``). Reported: requests, rate, socket errors
   (connect, read, write), wrk timeouts (no answer within 10 s), non-2xx answers, latency
   p50/p99/max. Target: 0 errors, 0 timeouts.
2. **Bounded-request probes.** On the same server, four at a time, the largest requests the
   declared bounds allow (50,000 regions as CSV and XLSX, 100 units of values, every buurt of a
   level as XLSX and GeoJSON, gaps of every area, an area page per programme) and requests just
   over a bound (answered 422). The memory of the server (master, both workers, uvicorn's
   resource tracker) is sampled every 0.2 s from start to end, two ways: ``Pss`` summed (the
   proportional set size of ``/proc/PID/smaps_rollup``: a page shared by the two workers, such
   as the code of DuckDB, Arrow and numpy, counts half in each, so the sum is the physical
   memory the server holds) and ``VmRSS`` summed (each process's resident pages, so a shared
   page counts once per process: an upper bound). Target: the peak of the ``Pss`` sum under
   1 GB; the ``VmRSS`` sum is printed beside it.

Not a timed test: figures go to ``benchmarks/README.md``. The Vergelijken page and its bounds
are measured by their own branch.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import _util
from bench_web import LUA, build_urls, fetch, free_port, server

TARGET_RSS = 1 << 30
CONNECTIONS = 50


def wrk_raw(base: str, paths: list[str], *, connections: int, duration: int) -> dict:
    """One wrk run over ``paths`` with wrk's error counts kept apart."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(paths) + "\n")
        plist = fh.name
    env = dict(os.environ, BENCH_PATHS=plist, BENCH_DELAY_MS="0")
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "--latency",
           "-s", str(LUA), base + paths[0]]
    try:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True,
                             timeout=duration + 60, check=True).stdout
    finally:
        os.unlink(plist)
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    return json.loads(line[len("WRKJSON "):])


def process_rss(pid: int) -> dict[int, int]:
    """VmRSS in bytes of ``pid`` and each of its descendants."""
    out, todo = {}, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out[p] = int(line.split()[1]) * 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def process_pss(pid: int) -> dict[int, int]:
    """Pss in bytes of ``pid`` and each of its descendants (``/proc/PID/smaps_rollup``)."""
    out = {}
    for p in process_rss(pid):
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    out[p] = int(line.split()[1]) * 1024
                    break
        except OSError:
            continue
    return out


def tree_rss(pid: int) -> int:
    """VmRSS in bytes of ``pid`` and all its descendants, added up."""
    return sum(process_rss(pid).values())


class RssSampler:
    """Samples the server's memory every ``interval`` seconds in a thread: ``peak`` is the
    largest ``VmRSS`` sum over the server's processes, ``peak_process`` the largest single
    process, ``peak_pss`` the largest ``Pss`` sum."""

    def __init__(self, pid: int, interval: float = 0.2):
        self.pid, self.interval, self.peak, self.peak_process = pid, interval, 0, 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            per = process_rss(self.pid)
            self.peak = max(self.peak, sum(per.values()))
            self.peak_process = max([self.peak_process, *per.values()])
            self.peak_pss = max(self.peak_pss, sum(process_pss(self.pid).values()))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def timed(base: str, path: str) -> tuple[str, int, float, int]:
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(base + path, timeout=120) as r:
            size = len(r.read())
            code = r.status
    except urllib.error.HTTPError as e:
        code, size = e.code, len(e.read())
    return path, code, time.perf_counter() - t0, size


def probes(store_path: Path) -> list[tuple[str, int]]:
    """(path, expected status) of the largest allowed requests and of some just over a bound."""
    import duckdb

    con = duckdb.connect(str(store_path), read_only=True)
    areas = [r[0] for r in con.execute("SELECT area_id FROM area_index ORDER BY 1").fetchall()]
    gm = [r[0] for r in con.execute("SELECT code FROM regions WHERE year = 2024 AND level = "
                                    "'gemeente' ORDER BY code LIMIT 100").fetchall()]
    buurt_year = con.execute("""SELECT period FROM indicator_values WHERE indicator =
                                'angst_depressie_pct' AND region_code LIKE 'BU%' GROUP BY 1
                                ORDER BY count(*) DESC LIMIT 1""").fetchone()[0]
    con.close()
    units = "&".join(f"unit={u}" for u in (areas + gm)[:100])
    ok = [
        ("/api/v1/regions?limit=50000&format=csv", 200),
        ("/api/v1/regions?limit=50000&offset=0&format=xlsx", 200),
        ("/api/v1/regions?limit=50000&format=json", 200),
        (f"/api/v1/values?{units}", 200),
        (f"/api/v1/values?{units}&format=xlsx", 200),
        (f"/api/v1/region-values?indicator=angst_depressie_pct&period={buurt_year}&level=buurt"
         "&format=xlsx", 200),
        (f"/indicator/angst_depressie_pct?niveau=buurt&gemeente=GM0363&jaar={buurt_year}"
         "&formaat=geojson", 200),
        ("/api/v1/gaps?areas=" + ",".join(areas) + "&baseline=2012&latest=2024", 200),
        ("/api/v1/gaps?areas=aandachtswijken&baseline=2013&latest=2023&format=xlsx", 200),
        ("/api/v1/outcome?programme=aandachtswijken&baseline=2013&latest=2022", 200),
        ("/gebied/GM0363?basisjaar=2013&laatstejaar=2021", 200),
        ("/gebied/rotterdam-zuid?basisjaar=2014&laatstejaar=2022&formaat=xlsx&tabel=reeksen", 200),
    ]
    over = [
        ("/api/v1/regions?limit=50001", 422),
        ("/api/v1/values?" + "&".join(["unit=GM0344"] * 101), 422),
        ("/api/v1/gaps?areas=" + ",".join((areas * 2)[:101]), 422),
        ("/api/v1/regions?q=" + "x" * 201, 422),
        ("/api/v1/value/GM0344/inwoners/99999", 422),
    ]
    return ok + over


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=30, help="seconds of the wrk run")
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", type=Path, default=None)
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        sys.exit("wrk ontbreekt: installeer het Debian-pakket wrk (scripts/setup doet dat als root)")
    from wijkmonitor import config
    store_path = args.store or config.store_path()
    urls = build_urls(store_path)
    mix = urls["value"] + urls["gap"] + urls["page"]
    random.Random(18).shuffle(mix)
    print(f"bench_hardening: wrk -c{args.connections} -d{args.duration}s against wijkmonitor serve "
          f"--workers {args.workers} (store {store_path}); load average {_util.load_average()}")
    print(f"  mix: {len(urls['value'])} value, {len(urls['gap'])} gap, {len(urls['page'])} area-page "
          f"URLs, shuffled")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [str(Path(sys.executable).with_name("wijkmonitor")), "serve", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(args.workers), "--store", str(store_path)]
    met = True
    with server(cmd, base + "/api/v1/classes") as proc, RssSampler(proc.pid) as rss:
        t0 = time.perf_counter()
        bad = [p for p in mix if fetch(base, p) != 200]
        print(f"  warm-up: every URL once in {time.perf_counter() - t0:.0f} s "
              f"({len(bad)} not 200{': ' + bad[0] if bad else ''}); server now: Pss "
              f"{_util.fmt_bytes(sum(process_pss(proc.pid).values()))} summed, RSS "
              f"{_util.fmt_bytes(tree_rss(proc.pid))} summed "
              f"({', '.join(_util.fmt_bytes(x) for x in sorted(process_rss(proc.pid).values(), reverse=True))})")
        r = wrk_raw(base, mix, connections=args.connections, duration=args.duration)
        secs = r["duration_us"] / 1e6
        errors = r["err_connect"] + r["err_read"] + r["err_write"]
        print(f"  load: {r['requests']} requests in {secs:.1f} s = {r['requests'] / secs:.0f} req/s; "
              f"p50 {r['p50_us'] / 1000:.1f} ms, p99 {r['p99_us'] / 1000:.1f} ms, "
              f"max {r['max_us'] / 1000:.0f} ms")
        print(f"  errors: connect {r['err_connect']}, read {r['err_read']}, write "
              f"{r['err_write']}; timeouts (10 s) {r['err_timeout']}; non-2xx {r['err_status']}")
        per = process_rss(proc.pid)
        print(f"  server Pss peak during load: {_util.fmt_bytes(rss.peak_pss)} summed")
        print(f"  server RSS peak during load: {_util.fmt_bytes(rss.peak)} summed over "
              f"{len(per)} processes (master, workers, resource tracker), largest process "
              f"{_util.fmt_bytes(rss.peak_process)}; now "
              f"{', '.join(_util.fmt_bytes(x) for x in sorted(per.values(), reverse=True))}")
        met &= errors == 0 and r["err_timeout"] == 0 and r["err_status"] == 0
        # bounded-request probes, four at a time
        plist = probes(store_path)
        t0 = time.perf_counter()
        with cf.ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda pe: timed(base, pe[0]), plist))
        print(f"  bounded-request probes ({len(plist)}, 4 at a time, {time.perf_counter() - t0:.1f} s):")
        for (path, want), (_, code, secs_, size) in zip(plist, results):
            short = path if len(path) < 90 else path[:87] + "..."
            # 503: the request timeout answered (the work was cut off, not the server)
            flag = "" if code == want else ("  (request timeout)" if code == 503
                                            else f"  (expected {want})")
            print(f"    {code} {secs_:6.2f} s {_util.fmt_bytes(size):>9}  {short}{flag}")
            met &= code in (want, 503)
        cut = sum(1 for _, code, _, _ in results if code == 503)
        print(f"  {cut} of {len(plist)} probes answered by the request timeout (503)")
        time.sleep(1)
    peak = rss.peak_pss
    print(f"  server memory peak over the whole run (load and probes): Pss {_util.fmt_bytes(peak)} "
          f"summed over the server's processes (target < {_util.fmt_bytes(TARGET_RSS)}); RSS "
          f"{_util.fmt_bytes(rss.peak)} summed (shared pages once per process), largest single "
          f"process {_util.fmt_bytes(rss.peak_process)}")
    met &= peak < TARGET_RSS
    print(f"target_met: {'yes' if met else 'no'}")
    _util.summary(bench="hardening", target="50 conn 30 s: 0 errors, 0 timeouts; memory (Pss summed) < 1 GB",
                  measured=(f"{r['requests'] / secs:.0f} req/s, p99 {r['p99_us'] / 1000:.0f} ms, "
                            f"{errors} errors, {r['err_timeout']} timeouts; Pss peak "
                            f"{_util.fmt_bytes(peak)} (RSS summed {_util.fmt_bytes(rss.peak)}, largest process "
                            f"{_util.fmt_bytes(rss.peak_process)})"), met=met)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
