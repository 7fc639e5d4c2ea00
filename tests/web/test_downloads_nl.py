"""Issue 17.5: downloads for Dutch users. The default CSV opens in Dutch Excel (';', decimal
comma, BOM, Dutch headers), ``formaat=csv-en`` keeps ',' '.' and the stable ids, the XLSX has
number formats from the catalogue, whole-number years, a frozen header, an autofilter and a
sheet with sources and rules; Parquet, GeoJSON and the API keep the stable ids."""

from __future__ import annotations

import io
import json

import openpyxl
import pandas as pd
import pytest

AREA = "/gebied/utrecht-overvecht"
ENGLISH_HEADERS = {"unit", "unit_name", "indicator_name", "period", "value", "reason", "theme",
                   "class", "rule", "baseline_year", "latest_year", "name", "code", "source",
                   "estimate", "programme", "coverage", "kind", "publisher", "title", "licence"}

PAGES = [(AREA, {}), (AREA, {"tabel": "reeksen"}), (AREA, {"tabel": "kaart"}), ("/", {}),
         ("/vergelijken", {"gebied": "utrecht-overvecht", "jaar": "2020"}), ("/indicatoren", {}),
         ("/indicator/angst_depressie_pct", {}), ("/indicator/angst_depressie_pct", {"tabel": "gebieden"}),
         ("/zoeken", {"q": "Utrecht"}), ("/bronnen", {}),
         ("/wijkindex", {"niveau": "buurt", "jaar": "2024", "gemeente": "GM0344"}),
         ("/vergelijkbare-gemeenten", {"gemeente": "GM0599"})]


def _dutch_csv(client, path, **params) -> tuple[bytes, pd.DataFrame]:
    body = client.get(path, params=params | {"formaat": "csv"}).content
    return body, pd.read_csv(io.BytesIO(body), sep=";", decimal=",", encoding="utf-8-sig")


@pytest.mark.parametrize("path,params", PAGES)
def test_every_csv_and_xlsx_has_dutch_headers(client, path, params):
    body, df = _dutch_csv(client, path, **params)
    assert body.startswith(b"\xef\xbb\xbf")
    assert not set(df.columns) & ENGLISH_HEADERS, set(df.columns) & ENGLISH_HEADERS
    wb = openpyxl.load_workbook(io.BytesIO(client.get(path, params=params | {"formaat": "xlsx"}).content))
    header = [c.value for c in wb.worksheets[0][1]]
    assert header == list(df.columns)
    assert wb.sheetnames[1] == "bronnen en regels"
    en = pd.read_csv(io.BytesIO(client.get(path, params=params | {"formaat": "csv-en"}).content))
    assert len(en) == len(df) and len(en.columns) == len(df.columns)
    # an id with an underscore ('rank_nl', 'inkomen_werk_decile') is no Dutch column name
    assert not [c for c in df.columns if "_" in c], [c for c in df.columns if "_" in c]


def test_wijkindex_download_has_dutch_headers(client):
    """The wijkindex table: written out by hand from the ids of ``wijkindex.cli.flat`` and
    the domains of ``wijkindex/default.yaml`` (inkomen & werk, gezondheid, veiligheid, wonen,
    meedoen); the machine CSV keeps the ids."""
    params = {"niveau": "buurt", "jaar": "2024", "gemeente": "GM0344"}
    body, df = _dutch_csv(client, "/wijkindex", **params)
    assert list(df.columns) == [
        "CBS-code", "naam", "gemeente", "jaar", "wijkindex", "status", "deciel",
        "plaats in Nederland", "aantal in Nederland", "plaats in Nederland ondergrens",
        "plaats in Nederland bovengrens", "plaats in de gemeente", "aantal in de gemeente",
        "plaats in de gemeente ondergrens", "plaats in de gemeente bovengrens",
        "inkomen en werk", "inkomen en werk deciel", "gezondheid", "gezondheid deciel",
        "veiligheid", "veiligheid deciel", "wonen", "wonen deciel", "meedoen", "meedoen deciel",
        "domeinen in het onderste deciel", "domeinen met een cijfer"]
    en = pd.read_csv(io.BytesIO(client.get("/wijkindex", params=params | {"formaat": "csv-en"}).content))
    assert list(en.columns[:8]) == ["code", "name", "gemeente", "period", "wijkindex", "status", "decile",
                                    "rank_nl"]
    assert "inkomen_werk_decile" in en.columns
    pd.testing.assert_series_equal(df["plaats in Nederland"], en["rank_nl"], check_names=False)


def test_dutch_name_suffixes():
    """``X_decile`` / ``X_baseline`` / ``X_latest`` take the Dutch name of ``X``; an id without
    a name stays itself (the other side: nothing is invented)."""
    from wijkmonitor.web.downloads import dutch_name

    assert dutch_name("inkomen_werk_decile") == "inkomen en werk deciel"
    assert dutch_name("gezondheid_decile") == "gezondheid deciel"
    assert dutch_name("decile") == "deciel"
    assert dutch_name("gap_baseline") == "afstand basisjaar"
    assert dutch_name("onbekend_ding") == "onbekend_ding"


def test_dutch_csv_values_equal_the_machine_csv(client):
    body, nl = _dutch_csv(client, AREA)
    text = body.decode("utf-8-sig")
    assert text.splitlines()[0].split(";")[:8] == ["indicator", "indicatornaam", "thema", "eenheid",
                                                   "jaar", "waarde", "status", "reden"]
    en = pd.read_csv(io.BytesIO(client.get(AREA, params={"formaat": "csv-en"}).content))
    assert list(en.columns[:6]) == ["indicator", "indicator_name", "theme", "unit", "period", "value"]
    pd.testing.assert_series_equal(nl["waarde"].astype(float), en["value"].astype(float), check_names=False)
    # a value of the API, written with a decimal comma in the raw bytes
    v = client.get("/api/v1/value/utrecht-overvecht/angst_depressie_pct/2020").json()
    row = next(line for line in text.splitlines() if line.startswith("angst_depressie_pct;"))
    assert repr(v["value"]).replace(".", ",") in row.split(";")
    # negative gaps stay numbers (a minus, a decimal comma, no quote)
    assert (nl["afstand laatste jaar"].dropna() < 0).any()


def test_xlsx_formats_years_header_filter_and_sources(client):
    wb = openpyxl.load_workbook(io.BytesIO(client.get(AREA, params={"formaat": "xlsx"}).content))
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    col = {h: i + 1 for i, h in enumerate(header)}
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}{ws.max_row}"
    cat = {i["id"]: i for i in client.get("/api/v1/indicators").json()}
    seen = set()
    for r in range(2, ws.max_row + 1):
        ind = ws.cell(r, col["indicator"]).value
        year = ws.cell(r, col["jaar"]).value
        assert isinstance(year, int), (ind, year)  # 2012, never 2012.0
        v = ws.cell(r, col["waarde"])
        if v.value is not None:
            d = cat[ind]["decimals"]
            assert v.data_type == "n"
            assert v.number_format == ("#,##0" if d == 0 else "#,##0." + "0" * d), ind
            seen.add(d)
        by = ws.cell(r, col["basisjaar"]).value
        assert by is None or isinstance(by, int)
    assert {0, 1} <= seen  # per-indicator formats, not one for the whole column
    about = wb["bronnen en regels"]
    rows = [[c.value for c in row] for row in about.iter_rows(min_row=2)]
    kinds = {r[0] for r in rows}
    assert {"bron", "status", "regel"} <= kinds
    assert any("50090NED" in (r[1] or "") for r in rows if r[0] == "bron")
    assert any((r[2] or "").startswith("achterstand op") for r in rows if r[0] == "regel")


def test_parquet_geojson_and_api_keep_stable_ids(client):
    pq = pd.read_parquet(io.BytesIO(client.get(AREA, params={"formaat": "parquet"}).content))
    assert {"indicator", "period", "value", "status", "reason"} <= set(pq.columns)
    geo = json.loads(client.get(AREA, params={"tabel": "kaart", "formaat": "geojson"}).content)
    assert {"code", "name", "part_of_area"} <= set(geo["features"][0]["properties"])
    api = client.get("/api/v1/values", params={"unit": "utrecht-overvecht", "format": "csv"})
    assert api.text.splitlines()[0].startswith("unit,indicator,period,value")
    ws = openpyxl.load_workbook(io.BytesIO(client.get(
        "/api/v1/values", params={"unit": "utrecht-overvecht", "format": "xlsx"}).content)).worksheets[0]
    assert [c.value for c in ws[1]][:4] == ["unit", "indicator", "period", "value"]


def test_csv_en_file_name_and_type(client):
    r = client.get(AREA, params={"formaat": "csv-en"})
    assert r.headers["content-type"].startswith("text/csv")
    # RFC 6266: filename and filename* (hardening issue), both ending in .csv
    disposition = r.headers["content-disposition"]
    assert '.csv"' in disposition and disposition.endswith(".csv")
