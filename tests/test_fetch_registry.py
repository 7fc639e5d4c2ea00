"""``wijkmonitor fetch --all`` against recorded responses (tests/fixtures/registry/, replayed
through httpx.MockTransport; no network): fetching, re-fetching on a new CBS ``Modified``,
resumption after a kill, offline behaviour, ``--since`` / ``--only``, unit changes, and what the
fetched tables give when read back."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import httpx
import pandas as pd
import pytest
from typer.testing import CliRunner

from registry_replay import Replay, load
from wijkmonitor.sources import fetch_registry, registry_online
from wijkmonitor.sources.fetch_registry import fetch_all, registry_dir, select_tables
from wijkmonitor.sources.registry import load_registry

TODAY = dt.date(2025, 1, 15)
NO_WAIT = dict(sleep=lambda s: None, today=TODAY)
FETCHABLE = {t.table_id for f in load_registry().values() for t in f.tables.values() if t.fetchable}


class Killed(BaseException):
    """Stands in for the process being killed mid-table (not an Exception: nothing catches it)."""


def snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_fetch_all_on_the_recordings(tmp_path):
    replay = Replay()
    report = fetch_all(tmp_path, transport=replay.transport(), **NO_WAIT)
    assert report.ok, (report.failed, report.unreachable)
    assert set(report.fetched) == FETCHABLE and len(FETCHABLE) == 43  # 14 KWB, 3 RIVM, 1 crime, 13 PDOK, 12 LBM3
    root = registry_dir(tmp_path)
    assert sorted(p.name for p in root.iterdir()) == sorted(FETCHABLE)  # no .tmp- or .old- left
    man = json.loads((root / "85984NED" / "manifest.json").read_text())
    assert man["modified"] == "2025-03-27T02:00:00" and man["retrieved"] == "2025-01-15"
    assert man["columns"]["g_wozbag"]["key"] == "GemiddeldeWOZWaardeVanWoningen_39"
    assert man["rows"] == 8
    # every page was followed: the dataset is split over two pages, both requested
    assert any("85984NED/UntypedDataSet" in u and "skiptoken=1" in u for u in replay.urls)
    # the selection asked only for the declared columns
    first = next(u for u in replay.urls if "85984NED/UntypedDataSet" in u)
    assert "%24select=WijkenEnBuurten%2CAantalInwoners_5" in first or "$select=WijkenEnBuurten,AantalInwoners_5" in first
    # WFS tables are stored as GeoParquet, one file per level
    import geopandas as gpd
    buurt = gpd.read_parquet(root / "wijkenbuurten2024" / "buurt.parquet")
    assert buurt.crs.to_epsg() == 4326 and set(buurt.buurtcode) == {"BU03440300", "BU03440301", "BU0363AA02"}
    assert buurt.geometry.is_valid.all()


def test_second_run_fetches_only_what_changed(tmp_path):
    rec = load()
    fetch_all(tmp_path, transport=Replay(rec).transport(), **NO_WAIT)
    before = snapshot(registry_dir(tmp_path))
    again = fetch_all(tmp_path, transport=Replay(rec).transport(), **NO_WAIT)
    assert again.fetched == [] and set(again.current) == FETCHABLE
    assert snapshot(registry_dir(tmp_path)) == before
    # CBS revised 84799NED: a new Modified in TableInfos -> fetched again, the rest untouched
    rec["odata"]["84799NED"]["TableInfos"][0]["value"][0]["Modified"] = "2022-02-01T02:00:00"
    third = fetch_all(tmp_path, transport=Replay(rec).transport(), **NO_WAIT)
    assert third.fetched == ["84799NED"]
    man = json.loads((registry_dir(tmp_path) / "84799NED" / "manifest.json").read_text())
    assert man["modified"] == "2022-02-01T02:00:00"
    # a table fetched under another registry declaration (e.g. a column added since) is fetched again
    for tid in ("85984NED", "wijkenbuurten2023"):
        path = registry_dir(tmp_path) / tid / "manifest.json"
        man = json.loads(path.read_text())
        man["declaration"] = "older"
        path.write_text(json.dumps(man))
    fourth = fetch_all(tmp_path, transport=Replay(rec).transport(), **NO_WAIT)
    assert sorted(fourth.fetched) == ["85984NED", "wijkenbuurten2023"]


def test_a_killed_fetch_leaves_finished_tables_and_no_half_table_then_resumes(tmp_path):
    rec = load()
    # first a complete run, so that 84799NED has an old version that must survive
    fetch_all(tmp_path, transport=Replay(rec).transport(), only=["84799NED"], **NO_WAIT)
    old = snapshot(registry_dir(tmp_path) / "84799NED")
    rec["odata"]["84799NED"]["TableInfos"][0]["value"][0]["Modified"] = "2022-02-01T02:00:00"

    def kill(request):  # second page of the 84799NED rows
        if "84799NED/UntypedDataSet" in str(request.url) and "skiptoken=1" in str(request.url):
            raise Killed()
    with pytest.raises(Killed):
        fetch_all(tmp_path, transport=Replay(rec, hook=kill).transport(), **NO_WAIT)
    root = registry_dir(tmp_path)
    done = {p.name for p in root.iterdir() if not p.name.startswith(".")}
    order = [t.table_id for t in select_tables()]
    assert order.index("84799NED") > 0
    # tables before the kill are complete and readable; the killed table kept its old version
    assert done == set(order[:order.index("84799NED") + 1])
    assert snapshot(root / "84799NED") == old
    assert not any(p.name.startswith(".") for p in root.iterdir())
    for res in registry_online.read(tmp_path):
        assert len(res.observations) > 0
    # a real kill (SIGKILL) skips Python's cleanup: simulate its leftovers, then resume
    (root / ".tmp-85039NED").mkdir()
    (root / ".tmp-85039NED" / "data.parquet").write_bytes(b"half")
    (root / "84799NED").rename(root / ".old-84799NED")  # killed between the two renames
    resumed = fetch_all(tmp_path, transport=Replay(rec).transport(), **NO_WAIT)
    assert resumed.ok
    assert any("84799NED: vorige versie teruggezet" in w for w in resumed.warnings)
    assert set(resumed.current) == set(order[:order.index("84799NED")])  # not fetched twice
    assert "84799NED" in resumed.fetched
    assert {p.name for p in root.iterdir()} == FETCHABLE


def test_offline_names_every_table_keeps_what_is_there_and_exits_nonzero(tmp_path, monkeypatch):
    fetch_all(tmp_path, transport=Replay().transport(), only=["85984NED"], **NO_WAIT)
    before = snapshot(registry_dir(tmp_path))

    def offline(request):
        raise httpx.ConnectError("Name or service not known", request=request)
    waits = []
    report = fetch_all(tmp_path, transport=httpx.MockTransport(offline), sleep=waits.append, today=TODAY)
    assert not report.ok and set(report.unreachable) == FETCHABLE
    # exponential backoff, bounded to 4 retries, once per host (opendata.cbs.nl, dataderden.cbs.nl,
    # service.pdok.nl, geo.leefbaarometer.nl); the other tables on a dead host fail at once
    assert waits == [0.5, 1.0, 2.0, 4.0] * 4
    first = select_tables()[0].table_id
    assert "niet bereikbaar na 5 pogingen" in report.unreachable[first]
    assert "eerder in deze run" in report.unreachable["85984NED"]
    assert snapshot(registry_dir(tmp_path)) == before  # nothing fetched is lost

    # the command: names each table, exit code 1
    from wijkmonitor.cli import app
    monkeypatch.setattr(fetch_registry, "make_client",
                        lambda transport=None, timeout=120.0: httpx.Client(transport=httpx.MockTransport(offline)))
    monkeypatch.setattr(fetch_registry, "BACKOFF", 0.0)
    result = CliRunner().invoke(app, ["fetch", "--all", "--out", str(tmp_path)])
    assert result.exit_code == 1
    out = " ".join(result.output.split())  # Rich wraps long lines
    for tid in FETCHABLE:
        assert f"niet bereikbaar: {tid}: " in out
    assert f"0 opgehaald, 0 al actueel, 0 mislukt, {len(FETCHABLE)} niet bereikbaar" in out
    assert snapshot(registry_dir(tmp_path)) == before


def test_since_and_only_select_tables():
    assert {t.table_id for t in select_tables(since=2024)} == {
        "85984NED", "86165NED", "47018NED", "50150NED", "wijkenbuurten2024", "wijkenbuurten2025",
        "leefbaarometer3-2024"}
    assert {t.table_id for t in select_tables(since=2026)} == set()
    assert [t.table_id for t in select_tables(only=["85984NED"])] == ["85984NED"]
    assert {t.table_id for t in select_tables(only=["rivm_gezondheid"])} == {"50090NED", "50120NED", "50150NED"}
    assert {t.table_id for t in select_tables(only=["cbs_kwb"], since=2023)} == {"85618NED", "85984NED", "86165NED"}
    with pytest.raises(ValueError, match="onbekende tabel"):
        select_tables(only=["99999NED"])
    # declared but not fetchable tables are never selected
    assert not {"47022NED", "leefbaarometer-2.0-2016", "leefbaarometer3-grid100m"} & {t.table_id for t in select_tables()}


def test_only_fetches_the_named_tables(tmp_path):
    replay = Replay()
    report = fetch_all(tmp_path, transport=replay.transport(), only=["85984NED", "47018NED"], **NO_WAIT)
    assert sorted(report.fetched) == ["47018NED", "85984NED"]
    assert {u.split("/")[5] for u in replay.urls} == {"85984NED", "47018NED"}


def test_a_renumbered_key_is_found_by_its_stem_and_reported(tmp_path):
    rec = load()
    t = rec["odata"]["85984NED"]
    for page in t["DataProperties"]:
        for p in page["value"]:
            if p.get("Key") == "Koopwoningen_47":
                p["Key"] = "Koopwoningen_48x"  # not a stem match: the column is missing
    report = fetch_all(tmp_path, transport=Replay(rec).transport(), only=["85984NED"], **NO_WAIT)
    # a missing column no longer fails its table (issue 14): the table is fetched without it
    # and the column is named
    assert report.ok and report.fetched == ["85984NED"]
    assert [m["variable"] for m in report.missing["85984NED"]] == ["p_koopw"]
    assert report.missing["85984NED"][0]["key"] == "Koopwoningen_47"
    man = json.loads((registry_dir(tmp_path) / "85984NED" / "manifest.json").read_text())
    assert "p_koopw" not in man["columns"] and "p_huurw" in man["columns"]
    shutil.rmtree(registry_dir(tmp_path) / "85984NED")
    rec = load()
    for page in rec["odata"]["85984NED"]["DataProperties"]:
        for p in page["value"]:
            if p.get("Key") == "Koopwoningen_47":
                p["Key"] = "Koopwoningen_52"
    for page in rec["odata"]["85984NED"]["UntypedDataSet"]:
        for row in page["value"]:
            row["Koopwoningen_52"] = row.pop("Koopwoningen_47")
    report = fetch_all(tmp_path, transport=Replay(rec).transport(), only=["85984NED"], **NO_WAIT)
    assert report.ok
    assert any("Koopwoningen_47 niet gevonden, wel Koopwoningen_52" in w for w in report.warnings)


def test_unit_change_is_converted_or_fails_clearly(tmp_path):
    """Synthetic: the recorded WOZ column of 85984NED is given in euro instead of x 1 000 euro."""
    rec = load()
    raw = {}
    for page in rec["odata"]["85984NED"]["DataProperties"]:
        for p in page["value"]:
            if p.get("Key") == "GemiddeldeWOZWaardeVanWoningen_39":
                p["Unit"] = "euro"
    for page in rec["odata"]["85984NED"]["UntypedDataSet"]:
        for row in page["value"]:
            v = row["GemiddeldeWOZWaardeVanWoningen_39"]
            if v and v.strip() not in (".", ""):
                raw[row["WijkenEnBuurten"].strip()] = float(v)
                row["GemiddeldeWOZWaardeVanWoningen_39"] = str(int(float(v) * 1000))
    report = fetch_all(tmp_path, transport=Replay(rec).transport(), only=["85984NED"], **NO_WAIT)
    assert report.ok and any("omgerekend met factor 0.001" in w for w in report.warnings)
    [res] = registry_online.read(tmp_path)
    woz = res.observations[res.observations.variable == "g_wozbag"].set_index("region_code").value
    for code, value in raw.items():
        assert woz[code] == pytest.approx(value)  # back in x 1 000 euro
    for page in rec["odata"]["85984NED"]["DataProperties"]:
        for p in page["value"]:
            if p.get("Key") == "GemiddeldeWOZWaardeVanWoningen_39":
                p["Unit"] = "euro per m²"
    rec["odata"]["85984NED"]["TableInfos"][0]["value"][0]["Modified"] = "2025-09-01T02:00:00"
    report = fetch_all(tmp_path, transport=Replay(rec).transport(), only=["85984NED"], **NO_WAIT)
    assert "eenheid van GemiddeldeWOZWaardeVanWoningen_39 is 'euro per m²'" in report.failed["85984NED"]
    man = json.loads((registry_dir(tmp_path) / "85984NED" / "manifest.json").read_text())
    assert man["modified"] == "2025-03-27T02:00:00"  # the earlier fetch is kept


def test_read_back_statuses_renames_and_amsterdam_codes(tmp_path):
    rec = load()
    fetch_all(tmp_path, transport=Replay(rec).transport(), **NO_WAIT)
    results = {r.info.table_id: r for r in registry_online.read(tmp_path)}
    assert set(results) == FETCHABLE
    obs = {t: r.observations for t, r in results.items()}
    # '.', blank and null cells of the recording become geheim / ontbreekt, never 0
    raw = pd.DataFrame([row for page in rec["odata"]["85984NED"]["UntypedDataSet"] for row in page["value"]])
    cell = raw.set_index(raw.WijkenEnBuurten.str.strip())
    o = obs["85984NED"].set_index(["region_code", "variable"])
    assert cell.loc["BU03440300", "Mannen_6"] == "." and o.loc[("BU03440300", "a_man"), "status"] == "geheim"
    assert cell.loc["BU03440301", "Mannen_6"] == "" and o.loc[("BU03440301", "a_man"), "status"] == "ontbreekt"
    assert pd.isna(cell.loc["BU0363AA02", "Mannen_6"]) and o.loc[("BU0363AA02", "a_man"), "status"] == "ontbreekt"
    assert o.loc[("BU03440300", "g_wozbag"), "value"] == float(cell.loc["BU03440300", "GemiddeldeWOZWaardeVanWoningen_39"])
    # the 2020 WOZ column (GemiddeldeWoningwaarde_35) lands in the same variable
    assert (obs["84799NED"].variable == "g_wozbag").sum() == 8
    # Amsterdam recoded its buurten in 2022: numeric codes before, BU0363AA02-style after
    bu = lambda t: set(obs[t].region_code[obs[t].region_code.str.startswith("BU0363")])
    assert bu("85039NED") == {"BU03630000"} and bu("85318NED") == {"BU0363AA02"}
    regions = results["85318NED"].regions.set_index("code")
    assert regions.loc["BU0363AA02", "wijk_code"] == "WK0363AA" and regions.loc["BU0363AA02", "name"] == "Kop Zeedijk"
    # long tables: periods from Perioden, rows chosen by the declared dimension codes
    rivm = obs["50090NED"]
    assert sorted(rivm.period.unique()) == [2012, 2016, 2020] and (rivm.geo_year == 2020).all()
    assert {"gez_ervaren_goed_18plus", "gez_ervaren_goed_65plus"} <= set(rivm.variable)
    crime = obs["47018NED"]
    assert sorted(crime.period.unique()) == list(range(2012, 2025)) and set(crime.variable) == {"misdrijven_totaal"}
    # PDOK -99997 -> geheim
    pdok = obs["wijkenbuurten2023"]
    assert (pdok[(pdok.region_code == "BU0363AA02") & (pdok.variable == "g_wozbag")].status == "geheim").all()
    # provenance
    info = results["85984NED"].info
    assert info.source_id == "registry-85984ned" and info.retrieved == "2025-01-15"
    assert "Modified 2025-03-27" in info.note and info.location == "registry/85984NED"
    # Leefbaarometer 3.x classes per buurt (WFS), 2024 also per wijk and gemeente
    lbm = obs["leefbaarometer3-2024"]
    assert set(lbm.variable) == {"lbm3_klasse", "lbm3_fys_klasse", "lbm3_onv_klasse", "lbm3_soc_klasse",
                                 "lbm3_vrz_klasse", "lbm3_won_klasse"}
    assert lbm.value.between(1, 9).all() and {c[:2] for c in lbm.region_code} == {"GM", "WK", "BU"}
    assert {c[:2] for c in obs["leefbaarometer3-2012"].region_code} == {"BU"}


def test_adapter_contract_on_the_fetched_tables(tmp_path):
    from wijkmonitor.sources import ADAPTER_MODULES, OBS_COLUMNS, REGION_COLUMNS
    from wijkmonitor.sources.base import variables
    assert ADAPTER_MODULES[-1] == "registry_online"  # lowest precedence: the mirror wins
    fetch_all(tmp_path, transport=Replay().transport(), **NO_WAIT)
    known = set(variables())
    for r in registry_online.read(tmp_path):
        obs = r.observations
        assert list(obs.columns) == OBS_COLUMNS and len(obs) > 0
        assert set(obs.status) <= {"ok", "geheim", "ontbreekt"}
        assert obs.loc[obs.status != "ok", "value"].isna().all()
        assert obs.loc[obs.status == "ok", "value"].notna().all()
        assert set(obs.variable) <= known
        assert not obs.duplicated(["region_code", "geo_year", "period", "variable"]).any()
        assert obs.region_code.str.match(r"^(NL00|GM\d{4}|WK\d{4}[0-9A-Z]{2}|BU\d{4}[0-9A-Z]{4})$").all()
        assert list(r.regions.columns[:len(REGION_COLUMNS)]) == REGION_COLUMNS
        assert set(obs.region_code) <= set(r.regions.code)
        assert (tmp_path / r.info.location / "manifest.json").exists()


class FakeProgress:
    def __init__(self):
        self.tasks, self.updates = {}, []

    def add_task(self, description, total=None):
        self.tasks[len(self.tasks)] = description
        return len(self.tasks) - 1

    def advance(self, task, n=1):
        self.updates.append((task, "advance"))

    def update(self, task, **kw):
        self.updates.append((task, kw.get("description")))


def test_one_progress_bar_per_table_and_the_declared_filter_is_sent(tmp_path):
    progress, replay = FakeProgress(), Replay()
    fetch_all(tmp_path, transport=replay.transport(), only=["47018NED", "85984NED"], progress=progress, **NO_WAIT)
    assert sorted(progress.tasks.values()) == ["47018NED (politie_misdrijven)", "85984NED (cbs_kwb)"]
    finals = [d for _, d in progress.updates if d and d != "advance"]
    assert sorted(finals) == ["47018NED (politie_misdrijven): opgehaald", "85984NED (cbs_kwb): opgehaald"]
    rows = [httpx.URL(u) for u in replay.urls if "47018NED/UntypedDataSet" in u]
    assert rows[0].params["$filter"] == "SoortMisdrijf eq '0.0.0'"
    assert rows[0].params["$select"] == "WijkenEnBuurten,Perioden,SoortMisdrijf,GeregistreerdeMisdrijven_1"


def test_server_errors_are_retried_and_recover(tmp_path):
    """503 twice, then the recorded answer: the table is fetched after two waits."""
    seen = {"n": 0}

    def flaky(request):
        if "85984NED/TableInfos" in str(request.url) and seen["n"] < 2:
            seen["n"] += 1
            return httpx.Response(503, text="busy")
    waits = []
    report = fetch_all(tmp_path, transport=Replay(hook=flaky).transport(), only=["85984NED"],
                       sleep=waits.append, today=TODAY)
    assert report.fetched == ["85984NED"] and waits == [0.5, 1.0]
    # a 404 is not retried: the table fails at once with the URL
    report = fetch_all(tmp_path, transport=httpx.MockTransport(lambda r: httpx.Response(404)),
                       only=["85618NED"], sleep=waits.append, today=TODAY)
    assert "HTTP 404" in report.failed["85618NED"] and waits == [0.5, 1.0]


def test_fetched_polygons_in_the_geometries_layout(tmp_path):
    fetch_all(tmp_path, transport=Replay().transport(), only=["wijkenbuurten2024", "wijkenbuurten2016"], **NO_WAIT)
    buurt = registry_online.read_polygons(tmp_path, 2024, "buurt")
    assert list(buurt.columns) == ["code", "year", "level", "name", "geometry"]
    assert buurt.crs.to_epsg() == 28992 and buurt.geometry.is_valid.all()
    assert set(buurt.code) == {"BU03440300", "BU03440301", "BU0363AA02"}
    # 1 km² squares in the recording (0.01 degree): area in RD within a plausible range
    assert buurt.geometry.area.between(0.5e6, 1.2e6).all()
    assert set(registry_online.read_polygons(tmp_path, 2016, "wijk").code) == {"WK034403", "WK036300"}
    assert registry_online.read_polygons(tmp_path, 2019, "buurt") is None  # not fetched


def test_a_damaged_fetched_table_is_a_dutch_error_naming_it(tmp_path):
    from wijkmonitor.sources.base import SourceError
    fetch_all(tmp_path, transport=Replay().transport(), only=["85984NED"], **NO_WAIT)
    (registry_dir(tmp_path) / "85984NED" / "data.parquet").write_bytes(b"not parquet")
    with pytest.raises(SourceError) as err:
        registry_online.read(tmp_path)
    assert "registry/85984NED" in str(err.value) and "onleesbaar" in str(err.value)
    assert "--only 85984NED" in str(err.value)


def test_the_2013_table_is_selected_and_read_by_its_own_region_dimension(tmp_path):
    """82339NED (KWB 2013) names its regions in RegioS: the fetch selects RegioS (not the family's
    WijkenEnBuurten), takes the names from the RegioS entity and reads the codes back from it; a
    recording that still had WijkenEnBuurten fails the table with the column named."""
    replay = Replay()
    report = fetch_all(tmp_path, transport=replay.transport(), only=["82339NED"], **NO_WAIT)
    assert report.fetched == ["82339NED"], report.failed
    rows = [httpx.URL(u) for u in replay.urls if "82339NED/UntypedDataSet" in u]
    assert rows[0].params["$select"].split(",")[0] == "RegioS"
    assert any("82339NED/RegioS" in u for u in replay.urls)
    [res] = [r for r in registry_online.read(tmp_path) if r.info.table_id == "82339NED"]
    regions = res.regions.set_index("code")
    assert regions.loc["BU03440300", "name"] == "Zambesidreef e.o." and regions.loc["GM0363", "name"] == "Amsterdam"
    assert {"NL00", "GM0344", "WK034403", "BU03440300", "BU03630000"} <= set(res.observations.region_code)
    # the same rows under WijkenEnBuurten: the selected RegioS is not in the rows
    rec = load()
    for page in rec["odata"]["82339NED"]["UntypedDataSet"]:
        for row in page["value"]:
            row["WijkenEnBuurten"] = row.pop("RegioS")
    shutil.rmtree(registry_dir(tmp_path) / "82339NED")
    report = fetch_all(tmp_path, transport=Replay(rec).transport(), only=["82339NED"], **NO_WAIT)
    assert "kolom RegioS ontbreekt" in report.failed["82339NED"]
