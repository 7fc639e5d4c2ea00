"""Interactive map: first view of a gemeente with ~500 buurten, interactive within 1 s (issue 17).

What is timed: Debian chromium (Playwright, headless, software WebGL by SwiftShader) opens the
indicator page of Amsterdam's 517 buurten (``eengezinswoningen_pct``, 2024; 439 of them have a
polygon) in a fresh browser context, so with an empty cache, as a first visit. The figure is
the time from navigation start to the map's first ``idle`` event after its regions are drawn
(``window.wmKaartKlaar``, set by ``static/kaart.js``): HTML, MapLibre GL JS (1 MB, vendored),
its worker, the GeoJSON from ``/api/v1/kaart/indicator/...`` and the first frame. From then on
the map answers clicks, taps, zoom and the keyboard.

The server (``wijkmonitor serve``, one worker, on the store of ``WIJKMONITOR_STORE``) is warmed
first with one request of the page and one of its GeoJSON, so the figure is the browser's, not
the server's first-request cost (that is reported too, as ``server_cold_*``).

    python benchmarks/bench_map.py [--runs 5] [--path /indicator/...] [--compare OTHER/src]

Prints each run, the median and ``target_met: yes/no``. ``--compare`` serves a second checkout
(its ``src`` folder, e.g. ``../main/src``: the code before a change) on the same store and
alternates the views of both in the same browser (A B B A ...), so that both see the same load
of a shared machine; it prints both medians and the CPU time per view (every process of the
browser and both servers, from navigation start to interactive). The target is judged on this
checkout's views only.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _util  # noqa: E402

TARGET_MS = 1000.0
PATH = "/indicator/eengezinswoningen_pct?niveau=buurt&gemeente=GM0363&jaar=2024"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
        "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(store: str, src: str | None) -> tuple[subprocess.Popen, str]:
    """``wijkmonitor serve`` (of ``src`` when given) on a free port, answering."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=src) if src else None
    proc = subprocess.Popen([sys.executable, "-m", "wijkmonitor", "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--store", store],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    for _ in range(300):
        try:
            if httpx.get(base + "/over", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return proc, base


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--path", default=PATH)
    ap.add_argument("--compare", metavar="SRC", help="src folder of another checkout, viewed interleaved")
    args = ap.parse_args()
    store = os.environ.get("WIJKMONITOR_STORE", "var/wijkmonitor.duckdb")
    proc, base = _serve(store, None)
    procs = [proc]
    try:
        t = time.perf_counter()
        page = httpx.get(base + args.path, timeout=120)
        cold_page = time.perf_counter() - t
        src = page.text.split('data-wm-kaart="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        t = time.perf_counter()
        gj = httpx.get(base + src, timeout=120)
        cold_geojson = time.perf_counter() - t
        n_features = gj.text.count('"type":"Feature"')
        sites = [("", base)]
        if args.compare:
            other, obase = _serve(store, str(Path(args.compare).resolve()))
            procs.append(other)
            httpx.get(obase + args.path, timeout=120)
            httpx.get(obase + src, timeout=120)
            sites.append(("compare ", obase))
        # the server warms its caches in a background thread at start (value index, map layers,
        # buurt links: ~15 s of CPU); the views are timed once it is idle, so that they measure
        # the browser's first view and not the server's start competing for the 2 cores
        waited = _util.wait_idle(*(p.pid for p in procs))
        print(f"server_idle_after_s: {waited:.1f}")
        print(f"load_average_before: {open('/proc/loadavg').read().split()[0]}")
        print(f"page: {args.path} ({len(page.content) // 1024} KB), geojson {len(gj.content) // 1024} KB, "
              f"{n_features} regions drawn")
        print(f"server_cold_page_ms: {cold_page * 1000:.0f}")
        print(f"server_cold_geojson_ms: {cold_geojson * 1000:.0f}")

        from playwright.sync_api import sync_playwright

        runs = {label: [] for label, _ in sites}
        cpus = {label: [] for label, _ in sites}
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            for i in range(args.runs):
                for label, site in (sites if i % 2 == 0 else sites[::-1]):
                    ctx = b.new_context(viewport={"width": 1280, "height": 900})
                    pg = ctx.new_page()
                    cpu0 = _util.cpu_by_descendant(os.getpid())
                    pg.goto(site + args.path, wait_until="commit")
                    pg.wait_for_selector("[data-wm-kaart][data-wm-status=klaar]", timeout=120000)
                    cpu = sum(c - cpu0.get(pid, 0.0) for pid, c in _util.cpu_by_descendant(os.getpid()).items())
                    t = pg.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
                      const g = performance.getEntriesByType('resource').find(e => e.name.includes('/api/v1/kaart/'));
                      const j = performance.getEntriesByType('resource').find(e => e.name.includes('maplibre-gl.js'));
                      const m = s => { const e = performance.getEntriesByName('wm-kaart:' + s)[0]; return e ? e.startTime : NaN; };
                      return {ready: window.wmKaartKlaar, html: n.responseEnd, dcl: n.domContentLoadedEventEnd,
                              geojson: g ? g.responseEnd : null, maplibre: j ? j.responseEnd : null,
                              start: m('start'), read: m('gegevens'), made: m('kaart'), drawn: m('geladen')}; }""")
                    runs[label].append(t["ready"])
                    cpus[label].append(cpu)
                    print(f"{label}run {i + 1}: interactive {t['ready']:.0f} ms (html {t['html']:.0f}, maplibre-gl.js "
                          f"{t['maplibre']:.0f}, geojson {t['geojson']:.0f}, DOMContentLoaded {t['dcl']:.0f} ms; "
                          f"kaart.js: start {t['start']:.0f}, GeoJSON read {t['read']:.0f}, map made "
                          f"{t['made']:.0f}, regions drawn {t['drawn']:.0f} ms; CPU {cpu * 1000:.0f} ms)")
                    ctx.close()
            b.close()
    finally:
        for pr in procs:
            pr.terminate()
            pr.wait(10)
    ours = runs[""]
    med = statistics.median(ours)
    met = med < TARGET_MS
    print(f"median_interactive_ms: {med:.0f} (min {min(ours):.0f}, max {max(ours):.0f}, {len(ours)} runs)")
    print(f"median_cpu_per_view_ms: {statistics.median(cpus['']) * 1000:.0f}")
    ratio = ""
    if args.compare:
        theirs = runs["compare "]
        cmed = statistics.median(theirs)
        ratio = f"{cmed / med:.2f}x"
        print(f"compare_median_interactive_ms: {cmed:.0f} (min {min(theirs):.0f}, max {max(theirs):.0f}, "
              f"{len(theirs)} runs; {args.compare})")
        print(f"compare_median_cpu_per_view_ms: {statistics.median(cpus['compare ']) * 1000:.0f}")
        print(f"ratio_compare_over_this: {ratio}")
    print(f"target_met: {'yes' if met else 'no'}")
    _util.summary(bench="map", target=f"first view of ~500 buurten interactive < {TARGET_MS:g} ms",
                  measured=f"{med:.0f} ms median of {len(ours)}", met=met,
                  baseline=f"{args.compare}: {statistics.median(runs['compare ']):.0f} ms" if args.compare else "",
                  ratio=ratio, note=f"load average {open('/proc/loadavg').read().split()[0]}")


if __name__ == "__main__":
    main()
