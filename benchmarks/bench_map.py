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

    python benchmarks/bench_map.py [--runs 5] [--path /indicator/...]

Prints each run, the median and ``target_met: yes/no``.
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--path", default=PATH)
    args = ap.parse_args()
    store = os.environ.get("WIJKMONITOR_STORE", "var/wijkmonitor.duckdb")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "wijkmonitor", "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--store", store],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/over", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        t = time.perf_counter()
        page = httpx.get(base + args.path, timeout=120)
        cold_page = time.perf_counter() - t
        src = page.text.split('data-wm-kaart="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        t = time.perf_counter()
        gj = httpx.get(base + src, timeout=120)
        cold_geojson = time.perf_counter() - t
        n_features = gj.text.count('"type":"Feature"')
        print(f"load_average_before: {open('/proc/loadavg').read().split()[0]}")
        print(f"page: {args.path} ({len(page.content) // 1024} KB), geojson {len(gj.content) // 1024} KB, "
              f"{n_features} regions drawn")
        print(f"server_cold_page_ms: {cold_page * 1000:.0f}")
        print(f"server_cold_geojson_ms: {cold_geojson * 1000:.0f}")

        from playwright.sync_api import sync_playwright

        runs = []
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            for i in range(args.runs):
                ctx = b.new_context(viewport={"width": 1280, "height": 900})
                pg = ctx.new_page()
                pg.goto(base + args.path, wait_until="commit")
                pg.wait_for_selector("[data-wm-kaart][data-wm-status=klaar]", timeout=120000)
                t = pg.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
                  const g = performance.getEntriesByType('resource').find(e => e.name.includes('/api/v1/kaart/'));
                  const j = performance.getEntriesByType('resource').find(e => e.name.includes('maplibre-gl.js'));
                  const m = s => { const e = performance.getEntriesByName('wm-kaart:' + s)[0]; return e ? e.startTime : NaN; };
                  return {ready: window.wmKaartKlaar, html: n.responseEnd, dcl: n.domContentLoadedEventEnd,
                          geojson: g ? g.responseEnd : null, maplibre: j ? j.responseEnd : null,
                          start: m('start'), read: m('gegevens'), made: m('kaart'), drawn: m('geladen')}; }""")
                runs.append(t["ready"])
                print(f"run {i + 1}: interactive {t['ready']:.0f} ms (html {t['html']:.0f}, maplibre-gl.js "
                      f"{t['maplibre']:.0f}, geojson {t['geojson']:.0f}, DOMContentLoaded {t['dcl']:.0f} ms; "
                      f"kaart.js: start {t['start']:.0f}, GeoJSON read {t['read']:.0f}, map made "
                      f"{t['made']:.0f}, regions drawn {t['drawn']:.0f} ms)")
                ctx.close()
            b.close()
    finally:
        proc.terminate()
        proc.wait(10)
    med = statistics.median(runs)
    met = med < TARGET_MS
    print(f"median_interactive_ms: {med:.0f} (min {min(runs):.0f}, max {max(runs):.0f}, {len(runs)} runs)")
    print(f"target_met: {'yes' if met else 'no'}")
    _util.summary(bench="map", target=f"first view of ~500 buurten interactive < {TARGET_MS:g} ms",
                  measured=f"{med:.0f} ms median of {len(runs)}", met=met,
                  note=f"load average {open('/proc/loadavg').read().split()[0]}")


if __name__ == "__main__":
    main()
