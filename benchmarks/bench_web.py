"""Web and API latency under load with wrk, against the real built store on loopback, and the
same value look-ups served by Datasette.

Run ``WIJKMONITOR_STORE=/path/to/store.duckdb python benchmarks/bench_web.py`` (needs the
Debian package ``wrk``; the Datasette comparison needs ``/work/venv-datasette``, made with
``python -m venv /work/venv-datasette && /work/venv-datasette/bin/pip install -r
benchmarks/requirements-datasette.txt``, or ``$WIJKMONITOR_DATASETTE``; it is skipped when
missing). Every server listens on 127.0.0.1 only; every wrk run is bounded in time.

What is measured
----------------
The server is ``wijkmonitor serve --host 127.0.0.1 --port P --workers W``. Three
request mixes, each cycling through real URLs built from the store:

``value``  ``/api/v1/value/{unit}/{indicator}/{year}``: half area units (the 60 areas), half CBS
           regions (gemeenten, wijken, buurten of 2024), with indicators and years that have
           values;
``gap``    ``/api/v1/gaps?areas={area}&baseline=2012&latest=2024`` (one area, all indicators)
           and the same with ``&indicator=...``;
``page``   ``/gebied/{area}``, the area page (HTML with charts), for all 60 areas.

Cold and warm. The server keeps, per store version, an in-memory index of the values (built
on the first value request), the JSON of every gap query and the store-only parts of every
area page (bounded LRU caches). So first, per mix, a fresh server (same ``--workers``) gets
every URL of the mix once, sequentially: the **first-request (uncached) latencies** (median,
p99, max; the very first value request includes building the index, printed apart). Then,
on another fresh server, every URL is requested once (warm-up) and the wrk runs follow: **the
warm figures are served from these caches** (the area page's section from the editable store
is still read per request). The server runs ``--workers`` uvicorn processes (default 2, one
per core of this machine); each builds its own caches. The memory of the value index (numpy
columns and dicts) is measured in this process and the workers' RSS is printed.

Debian's wrk (4.1) has no fixed-rate mode (wrk2's ``-R``). The "at 500 requests/s" runs
therefore use ``wrk_paths.lua``: 10 connections, each waiting ``BENCH_DELAY_MS`` before its
next request (closed loop with think time), the delay set so that the offered rate is about
500 requests/s given the latency measured in a short probe; the achieved rate is printed next
to p99 (wrk ``--latency`` percentiles, which do not correct for coordinated omission). A second
run per mix without delay (``--connections`` connections) gives the saturation throughput and
its p99. The area page is measured with one connection, sequentially: its target is a latency,
not a rate.

Baseline: Datasette (pinned in ``requirements-datasette.txt``) serving the same two tables
(``area_values``, ``indicator_values``) from SQLite (indexed on the look-up columns),
``/db/area_values.json?unit_id=...&indicator=...&period=...&_shape=array`` and the same on
``indicator_values`` by ``region_code``; same URLs mix, same rate and connections. Datasette
computes no gaps or area pages, so only the value look-ups are compared.

Targets (issue 6): API value and gap endpoints p99 < 20 ms at 500 requests/s; an area page
p99 < 100 ms.

Targets (issue 17, printed as ``target_met_pages``): area pages with ``--workers 2`` and wrk at
50 connections (no think time, the warm server) at 200 requests/s or more with p99 under
100 ms, and a cold first render under 150 ms. The server renders the 60 area pages (default
years) at start, so the first requests of the ``page`` mix come from that cache; the render
itself is timed on the same pages with other years (``?laatstejaar=2022``, a fresh server,
each once), and that median is held against the 150 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import _util

HERE = Path(__file__).resolve().parent
LUA = HERE / "wrk_paths.lua"
DATASETTE = os.environ.get("WIJKMONITOR_DATASETTE", "/work/venv-datasette/bin/datasette")
TARGET_API_P99_MS = 20.0
TARGET_PAGE_P99_MS = 100.0
TARGET_RATE = 500
#: issue 17: area pages at 50 connections
TARGET_PAGES_RPS, TARGET_PAGES_P99_MS, TARGET_PAGES_CONNECTIONS, TARGET_COLD_RENDER_MS = 200, 100.0, 50, 150.0
RATE_CONNECTIONS = 10
SEED = 6


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before it was ready ({url})")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server not ready after {timeout:.0f} s: {url}")


@contextlib.contextmanager
def server(cmd: list[str], ready_url: str, env: dict | None = None):
    """Start a server process, wait until ``ready_url`` answers 200, stop it afterwards."""
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        try:
            wait_ready(ready_url, proc)
        except RuntimeError:
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace")[-3000:])
            raise
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def fetch(base: str, path: str) -> int:
    try:
        with urllib.request.urlopen(base + path, timeout=60) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def wrk(base: str, paths: list[str], *, connections: int, duration: int, delay_ms: float = 0.0,
        threads: int = 1) -> dict:
    """One bounded wrk run over ``paths``; returns wrk's numbers (latencies in ms)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(paths) + "\n")
        plist = fh.name
    env = dict(os.environ, BENCH_PATHS=plist, BENCH_DELAY_MS=str(int(round(delay_ms))))
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
           "--latency", "-s", str(LUA), base + paths[0]]
    try:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True,
                             timeout=duration + 60, check=True).stdout
    finally:
        os.unlink(plist)
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    r = json.loads(line[len("WRKJSON "):])
    secs = r["duration_us"] / 1e6
    return dict(rps=r["requests"] / secs, requests=r["requests"],
                p50=r["p50_us"] / 1000, p90=r["p90_us"] / 1000, p99=r["p99_us"] / 1000,
                p999=r["p999_us"] / 1000, max=r["max_us"] / 1000, mean=r["mean_us"] / 1000,
                errors=r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"],
                non2xx=r["err_status"], connections=connections, delay_ms=int(round(delay_ms)))


def at_rate(base: str, paths: list[str], duration: int, rate: int = TARGET_RATE,
            connections: int = RATE_CONNECTIONS) -> dict:
    """wrk at about ``rate`` requests/s: a 3 s probe measures the latency, then the delay per
    connection is chosen so that ``connections / (delay + latency) = rate``."""
    per_conn_ms = 1000.0 * connections / rate
    probe = wrk(base, paths, connections=connections, duration=3, delay_ms=per_conn_ms)
    delay = max(0.0, per_conn_ms - probe["mean"])
    return wrk(base, paths, connections=connections, duration=duration, delay_ms=delay)


# ---------------------------------------------------------------------------------------
# URLs from the store
# ---------------------------------------------------------------------------------------

def build_urls(store_path: Path, n: int = 400) -> dict:
    """Real request paths for the three mixes (and the Datasette equivalents)."""
    import duckdb

    rng = random.Random(SEED)
    con = duckdb.connect(str(store_path), read_only=True)
    areas = [r[0] for r in con.execute("SELECT area_id FROM area_index ORDER BY area_id").fetchall()]
    area_vals = con.execute("""SELECT unit_id, indicator, period FROM area_values
                               WHERE unit_kind = 'area' AND status = 'ok' ORDER BY ALL""").fetchall()
    region_vals = con.execute("""
        SELECT region_code, indicator, period FROM indicator_values TABLESAMPLE 20000 ROWS (reservoir, 6)
        WHERE region_code IN (SELECT code FROM regions WHERE year = 2024 AND level <> 'land')
        ORDER BY ALL""").fetchall()
    indicators = [r[0] for r in con.execute(
        "SELECT DISTINCT indicator FROM area_values ORDER BY 1").fetchall()]
    con.close()
    a = rng.sample(area_vals, min(n // 2, len(area_vals)))
    r = rng.sample(region_vals, min(n // 2, len(region_vals)))
    value = [f"/api/v1/value/{u}/{i}/{p}" for u, i, p in a + r]
    rng.shuffle(value)
    ds_value = ([f"/bench/area_values.json?unit_id={u}&indicator={i}&period={p}&_shape=array" for u, i, p in a]
                + [f"/bench/indicator_values.json?region_code={u}&indicator={i}&period={p}&_shape=array"
                   for u, i, p in r])
    rng.shuffle(ds_value)
    gap = [f"/api/v1/gaps?areas={x}&baseline=2012&latest=2024" for x in areas]
    gap += [f"/api/v1/gaps?areas={x}&baseline=2012&latest=2024&indicator={rng.choice(indicators)}"
            for x in areas]
    rng.shuffle(gap)
    page = [f"/gebied/{x}" for x in areas]
    return dict(value=value, gap=gap, page=page, ds_value=ds_value)


def datasette_db(store_path: Path, target: Path) -> Path:
    """The store's ``area_values`` and ``indicator_values`` as SQLite (rebuilt when the store
    is newer), indexed on the look-up columns."""
    import duckdb

    if target.exists() and target.stat().st_mtime >= store_path.stat().st_mtime:
        return target
    tmp = target.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(store_path), read_only=True)
    lite = sqlite3.connect(tmp)
    for table in ("area_values", "indicator_values"):
        cur = con.execute(f"SELECT * FROM {table}")
        cols = [d[0] for d in cur.description]
        lite.execute(f"CREATE TABLE {table} ({', '.join(cols)})")
        while True:
            rows = cur.fetchmany(50_000)
            if not rows:
                break
            lite.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(cols))})", rows)
    lite.execute("CREATE INDEX av_lookup ON area_values (unit_id, indicator, period)")
    lite.execute("CREATE INDEX iv_lookup ON indicator_values (region_code, indicator, period)")
    lite.commit()
    lite.close()
    con.close()
    tmp.replace(target)
    return target


def first_requests(base: str, paths: list[str]) -> list[float]:
    """Each path once, sequentially (one connection each): latencies in ms."""
    out = []
    for p in paths:
        t0 = time.perf_counter()
        code = fetch(base, p)
        out.append((time.perf_counter() - t0) * 1000)
        if code != 200:
            raise RuntimeError(f"{p}: HTTP {code}")
    return out


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def worker_rss(proc: subprocess.Popen) -> list[int]:
    """RSS in bytes of the server's uvicorn processes (the workers, else the server itself)."""
    def rss(pid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return 0
        return 0
    kids = []
    for task in Path(f"/proc/{proc.pid}/task").iterdir():
        with contextlib.suppress(OSError):
            kids += [int(k) for k in (task / "children").read_text().split()]
    workers = [k for k in kids if "spawn_main" in Path(f"/proc/{k}/cmdline").read_bytes().decode(errors="replace")]
    return [rss(k) for k in workers] or [rss(proc.pid)]


def index_memory(store_path: Path) -> str:
    """Build the value index in this process: its size and build time."""
    from wijkmonitor.web.data import WebStore
    ws = WebStore(store_path)
    idx = ws.value_index()
    return (f"value index: {_util.fmt_bytes(idx.nbytes())} (numpy columns and dicts; "
            f"{len(idx.keys)} region rows, {len(idx.area)} area records), built in {idx.build_seconds:.1f} s")


# ---------------------------------------------------------------------------------------

def fmt(r: dict) -> str:
    return (f"{r['rps']:7.1f} req/s  p50 {r['p50']:6.2f}  p90 {r['p90']:6.2f}  p99 {r['p99']:7.2f}  "
            f"max {r['max']:7.1f} ms  ({r['requests']} requests, {r['connections']} conn, delay "
            f"{r['delay_ms']} ms, errors {r['errors']}, non-2xx {r['non2xx']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--runs", type=int, default=3, help="wrk runs per measurement (median)")
    parser.add_argument("--connections", type=int, default=8, help="connections of the saturation runs")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes of the server")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "wijkmonitor-bench",
                        help="where the SQLite copy for Datasette is kept")
    args = parser.parse_args(argv)

    if not shutil.which("wrk"):
        sys.exit("wrk ontbreekt: installeer het Debian-pakket wrk (scripts/setup doet dat als root)")
    from wijkmonitor import config
    store_path = config.store_path()
    if not store_path.exists():
        sys.exit(f"de store {store_path} bestaat niet: draai eerst 'wijkmonitor build'")
    urls = build_urls(store_path)
    print(f"bench_web: wrk against wijkmonitor serve on 127.0.0.1 (store {store_path})")
    print(f"  machine: {os.cpu_count()} cores; wrk 1 thread; {args.runs} run(s) of {args.duration} s per "
          f"measurement (median); load average {_util.load_average()}")
    print(f"  URLs: {len(urls['value'])} value, {len(urls['gap'])} gap, {len(urls['page'])} area pages")
    print(f"  server: wijkmonitor serve --workers {args.workers} (uvicorn, uvloop/httptools when installed)")
    print(f"  {index_memory(store_path)}")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    wm_cmd = [str(Path(sys.executable).with_name("wijkmonitor")), "serve", "--host", "127.0.0.1",
              "--port", str(port), "--store", str(store_path), "--workers", str(args.workers)]
    results: dict[str, dict] = {}

    # first requests (uncached): a fresh server per mix, every URL once
    cold: dict[str, list[float]] = {}
    for mix in ("value", "gap", "page"):
        with server(wm_cmd, base + "/api/v1/classes") as proc:
            # after the server's start-up warm-up (background, ~15 s of CPU): the first requests
            # measure an uncached render, not a render competing with the warm-up
            idle_s = _util.wait_idle(proc.pid)
            rss0 = worker_rss(proc)
            cold[mix] = first_requests(base, urls[mix])
            rss1 = worker_rss(proc)
        first, rest = cold[mix][0], cold[mix][1:]
        print(f"  first request per URL, {mix:<5}: median {_util.median(rest):7.2f}  p99 {pct(rest, 99):7.2f}  "
              f"max {max(rest):7.1f} ms ({len(rest)} URLs, sequential, fresh server; the very first "
              f"{first:.0f} ms{' incl. building the value index' if mix == 'value' else ''}; server idle after "
              f"{idle_s:.0f} s); worker RSS "
              f"{'/'.join(_util.fmt_bytes(x) for x in rss0)} -> {'/'.join(_util.fmt_bytes(x) for x in rss1)}",
              flush=True)
    # the server renders the 60 area pages at start (default years: the mix's URLs); an area
    # page with other years is rendered on request: the render time itself
    with server(wm_cmd, base + "/api/v1/classes") as proc:
        _util.wait_idle(proc.pid)
        cold["render"] = first_requests(base, [p + "?laatstejaar=2022" for p in urls["page"]])
    rest = cold["render"][1:]
    print(f"  uncached render of an area page (other years, not rendered at start): median "
          f"{_util.median(rest):7.2f}  p99 {pct(rest, 99):7.2f}  max {max(rest):7.1f} ms ({len(rest)} URLs)", flush=True)
    results["cold"] = {m: dict(first=c[0], median=_util.median(c[1:]), p99=pct(c[1:], 99)) for m, c in cold.items()}
    print("  warm runs below: served from the caches (value index, gap JSON, area page parts)")

    def median_run(label, fn):
        runs = [fn() for _ in range(args.runs)]
        med = sorted(runs, key=lambda r: r["p99"])[len(runs) // 2]
        med = dict(med, p99_runs=[round(r["p99"], 2) for r in runs],
                   rps_median=_util.median([r["rps"] for r in runs]))
        results[label] = med
        print(f"  {label:<32} {fmt(med)}; p99 per run {med['p99_runs']}", flush=True)
        return med

    with server(wm_cmd, base + "/api/v1/classes"):
        t0 = time.perf_counter()
        bad = {}
        for mix in ("value", "gap", "page"):
            codes = [fetch(base, p) for p in urls[mix]]
            bad[mix] = sum(c != 200 for c in codes)
        # every worker has caches of its own: after one sequential pass, wrk goes through each
        # mix with several connections so that every worker sees every URL (about)
        for mix, secs in (("value", 5), ("gap", 5), ("page", 40)):
            wrk(base, urls[mix], connections=4 * args.workers, duration=secs)
        print(f"  warm-up: every URL once, then wrk {4 * args.workers} connections over each mix "
              f"(5/5/40 s), in {time.perf_counter() - t0:.1f} s; non-200 in the first pass: {bad}")
        median_run("wijkmonitor value @500/s", lambda: at_rate(base, urls["value"], args.duration))
        median_run("wijkmonitor gap @500/s", lambda: at_rate(base, urls["gap"], args.duration))
        median_run("wijkmonitor page 1 conn", lambda: wrk(base, urls["page"], connections=1,
                                                            duration=args.duration))
        median_run("wijkmonitor page 50 conn", lambda: wrk(base, urls["page"], connections=TARGET_PAGES_CONNECTIONS,
                                                             duration=args.duration))
        median_run("wijkmonitor value saturation", lambda: wrk(base, urls["value"], connections=args.connections,
                                                                duration=args.duration))
        median_run("wijkmonitor gap saturation", lambda: wrk(base, urls["gap"], connections=args.connections,
                                                              duration=args.duration))

    ds = None
    if Path(DATASETTE).exists():
        args.workdir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        db = datasette_db(store_path, args.workdir / "bench.db")
        print(f"  Datasette: SQLite copy {db} ({_util.fmt_bytes(db.stat().st_size)}, "
              f"{time.perf_counter() - t0:.1f} s)")
        ds_port = free_port()
        ds_base = f"http://127.0.0.1:{ds_port}"
        version = subprocess.run([DATASETTE, "--version"], capture_output=True, text=True).stdout.strip()
        ds_cmd = [DATASETTE, "serve", "-i", str(db), "--host", "127.0.0.1", "--port", str(ds_port),
                  "--setting", "sql_time_limit_ms", "10000"]
        with server(ds_cmd, ds_base + "/-/versions.json"):
            codes = [fetch(ds_base, p) for p in urls["ds_value"]]
            print(f"  {version}: warm-up non-200: {sum(c != 200 for c in codes)}")
            ds = median_run("datasette value @500/s", lambda: at_rate(ds_base, urls["ds_value"], args.duration))
            median_run("datasette value saturation", lambda: wrk(ds_base, urls["ds_value"],
                                                                  connections=args.connections,
                                                                  duration=args.duration))
    else:
        print(f"  Datasette: {DATASETTE} not found, comparison skipped (see the docstring)")

    v, g, p = results["wijkmonitor value @500/s"], results["wijkmonitor gap @500/s"], results["wijkmonitor page 1 conn"]
    api_ok = all(r["p99"] < TARGET_API_P99_MS and r["rps_median"] >= 0.95 * TARGET_RATE
                 and r["errors"] == 0 and r["non2xx"] == 0 for r in (v, g))
    page_ok = p["p99"] < TARGET_PAGE_P99_MS and p["errors"] == 0 and p["non2xx"] == 0
    print(f"value p99 {v['p99']:.2f} ms at {v['rps_median']:.0f} req/s; gap p99 {g['p99']:.2f} ms at "
          f"{g['rps_median']:.0f} req/s; area page p99 {p['p99']:.1f} ms (warm: from the caches, "
          f"{args.workers} workers)")
    c = results["cold"]
    print(f"first requests (uncached), p99: value {c['value']['p99']:.1f} ms, gap {c['gap']['p99']:.1f} ms, "
          f"area page {c['page']['p99']:.0f} ms; the first value request {c['value']['first']:.0f} ms")
    print(f"target: API value and gap p99 < {TARGET_API_P99_MS:g} ms at {TARGET_RATE} req/s; area page "
          f"p99 < {TARGET_PAGE_P99_MS:g} ms")
    ratio = ""
    if ds:
        sat_w = results["wijkmonitor value saturation"]["rps_median"]
        sat_d = results["datasette value saturation"]["rps_median"]
        ratio = f"value p99 {ds['p99'] / v['p99']:.1f}x, saturation {sat_w / sat_d:.1f}x"
        print(f"ratio datasette/wijkmonitor (value look-ups): p99 at 500/s {ds['p99'] / v['p99']:.2f}x; "
              f"saturation throughput wijkmonitor/datasette {sat_w / sat_d:.2f}x")
    print(f"target_met: {'yes' if api_ok and page_ok else 'no'}")
    p50c = results["wijkmonitor page 50 conn"]
    pages_ok = (p50c["rps_median"] >= TARGET_PAGES_RPS and p50c["p99"] < TARGET_PAGES_P99_MS
                and p50c["errors"] == 0 and p50c["non2xx"] == 0)
    cold_ok = c["render"]["median"] < TARGET_COLD_RENDER_MS
    print(f"issue 17: area pages at {TARGET_PAGES_CONNECTIONS} connections {p50c['rps_median']:.0f} req/s, p99 "
          f"{p50c['p99']:.1f} ms (target >= {TARGET_PAGES_RPS} req/s, p99 < {TARGET_PAGES_P99_MS:g} ms): "
          f"{'yes' if pages_ok else 'no'}; uncached render median {c['render']['median']:.0f} ms "
          f"(target < {TARGET_COLD_RENDER_MS:g} ms): {'yes' if cold_ok else 'no'}; first request of a page "
          f"rendered at start {c['page']['median']:.0f} ms")
    print(f"target_met_pages: {'yes' if pages_ok and cold_ok else 'no'}")
    _util.summary(bench="web", target=f"API p99 < {TARGET_API_P99_MS:g} ms @{TARGET_RATE}/s; page p99 < {TARGET_PAGE_P99_MS:g} ms",
                  measured=(f"value {v['p99']:.1f} ms @{v['rps_median']:.0f}/s, gap {g['p99']:.1f} ms "
                            f"@{g['rps_median']:.0f}/s, page {p['p99']:.0f} ms (cached; "
                            f"uncached p99 {c['value']['p99']:.0f}/{c['gap']['p99']:.0f}/{c['page']['p99']:.0f} ms); "
                            f"pages @50 conn {p50c['rps_median']:.0f} req/s p99 {p50c['p99']:.0f} ms, "
                            f"uncached render median {c['render']['median']:.0f} ms"),
                  met=api_ok and page_ok,
                  baseline=f"Datasette value {ds['p99']:.1f} ms @{ds['rps_median']:.0f}/s" if ds else "Datasette: skipped",
                  ratio=ratio)
    return 0


if __name__ == "__main__":
    sys.exit(main())
