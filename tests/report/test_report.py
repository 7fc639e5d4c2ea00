"""Report tests on the real built store (plus small synthetic fixtures for the narrative)."""

from __future__ import annotations

import html as htmlmod
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from wijkmonitor import analysis
from wijkmonitor.catalogue import load_catalogue
from wijkmonitor.uncertainty import se_by_period
from wijkmonitor.report import area as area_mod
from wijkmonitor.report import charts, narrative, national
from wijkmonitor.report.data import load
from wijkmonitor.report.format import nl_number, nl_value
from wijkmonitor.report.tables import value_cell

PROGRAMME, BASE, LATEST = "aandachtswijken", 2012, 2020


@pytest.fixture(scope="module")
def data(real_store):
    return load(real_store)


@pytest.fixture(scope="module")
def analysed(data):
    """Gap rows and outcome table straight from the analysis module (the report's input)."""
    gaps = analysis.gaps(areas=PROGRAMME, baseline=BASE, latest=LATEST, reference="gemeente")
    outcome = analysis.outcome_table(gaps, values=analysis.load_area_values(),
                                     set_unit=f"alle:{PROGRAMME}")
    return gaps, outcome


@pytest.fixture(scope="module")
def national_ctx(data):
    return national.build(data, PROGRAMME, BASE, LATEST)


def _text(html: str) -> str:
    return htmlmod.unescape(re.sub(r"<[^>]+>", " ", html))


def _stories(ctx):
    return {it["id"]: it for s in ctx["sections"] for it in s["indicators"]}


# ------------------------------------------------------------------------------------------
# narrative numbers = analysis output
# ------------------------------------------------------------------------------------------

def test_narrative_numbers_match_analysis(data, analysed, national_ctx):
    gaps, outcome = analysed
    cat = load_catalogue()
    items = _stories(national_ctx)
    checked = 0
    for row in outcome.to_dict("records"):
        ind = cat[row["indicator"]]
        if row["indicator"] not in items:
            continue
        text = " ".join(items[row["indicator"]]["story"].paragraphs)
        ly = row["latest_year"]
        if not pd.isna(row["alle_gebieden_latest"]):
            assert f"In {ly} was de waarde voor de 40 wijken samen " \
                   f"{nl_value(row['alle_gebieden_latest'], ind.decimals, ind.unit)}" in text
            checked += 1
        for g, label in (("G4", "de G4"), ("G14", "de G14"), ("G18", "de G18"), ("NL", "Nederland")):
            if not pd.isna(row[f"{g}_latest"]):
                assert f"in {label} {nl_value(row[f'{g}_latest'], ind.decimals, ind.unit)}" in text
        sub = gaps[gaps["indicator"] == row["indicator"]]
        for cls in ("kleiner", "groter", "gelijk"):
            n = int((sub["class"] == cls).sum())
            assert n == row[cls]
            if n > 1:
                assert f"bij {n} wijken" in text
        # named examples carry the analysis' own values
        for e in items[row["indicator"]]["story"].improved + items[row["indicator"]]["story"].worsened:
            r = sub[sub["area"] == e["area"]].iloc[0]
            assert r["class"] in ("kleiner", "groter")
            assert f"van {nl_value(r['value_baseline'], ind.decimals, ind.unit)} in {r['baseline_year']} " \
                   f"naar {nl_value(r['value_latest'], ind.decimals, ind.unit)} in {r['latest_year']}" in text \
                or f"({nl_value(r['value_baseline'], ind.decimals, ind.unit)} in {r['baseline_year']}, " \
                   f"{nl_value(r['value_latest'], ind.decimals, ind.unit)} in {r['latest_year']})" in text
    assert checked >= 10  # real data: the RIVM health indicators 2012-2020 at least


def test_known_real_figures(national_ctx, analysed):
    """Spot check on the real data: loneliness in the 40 wijken (RIVM 2012 and 2020)."""
    _, outcome = analysed
    row = outcome.set_index("indicator").loc["eenzaam_pct"]
    text = " ".join(_stories(national_ctx)["eenzaam_pct"]["story"].paragraphs)
    assert nl_number(row["alle_gebieden_latest"], 1) + "\u00a0%" in text
    assert row["alle_gebieden_latest"] > row["alle_gebieden_baseline"]
    assert "gestegen" in text and "verslechtering" in text


# ------------------------------------------------------------------------------------------
# suppression
# ------------------------------------------------------------------------------------------

def test_value_cell_never_shows_a_suppressed_number():
    for status in ("geheim", "te weinig waarnemingen", "niet vergelijkbaar", "niet optelbaar"):
        c = value_cell(12.345, status, 1)
        assert not c.shown and "12" not in c.text


def test_suppressed_values_never_shown(data, analysed, national_ctx):
    """Every table cell whose store status is not ok shows the status word, never a number; and
    no area with a missing value is named as an example."""
    status = data.values.set_index(["unit_id", "indicator", "period"])["status"]
    units = [f"alle:{PROGRAMME}", "G4", "G14", "G18", "NL"]
    suppressed = ("geheim", "te weinig waarnemingen", "niet vergelijkbaar", "niet optelbaar")
    seen = shown = 0
    for it in _stories(national_ctx).values():
        for row in it["table"]:
            for unit, cell in zip(units, row["cells"]):
                st = status.get((unit, it["id"], row["year"]), "niet beschikbaar")
                if st == "ok":
                    shown += 1
                    assert cell.shown and re.search(r"\d", cell.text)
                else:
                    seen += st in suppressed
                    assert not cell.shown and not re.search(r"\d", cell.text), (it["id"], unit, st)
    assert seen > 0 and shown > 0  # real data has both (e.g. Leefbaarometer scores: niet optelbaar)
    gaps, _ = analysed
    for it in _stories(national_ctx).values():
        for e in it["story"].improved + it["story"].worsened:
            r = gaps[(gaps["area"] == e["area"]) & (gaps["indicator"] == it["id"])].iloc[0]
            assert r["status_baseline"] == "ok" and r["status_latest"] == "ok"


def test_load_masks_values_of_non_ok_rows(real_store):
    data = load(real_store)
    assert data.values.loc[data.values["status"] != "ok", "value"].isna().all()


# ------------------------------------------------------------------------------------------
# the narrative follows the direction (synthetic fixture)
# ------------------------------------------------------------------------------------------

def _fixture(vb, vl, ref_b, ref_l):
    ind = load_catalogue()["ww_per_1000"]  # hoger is slechter, per 1 000 inwoners
    gaps = pd.DataFrame({
        "area": ["a", "b", "c"], "area_name": ["Wijk A", "Wijk B", "Wijk C"],
        "baseline_year": [2016] * 3, "latest_year": [2020] * 3,
        "value_baseline": vb, "value_latest": vl,
        "reference_baseline": ref_b, "reference_latest": ref_l,
    })
    gaps["gap_baseline"] = gaps["value_baseline"] - gaps["reference_baseline"]
    gaps["gap_latest"] = gaps["value_latest"] - gaps["reference_latest"]
    gaps["class"] = analysis.classify(gaps["value_baseline"], gaps["value_latest"],
                                      gaps["reference_baseline"], gaps["reference_latest"],
                                      higher_is_better=False, tolerance=1.0)
    counts = gaps["class"].value_counts()
    outcome = {"baseline_year": 2016, "latest_year": 2020, "n_areas": 3,
               **{c: int(counts.get(c, 0)) for c in analysis.CLASSES}, "rule": "regel",
               "alle_gebieden_baseline": float(np.mean(vb)), "alle_gebieden_latest": float(np.mean(vl)),
               "G4_baseline": 40.0, "G4_latest": 40.0, "G14_baseline": np.nan, "G14_latest": np.nan,
               "G18_baseline": 30.0, "G18_latest": 30.0, "NL_baseline": 25.0, "NL_latest": 25.0}
    return ind, outcome, gaps


def test_narrative_flips_with_direction():
    words = narrative.Words("wijk", "wijken", "de 3 wijken samen")
    ind, out_up, gaps_up = _fixture([50.0, 60.0, 55.0], [60.0, 70.0, 65.0], [40.0] * 3, [40.0] * 3)
    up = narrative.indicator_story(ind, out_up, gaps_up, words=words)
    ind, out_down, gaps_down = _fixture([60.0, 70.0, 65.0], [50.0, 60.0, 55.0], [40.0] * 3, [40.0] * 3)
    down = narrative.indicator_story(ind, out_down, gaps_down, words=words)
    t_up, t_down = " ".join(up.paragraphs), " ".join(down.paragraphs)
    assert "gestegen (+10,0\u00a0per 1 000 inwoners), een verslechtering" in t_up
    assert "gedaald (−10,0\u00a0per 1 000 inwoners), een verbetering" in t_down
    assert "tussen 2016 en 2020 de afstand tot het stedelijk gemiddelde bij 3 wijken groter geworden" in t_up
    assert "tussen 2016 en 2020 de afstand tot het stedelijk gemiddelde bij 3 wijken kleiner geworden" in t_down
    assert "afstand van de 3 wijken samen tot de G18 is groter geworden" in t_up
    assert "afstand van de 3 wijken samen tot de G18 is kleiner geworden" in t_down
    assert up.verdict == "negatief" and down.verdict == "positief"
    assert [e["label"] for e in up.worsened] == ["Wijk A", "Wijk B", "Wijk C"] and not up.improved
    assert [e["label"] for e in down.improved] == ["Wijk A", "Wijk B", "Wijk C"] and not down.worsened
    assert "Voor de G14 is geen waarde beschikbaar." in t_up  # a missing group is named, not filled
    assert narrative.section_picture([up], words=words).startswith(
        "Op basis van de enige indicator met een meetbare ontwikkeling, ‘Werkloosheidsuitkeringen (WW)’, "
        "ontstaat een negatief beeld")
    assert "positief beeld" in narrative.section_picture([down], words=words)
    mixed = narrative.section_picture([up, down], words=words)
    assert "wisselend" in mixed and mixed.count("‘Werkloosheidsuitkeringen (WW)’") == 2
    # the direction of each example follows its own numbers
    assert "In Wijk A steeg het aantal van 50,0\u00a0per 1 000 inwoners in 2016 naar 60,0" in t_up
    assert "In Wijk A daalde het aantal van 60,0\u00a0per 1 000 inwoners in 2016 naar 50,0" in t_down


def test_narrative_names_single_area_and_missing_data():
    words = narrative.Words("wijk", "wijken", "de 3 wijken samen")
    ind, out, gaps = _fixture([50.0, 60.0, np.nan], [45.0, 70.0, 55.0], [40.0] * 3, [40.0] * 3)
    story = narrative.indicator_story(ind, out, gaps, words=words)
    text = " ".join(story.paragraphs)
    assert "de afstand tot het stedelijk gemiddelde bij één wijk (Wijk A) kleiner geworden" in text
    assert "Voor één wijk (Wijk C) is de ontwikkeling niet te bepalen" in text
    assert all(e["area"] != "c" for e in story.improved + story.worsened)


# ------------------------------------------------------------------------------------------
# reproducibility and the PDF
# ------------------------------------------------------------------------------------------

def test_html_byte_identical(real_store):
    from wijkmonitor import report
    a = report.national_html("nplv", 2016, 2020, data=load(real_store))
    b = report.national_html("nplv", 2016, 2020, data=load(real_store))
    assert a.encode() == b.encode()
    f1 = report.area_html("Rotterdam-Zuid", 2016, 2020, data=load(real_store))
    f2 = report.area_html("Rotterdam-Zuid", 2016, 2020, data=load(real_store))
    assert f1.encode() == f2.encode()
    assert 'lang="nl"' in a and "<title>Voortgangsrapportage NPLV 2016–2020</title>" in a


def test_charts_deterministic_and_alt_text():
    ind = load_catalogue()["eenzaam_pct"]
    args = (ind, ["Alle", "G4"], [51.26, None], [58.3, 54.1], 2012, 2020)
    s1, alt = charts.comparison_chart(*args)
    s2, _ = charts.comparison_chart(*args)
    assert s1 == s2 and "dc:date" not in s1
    assert "Alle 51,3\u00a0% in 2012 en 58,3\u00a0% in 2020" in alt and "G4 geen cijfer in 2012" in alt


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdf_contains_every_table_number(real_store, tmp_path):
    from wijkmonitor import report
    data = load(real_store)
    paths = report.national_report("nplv", 2016, 2020, tmp_path, data=data)
    paths += report.area_report("Utrecht Overvecht", 2012, 2020, tmp_path, data=data)
    for html_path, pdf_path in (paths[:2], paths[2:]):
        html = html_path.read_text(encoding="utf-8")
        numbers = [htmlmod.unescape(x) for x in re.findall(r'<td class="n"[^>]*>([^<]*)</td>', html)]
        assert len(numbers) > 20
        text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True,
                              check=True).stdout
        flat = re.sub(r"\s+", " ", text.replace("\u00a0", " "))
        missing = [n for n in set(numbers) if re.sub(r"\s+", " ", n.replace("\u00a0", " ")) not in flat]
        assert not missing, f"{pdf_path.name}: numbers missing from the PDF text: {missing[:10]}"
        info = subprocess.run(["pdfinfo", str(pdf_path)], capture_output=True, text=True).stdout
        assert re.search(r"Tagged:\s+yes", info)
        assert re.search(r"Title:\s+(Voortgangsrapportage|Gebiedsfiche)", info)
        assert re.search(rb"/Lang\s*\(nl\)", _pdf_objects(pdf_path.read_bytes()))


def _pdf_objects(raw: bytes) -> bytes:
    """The PDF with its (compressed) object streams inflated, to look for catalogue entries."""
    import zlib
    out = [raw]
    for m in re.finditer(rb"stream\r?\n", raw):
        try:
            out.append(zlib.decompressobj().decompress(raw[m.end():m.end() + 2_000_000]))
        except zlib.error:
            continue
    return b"\n".join(out)


def test_cli(real_store, tmp_path):
    from typer.testing import CliRunner

    from wijkmonitor.cli import app
    runner = CliRunner()
    res = runner.invoke(app, ["report", "area", "Rotterdam-Zuid", "--baseline", "2016", "--latest",
                              "2020", "--out", str(tmp_path), "--no-pdf"])
    assert res.exit_code == 0, res.output
    page = (tmp_path / "gebiedsfiche-rotterdam-zuid-2016-2020.html").read_text(encoding="utf-8")
    assert "Gebiedsfiche Rotterdam-Zuid" in page and "geen streefwaarden vastgelegd" in page
    res = runner.invoke(app, ["report", "area", "Nergens", "--baseline", "2016", "--latest", "2020",
                              "--out", str(tmp_path)])
    assert res.exit_code == 2 and "onbekend gebied" in res.output
    res = runner.invoke(app, ["report", "national", "--programme", "elders", "--baseline", "2016",
                              "--latest", "2020", "--out", str(tmp_path)])
    assert res.exit_code == 2


def _pdf_alts(raw: bytes) -> list[str]:
    """The /Alt texts of a PDF's structure elements (literal or UTF-16 hex strings). An /Alt in
    a marked-content property list (``/Span<</MCID n/Alt(...)>>BDC`` in a page's content stream,
    which Typst writes for the text drawn inside an SVG image) belongs to no structure element
    and is not counted."""
    out = []
    for m in re.finditer(rb"(/MCID\s*\d+\s*)?/Alt\s*(\((?:[^()\\]|\\.)*\)|<[0-9a-fA-F\s]+>)",
                         _pdf_objects(raw)):
        if m.group(1):
            continue
        tok = m.group(2)
        if tok.startswith(b"<"):
            data = bytes.fromhex(re.sub(rb"\s", b"", tok[1:-1]).decode())
            out.append(data[2:].decode("utf-16-be") if data[:2] == b"\xfe\xff" else data.decode("latin-1"))
        else:
            out.append(re.sub(rb"\\(.)", rb"\1", tok[1:-1]).decode("latin-1"))
    return out


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdf_alt_texts_of_every_chart(real_store, tmp_path):
    """Every chart and the map carry an alt text in the HTML, and the same text in the tagged PDF;
    the alt text of a chart states the numbers of its table."""
    from wijkmonitor import report
    data = load(real_store)
    html_path, pdf_path = report.area_report("Rotterdam-Zuid", 2016, 2020, tmp_path, data=data)
    html = html_path.read_text(encoding="utf-8")
    alts = [htmlmod.unescape(a) for a in re.findall(r'<img [^>]*alt="([^"]*)"', html)]
    assert len(alts) == html.count("<img ") and len(alts) >= 5 and all(a.strip() for a in alts)
    pdf_alts = _pdf_alts(pdf_path.read_bytes())
    assert sorted(pdf_alts) == sorted(alts)
    # the trend chart of loneliness names the area's shown values
    series = data.series("rotterdam-zuid", "eenzaam_pct").dropna(subset=["value"])
    alt = next(a for a in alts if a.startswith("Lijndiagram Eenzaamheid."))
    for year, value in zip(series["period"], series["value"]):
        assert f"{year} {nl_value(value, 1, '%')}" in alt


def test_appendix_traces_every_number_to_files(data, national_ctx):
    """Each indicator in the appendix names its source tables; each of those tables is listed
    with every file it was read from and that file's retrieval date."""
    from wijkmonitor.report import provenance
    files_of: dict[str, set] = {}  # one table may come from several publishers (re-publications)
    for s in national_ctx["sources"]:
        files_of.setdefault(s["table_id"], set()).update((f["location"], f["retrieved"]) for f in s["files"])
    for e in national_ctx["appendix"]:
        srcs = data.sources_for(e["id"])
        assert len(srcs), e["id"]
        for r in srcs.itertuples():
            key = provenance.table_key(r.table_id)
            assert key in e["tables"].split(", ")
            assert (r.location, provenance.nl_date(r.retrieved)) in files_of[key]
    from wijkmonitor.report.render import render_html
    html = render_html("national.html", national_ctx)
    for s in national_ctx["sources"]:
        for f in s["files"]:
            assert htmlmod.escape(f["location"], quote=False) in html


# ------------------------------------------------------------------------------------------
# area fiche: streefwaarden from the editable store, counts, suppressed cells
# ------------------------------------------------------------------------------------------

def test_fiche_targets_from_editable_store(data, tmp_path):
    from wijkmonitor.local import accounts, db, progress, targets
    from wijkmonitor.local.permissions import SystemActor
    from wijkmonitor.report.render import render_html

    missing = tmp_path / "nog-niet.sqlite"
    ctx = area_mod.build(data, "Rotterdam-Zuid", 2016, 2020, database_url=f"sqlite:///{missing}",
                         draw_map=False)
    assert not ctx["targets"]["rows"] and "nog niet aangemaakt" in ctx["targets"]["note"]
    assert not missing.exists()  # reading never creates a database

    url = f"sqlite:///{tmp_path / 'edit.sqlite'}"
    db.upgrade(url)
    with db.session_factory(url).begin() as s:
        ed = accounts.create_user(s, SystemActor(), "rotterdam", "gemeente-editor", "correct horse battery",
                                  gemeente="GM0599")
        targets.set_target(s, ed, "Rotterdam-Zuid", "moeite_rondkomen_pct", target_value=25.0,
                           target_year=2030, baseline_year=2016, reason="NPLV-doel Zuid",
                           milestones={2024: 30.0})
        targets.set_target(s, ed, "Rotterdam-Zuid", "eenzaam_pct", target_value=40.0, target_year=2030)
    ctx = area_mod.build(data, "Rotterdam-Zuid", 2016, 2020, database_url=url, draw_map=False)
    rows = {r["id"]: r for r in ctx["targets"]["rows"]}
    assert set(rows) == {"moeite_rondkomen_pct", "eenzaam_pct"}
    for iid, kw in (("moeite_rondkomen_pct", dict(baseline_year=2016, milestones={2024: 30.0})),
                    ("eenzaam_pct", {})):
        observed = data.series("rotterdam-zuid", iid).dropna(subset=["value"]).set_index("period")["value"]
        polarity = "lower_is_better"
        # issue 15: the default progress rule fits a trend with the values' standard errors and
        # states the national change (the fiche passes both from the store)
        own = data.values[(data.values["unit_id"] == "rotterdam-zuid") & (data.values["indicator"] == iid)]
        nl = data.series("NL", iid).dropna(subset=["value"]).set_index("period")["value"]
        want = progress.assess(25.0 if iid == "moeite_rondkomen_pct" else 40.0, 2030, observed,
                               polarity=polarity, se=se_by_period(own, data.catalogue[iid]), national=nl, **kw)
        assert rows[iid]["status"] == want.label and rows[iid]["status_key"] == want.status
        assert want.rule_name == "standaard"
        # the trend rule is progress' own text, with its numbers (trend, interval, path, NL)
        assert rows[iid]["rule"] == want.rule and "landelijk veranderde de waarde" in want.rule
        assert rows[iid]["latest"] == f"{nl_number(want.latest_value, 1)} ({want.latest_year})"
        assert rows[iid]["expected"] == nl_number(want.expected_value, 1)
        assert want.latest_year == int(observed.index.max())
    # real data: moeite met rondkomen fell from 37,2 % (2016) to 26,8 % (2020): ahead of the path
    # (expected 33,6 in 2020; the trend through 2016 and 2020 is 26,8 with an interval of < 1)
    assert rows["moeite_rondkomen_pct"]["status"] == "op koers"
    html = render_html("area.html", ctx)
    text = re.sub(r"\s+", " ", _text(html))
    assert "Voortgang naar de streefwaarden" in text and "op koers" in text
    assert "Toelichting van de gemeente: NPLV-doel Zuid." in text and "Tussendoelen: 2024: 30,0" in text
    # another area in the same database has none, and says so
    other = area_mod.build(data, "Utrecht Overvecht", 2016, 2020, database_url=url, draw_map=False)
    assert not other["targets"]["rows"]
    assert other["targets"]["note"] == "Voor dit gebied zijn geen streefwaarden vastgelegd."


def test_fiche_never_shows_a_suppressed_value_and_no_gap_for_counts(data):
    """An area value the source keeps secret appears nowhere in the fiche as a number: not in the
    table (the year is not used, or the cell says 'geheim') and not in the trend chart. Counts get
    no gap and no class."""
    v = data.values
    ids = set(data.index["area_id"])
    secret = v[v["unit_id"].isin(ids) & (v["status"] == "geheim")]
    assert len(secret), "the real store has secret area values (e.g. Utrecht Overvecht 2024)"
    row = secret.sort_values(["unit_id", "indicator", "period"]).iloc[0]
    year = int(row["period"])
    ctx = area_mod.build(data, row["unit_id"], year - 8, year, draw_map=False)
    rows = [x for t in ctx["themes"] for x in t["rows"] if x["id"] == row["indicator"]]
    assert rows, row.to_dict()
    x = rows[0]
    first, last = (x["years"].split("–") + [x["years"]])[:2] if "–" in x["years"] else (x["years"],) * 2
    for y, cell in ((int(first), x["value_b"]), (int(last), x["value_l"])):
        if y == year:
            assert cell.text == "geheim" and not cell.shown
    figs = [f for t in ctx["themes"] for f in t["figures"] if f["name"] == data.catalogue[row["indicator"]].name]
    for f in figs:
        own = f["alt"].split(f"{ctx['name']}: ", 1)[1].split(";")[0]  # the area's own series
        assert f" {year} " not in f" {own} ", own
    counts = [x for t in ctx["themes"] for x in t["rows"] if data.catalogue[x["id"]].aggregation == "som"]
    assert counts and all(x["cls"] == "n.v.t." and x["gap_l"].text == "n.v.t." for x in counts)


def test_charts_show_the_numbers_of_their_tables(national_ctx):
    """Each comparison chart labels its bars with exactly the numbers shown in its table rows."""
    import base64
    checked = 0
    for it in _stories(national_ctx).values():
        if not it["figure"]:
            continue
        svg = base64.b64decode(it["figure"]["uri"].split(",", 1)[1]).decode("utf-8")
        labels = sorted(htmlmod.unescape(t) for t in re.findall(r'font-size="7" text-anchor="(?:start|end)">([^<]+)<', svg))
        shown = sorted(c.text for row in it["table"] for c in row["cells"] if c.shown)
        assert labels == shown, it["id"]
        checked += 1
    assert checked >= 10


def test_appendix_tolerance_lines(data, national_ctx):
    """The appendix states each indicator's real tolerance ('klasse 1-9' declares 0 classes, not
    '0,0'), with as few decimals as it needs, and counts (no gap) get no tolerance at all."""
    from wijkmonitor.report import provenance
    from wijkmonitor.report.render import render_html
    cat = load_catalogue()
    klasse = provenance.tolerance_text(cat["leefbaarometer_klasse"])
    assert klasse.startswith("0 klassen (vastgelegd bij de indicator)") and "0,0" not in klasse
    assert provenance.tolerance_text(cat["leefbaarometer_score"]).startswith("0,02 score")
    counts = [i for i in cat.values() if not analysis.comparable(i)]
    assert counts and all(provenance.tolerance_text(i) is None for i in counts)
    html = render_html("national.html", national_ctx)
    entries = {e["id"]: e for e in national_ctx["appendix"]}
    for iid, e in entries.items():
        block = html[html.index(f"({iid}"):]
        block = block[:block.index("</div>")]
        assert ("Tolerantie:" in block) == analysis.comparable(cat[iid]), iid
    ctx = area_mod.build(data, "Rotterdam-Zuid", 2016, 2020, draw_map=False)
    page = render_html("area.html", ctx)
    lines = re.findall(r'<p class="ind-line"><strong>[^<]*</strong> \((\w+)[^<]*', page)
    assert lines
    for line in re.findall(r'<p class="ind-line">.*?</p>', page):
        iid = re.search(r"</strong> \((\w+)", line).group(1)
        assert ("tolerantie" in line) == analysis.comparable(cat[iid]), line
        assert "0,0 klasse" not in line


# ------------------------------------------------------------------------------------------
# the Typst PDF: escaping and reproducibility
# ------------------------------------------------------------------------------------------

HOSTILE = ['#set page(fill: red)', '$x^2$', '*vet* _schuin_ `code`', '<label> @ref', '[inhoud] \\ slash',
           '~ -- --- ... ', '// commentaar', '/* blok */', '= Kop', '- lijst', '+ lijst', '1. lijst',
           '/ term: uitleg', 'https://example.org/pad', '\\u{41}', "'enkel' \"dubbel\"", '#{"x"}(1)[2]',
           'regel\neen\r\ntwee\rdrie\u2028= vier\u2029- vijf\x0c+ zes', '#import "/etc/passwd"', '#read("/etc/passwd")', '{ } ( ) | ^ & % ! ? ; , :',
           '#let f = 1; #f', 'a\\', '\\', 'ê ŋ “quote” 1\u00a0000 −3,2']


def test_typst_escape_keeps_hostile_text_literal(tmp_path):
    """Every hostile text stays literal text in Typst: no markup, code, label, math, comment,
    list, smart quote or file access takes effect (the typeset content is the input text)."""
    import json

    import typst

    from wijkmonitor.report import render

    def plain(node, text):
        if isinstance(node, str):
            return node
        kind = node.get("func")
        # an escaped character is a "symbol" (literal text); no strong, emph, raw, list, ...
        assert kind in ("text", "symbol", "sequence", "space"), (text, node)
        if kind in ("text", "symbol"):
            return node["text"]
        if kind == "space":
            return " "
        return "".join(plain(ch, text) for ch in node["children"])

    for text in HOSTILE:
        src = (f"#metadata([{render.typst_escape(text)}]) <x>\n"
               f"#metadata({render.typst_string(text)}) <y>\n{render.typst_escape(text)}\n")
        main = tmp_path / "main.typ"  # (the binding's query needs a file, not bytes)
        main.write_text(src, encoding="utf-8")
        c = typst.Compiler(input=str(main), root=str(tmp_path), font_paths=render._fonts(),
                           ignore_system_fonts=True)
        assert c.compile(format="pdf").startswith(b"%PDF")
        body = json.loads(c.query("<x>", field="value", one=True, format="json"))
        want = re.sub(r"[ \t\r\n\x0b\x0c\x85\u2028\u2029]+", " ", text)  # line breaks: spaces
        assert plain(body, text) == want, text
        assert json.loads(c.query("<y>", field="value", one=True, format="json")) == text


def test_typst_source_escapes_every_context_text(national_ctx, tmp_path):
    """Hostile texts in the report context render Typst source that compiles and shows them
    literally in the PDF."""
    import copy

    from wijkmonitor.report import render
    ctx = copy.deepcopy(national_ctx)
    ctx["title"] = "Rapport #let x = 1 $a$ *b* _c_ <d> @e [f] \\g"
    ctx["area_names"] = "Wijk *A*, wijk _B_ en #wijk[C]"
    ctx["legend"] = "// geen commentaar /* ook niet */ = kop"
    path = tmp_path / "x.pdf"
    path.write_bytes(render.typst_pdf(render.render_typst("national.typ.j2", ctx),
                                      timestamp=render._timestamp(ctx)))
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
        flat = re.sub(r"\s+", " ", out)
        for t in (ctx["title"], ctx["area_names"], ctx["legend"]):
            assert t in flat, t


def test_pdf_byte_identical(real_store, tmp_path):
    """Two runs on the same store give the same PDF bytes (fixed creation date, shipped fonts)."""
    from wijkmonitor import report
    data = load(real_store)
    a = report.area_report("Rotterdam-Zuid", 2016, 2020, tmp_path / "a", data=data)
    b = report.area_report("Rotterdam-Zuid", 2016, 2020, tmp_path / "b", data=data)
    assert a[1].read_bytes() == b[1].read_bytes()
    assert a[0].read_bytes() == b[0].read_bytes()
    n1 = report.national_report("nplv", 2016, 2020, tmp_path / "a", data=data)
    n2 = report.national_report("nplv", 2016, 2020, tmp_path / "b", data=data)
    assert n1[1].read_bytes() == n2[1].read_bytes()
