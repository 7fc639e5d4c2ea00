"""A declared column that the live table does not have does not sink the table (issue 14).

On the recorded *revised* 85984NED (tests/fixtures/registry/make_recordings.py,
``recordings["revised"]``: the keys of the table as CBS revised it after 2025-03-27, without
``HuishoudensMetEenLaagInkomen_89`` and ``HuishOnderOfRondSociaalMinimum_90``) the fetch keeps
every other column, names the two in its report, the manifest and the command's output (exit 0),
and the build has no value for them in 2024: absent in ``wijkmonitor coverage``, never zero.
"""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pandas as pd
import pytest
from typer.testing import CliRunner

from registry_replay import Replay, load
from wijkmonitor.sources import fetch_registry, registry_online
from wijkmonitor.sources.fetch_registry import fetch_all, registry_dir

NO_WAIT = dict(sleep=lambda s: None, today=dt.date(2026, 10, 1))
DROPPED = {  # declared in cbs_kwb.yaml for 85984NED (cited kwb2024), gone from the revised table
    "p_hh_lkk": ("HuishoudensMetEenLaagInkomen_89", "HuishoudensMetEenLaagInkomen"),
    "p_hh_osm": ("HuishOnderOfRondSociaalMinimum_90", "HuishOnderOfRondSociaalMinimum"),
}


def revised() -> dict:
    rec = load()
    rec["odata"]["85984NED"] = rec["revised"]["85984NED"]
    return rec


def raw_rows(rec: dict, tid: str) -> pd.DataFrame:
    rows = pd.DataFrame([r for page in rec["odata"][tid]["UntypedDataSet"] for r in page["value"]])
    return rows.set_index(rows.WijkenEnBuurten.str.strip())


def test_the_revised_table_is_fetched_without_the_two_dropped_columns(tmp_path):
    rec = revised()
    report = fetch_all(tmp_path, transport=Replay(rec).transport(), only=["85984NED"], **NO_WAIT)
    assert report.ok and report.fetched == ["85984NED"] and report.failed == {}
    got = {m["variable"]: (m["key"], m["stem"]) for m in report.missing["85984NED"]}
    assert got == DROPPED
    assert all(m["verified"] and m["periods"] == [2024] for m in report.missing["85984NED"])
    # the manifest says the same, structured and as Dutch warnings (which ingest repeats)
    man = json.loads((registry_dir(tmp_path) / "85984NED" / "manifest.json").read_text())
    assert {m["variable"]: (m["key"], m["stem"]) for m in man["missing"]} == DROPPED
    assert not set(DROPPED) & set(man["columns"])
    for var, (key, stem) in DROPPED.items():
        assert any(w.startswith(f"85984NED: kolom {var} (sleutel {key}, stam {stem}) ontbreekt in de live tabel")
                   and w.endswith(f"{var} heeft uit deze tabel geen waarden in 2024") for w in man["warnings"])
    # the moved keys are read through their aliases, the others as declared
    assert man["columns"]["g_ink_pi"]["key"] == "GemiddeldInkomenPerInwoner_78"
    assert man["columns"]["a_soz_wb"]["key"] == "PersonenPerSoortUitkeringBijstand_87"
    assert man["columns"]["a_inw"]["key"] == "AantalInwoners_5"
    assert len(man["columns"]) == 31  # 33 declared - 2 dropped
    # read back: every other variable stored with the recorded cell, the two absent (not 0)
    [res] = registry_online.read(tmp_path)
    obs = res.observations
    assert not set(DROPPED) & set(obs.variable)
    assert set(obs.variable) == set(man["columns"])
    cells = raw_rows(rec, "85984NED")
    o = obs.set_index(["region_code", "variable"])
    assert o.loc[("BU03440300", "g_ink_pi"), "value"] == float(cells.loc["BU03440300", "GemiddeldInkomenPerInwoner_78"]) == 35.7
    assert o.loc[("BU03440300", "a_wmo_t"), "value"] == float(cells.loc["BU03440300", "WmoClienten_93"]) == 340
    assert any("kolom p_hh_osm" in w for w in res.warnings)


def test_a_current_table_still_names_its_missing_columns(tmp_path):
    rec = revised()
    fetch_all(tmp_path, transport=Replay(rec).transport(), only=["85984NED"], **NO_WAIT)
    again = fetch_all(tmp_path, transport=Replay(rec).transport(), only=["85984NED"], **NO_WAIT)
    assert again.current == ["85984NED"] and again.fetched == []
    assert {m["variable"] for m in again.missing["85984NED"]} == set(DROPPED)
    # the table as cited (2025-03) has every column: nothing missing, nothing reported
    full = fetch_all(tmp_path / "full", transport=Replay(load()).transport(), only=["85984NED"], **NO_WAIT)
    assert full.ok and full.missing == {}
    man = json.loads((registry_dir(tmp_path / "full") / "85984NED" / "manifest.json").read_text())
    assert man["missing"] == [] and {"p_hh_lkk", "p_hh_osm"} <= set(man["columns"])


def test_the_command_names_each_missing_column_and_exits_0(tmp_path, monkeypatch):
    from wijkmonitor.cli import app
    rec = revised()
    monkeypatch.setattr(fetch_registry, "make_client", lambda transport=None, timeout=120.0:
                        httpx.Client(transport=Replay(rec).transport()))
    result = CliRunner().invoke(app, ["fetch", "--all", "--only", "85984NED", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())  # Rich wraps long lines
    for var, (key, stem) in DROPPED.items():
        assert f"kolom ontbreekt: 85984NED: kolom {var} (sleutel {key}, stam {stem}) ontbreekt in de live tabel" in out
    assert "1 opgehaald, 0 al actueel, 0 mislukt, 0 niet bereikbaar, 2 kolom(men) ontbreken in 1 tabel(len)" in out

    # a table that cannot be reached still makes the command exit 1, missing columns or not
    def offline_crime(request):
        if "47018NED" in str(request.url):
            raise httpx.ConnectError("Name or service not known", request=request)
    monkeypatch.setattr(fetch_registry, "BACKOFF", 0.0)
    monkeypatch.setattr(fetch_registry, "make_client", lambda transport=None, timeout=120.0:
                        httpx.Client(transport=Replay(rec, hook=offline_crime).transport()))
    result = CliRunner().invoke(app, ["fetch", "--all", "--only", "85984NED", "--only", "47018NED",
                                      "--out", str(tmp_path / "b")])
    assert result.exit_code == 1
    out = " ".join(result.output.split())
    assert "niet bereikbaar: 47018NED" in out and "kolom ontbreekt: 85984NED: kolom p_hh_osm" in out


def test_unverified_wfs_properties_that_are_not_there_are_reported_per_level(tmp_path):
    """Synthetic: the recorded 2025 PDOK layers without aantalHuishoudens (declared for 2025 as an
    unverified stem)."""
    rec = load()
    for layer in rec["wfs"]["wijkenbuurten2025"]["layers"].values():
        for feat in layer:
            feat["properties"].pop("aantalHuishoudens")
    report = fetch_all(tmp_path, transport=Replay(rec).transport(), only=["wijkenbuurten2025"], **NO_WAIT)
    assert report.ok and report.fetched == ["wijkenbuurten2025"]
    missing = report.missing["wijkenbuurten2025"]
    assert sorted(m["level"] for m in missing) == ["buurt", "gemeente", "wijk"]
    assert {(m["variable"], m["key"], m["stem"], m["verified"]) for m in missing} == {
        ("a_hh", None, "aantalHuishoudens", False)}
    lines = report.missing_lines()
    assert ("wijkenbuurten2025: kolom a_hh (stam aantalHuishoudens, niet-geverifieerd) ontbreekt in de "
            "live tabel (niveau buurt)") in " ".join(lines)
    [res] = registry_online.read(tmp_path)
    assert "a_hh" not in set(res.observations.variable) and "a_inw" in set(res.observations.variable)


def test_a_table_with_none_of_its_columns_fails(tmp_path):
    """Synthetic boundary: 47018NED declares one column. Without it the table is useless and
    fails (nothing written); with it (the recording) it is fetched."""
    rec = load()
    for page in rec["odata"]["47018NED"]["DataProperties"]:
        page["value"] = [p for p in page["value"] if p.get("Key") != "GeregistreerdeMisdrijven_1"]
    report = fetch_all(tmp_path, transport=Replay(rec).transport(), only=["47018NED"], **NO_WAIT)
    assert not report.ok and "geen van de gedeclareerde kolommen gevonden" in report.failed["47018NED"]
    assert "GeregistreerdeMisdrijven_1" in report.failed["47018NED"]
    assert not (registry_dir(tmp_path) / "47018NED").exists()
    report = fetch_all(tmp_path, transport=Replay(load()).transport(), only=["47018NED"], **NO_WAIT)
    assert report.ok and report.missing == {}


@pytest.fixture(scope="module")
def coverage_revised(tmp_path_factory):
    """Coverage after fetch (revised 85984NED) + ingest + build: the 2024 KWB only."""
    from wijkmonitor import coverage, pipeline
    root = tmp_path_factory.mktemp("revised")
    mp = pytest.MonkeyPatch()
    mp.setenv("WIJKMONITOR_FETCHED", str(root))
    mp.setenv("WIJKMONITOR_VAR", str(root / "var"))
    try:
        report = fetch_all(root, transport=Replay(revised()).transport(), only=["85984NED"], **NO_WAIT)
        assert report.ok and {m["variable"] for m in report.missing["85984NED"]} == set(DROPPED)
        store = root / "store.duckdb"
        pipeline.ingest(root, store, only=["registry-online"])
        pipeline.build(store)
        import duckdb
        con = duckdb.connect(str(store), read_only=True)
        iv = con.execute("SELECT indicator, region_code, period, status, value FROM indicator_values "
                         "WHERE period = 2024").df()
        con.close()
        yield coverage.coverage(store), iv
    finally:
        mp.undo()


def test_coverage_shows_the_dropped_column_as_absent_for_2024(coverage_revised):
    cov, iv = coverage_revised
    y2024 = cov[cov.year == 2024]
    # huishoudens_sociaal_minimum_pct reads p_hh_osm (HuishOnderOfRondSociaalMinimum): no region,
    # at any level, shows a 2024 value (with the table as cited it has buurt values in 2024:
    # tests/test_fetch_registry_build.py); p_hh_lkk feeds no catalogue indicator
    assert "huishoudens_sociaal_minimum_pct" not in set(y2024.indicator)
    shown = iv[(iv.indicator == "huishoudens_sociaal_minimum_pct") & iv.value.notna()]
    assert shown.empty  # missing, never a zero
    assert not (iv[iv.indicator == "huishoudens_sociaal_minimum_pct"].status == "ok").any()
    # the other indicators of the same table are there, per buurt: 3 buurten in the recording
    # (BU03440300, BU03440301, BU0363AA02); inkomen_per_inwoner reads the moved key
    buurt = y2024[y2024.level == "buurt"].set_index("indicator")
    assert buurt.loc["woz_gemiddeld", "regions"] == 3
    assert {"inkomen_per_inwoner", "huishoudens_laag_inkomen_pct", "bijstand_per_1000"} <= set(buurt.index)
    assert buurt.loc["bijstand_per_1000", "regions_online"] == buurt.loc["bijstand_per_1000", "regions"]


def test_a_stem_matching_two_keys_still_fails_its_table():
    """Synthetic: 86165NED declares p_leegsw as the unverified stem OnbewoondeWoningen. One live
    key with that stem is taken; two are ambiguous (never guessed) and fail the table; none is
    a missing column."""
    from wijkmonitor.sources.fetch_registry import TableError, _resolve
    from wijkmonitor.sources.registry import load_registry
    table = load_registry()["cbs_kwb"].tables["86165NED"]
    declared = {c.key for c in table.columns if c.key}
    live = {k: None for k in declared}
    stems = {"BasisonderwijsVmboMbo1_67", "HavoVwoMbo24_68", "HboWo_69"}
    resolved, _, missing = _resolve(table, {**live, **dict.fromkeys(stems), "OnbewoondeWoningen_46": None},
                                    suffixed=True)
    assert resolved["p_leegsw"]["key"] == "OnbewoondeWoningen_46" and missing == []
    with pytest.raises(TableError, match="stam OnbewoondeWoningen komt 2 keer voor"):
        _resolve(table, {**live, **dict.fromkeys(stems), "OnbewoondeWoningen_46": None,
                         "OnbewoondeWoningen_47": None}, suffixed=True)
    resolved, _, missing = _resolve(table, {**live, **dict.fromkeys(stems)}, suffixed=True)
    assert [m["variable"] for m in missing] == ["p_leegsw"] and "p_leegsw" not in resolved


def test_personen_in_armoede_never_stands_in_for_the_dropped_household_columns():
    """CBS's PersonenInArmoede (persons under the armoedegrens) replaced the two household
    columns in the revised table but is another definition: no table may read it, or any
    PersonenInArmoede key, as p_hh_lkk, p_hh_osm or p_hh_li."""
    from wijkmonitor.sources.registry import load_registry
    for fam in load_registry().values():
        for table in fam.tables.values():
            for c in table.columns:
                spelled = " ".join([c.key or "", c.stem, *c.aliases])
                if "PersonenInArmoede" in spelled:
                    assert c.variable not in {"p_hh_lkk", "p_hh_osm", "p_hh_li"}, (table.table_id, c.variable)
    # and the revised recording has the key, which the fetch does not take for either
    rec = load()["revised"]["85984NED"]
    keys = {p["Key"] for page in rec["DataProperties"] for p in page["value"]}
    assert "PersonenInArmoede_81" in keys and not keys & {"HuishoudensMetEenLaagInkomen_89",
                                                           "HuishOnderOfRondSociaalMinimum_90"}
