"""Age standardisation on the real store, recomputed by hand from the raw publisher files.

Utrecht Overvecht (WK034403) against Utrecht (GM0344), ervaren gezondheid, 50090NED: the
18-65 and 65+ rates are read straight from the mirror's xlsx files (python-calamine, not the
project's adapter), the 2020 age mix from the raw KWB 2023 file of Utrecht, and the standard
population is the pinned KWB 2019 NL00 row.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from wijkmonitor import composition as comp
from wijkmonitor import store

# KWB 2019 (84583NED), NL00: 25-64 = 4 255 450 + 4 840 946, 65+ = 3 314 004
S_YOUNG = (4255450 + 4840946) / (4255450 + 4840946 + 3314004)
S_OLD = 3314004 / (4255450 + 4840946 + 3314004)

RIVM = "rivm-gezondheid-wijk-buurt"
FILES = {(2012, "18plus"): "2012_18+.xlsx", (2012, "18_65"): "2012_18_65.xlsx", (2012, "65plus"): "2012_65+.xlsx",
         (2016, "18plus"): "2016_18+.xlsx", (2016, "18_65"): "2016_18_65.xlsx", (2016, "65plus"): "2016_65+.xlsx",
         (2020, "18plus"): "RIVM_gezondheid2020_18+.xlsx", (2020, "65plus"): "RIVM_gezondheid2020_65+.xlsx"}


def raw_rate(data_dir: Path, period: int, age: str, code: str, column="ErvarenGezondheidGoedZeerGoed_4") -> float:
    rows = CalamineWorkbook.from_path(str(data_dir / RIVM / FILES[(period, age)])).get_sheet_by_index(0).to_python()
    head = [str(c) for c in rows[0]]
    i_code, i_val = head.index("WijkenEnBuurten"), head.index(column)
    for r in rows[1:]:
        if str(r[i_code]).strip() == code:
            return float(str(r[i_val]).strip())
    raise KeyError(code)


def raw_kwb_utrecht_2023(data_dir: Path, code: str) -> dict:
    rows = CalamineWorkbook.from_path(str(data_dir / "cbs-kwb-steden/utrecht/CBS-Utrecht-kwb-2023.xlsx")) \
        .get_sheet_by_index(0).to_python()
    head = [str(c) for c in rows[0]]
    for r in rows[1:]:
        if str(r[head.index("gwb_code")]).strip() == code:
            return {k: float(r[head.index(k)]) for k in ("a_25_44", "a_45_64", "a_65_oo")}
    raise KeyError(code)


def raw_kwb_2019_gemeente(data_dir: Path, code: str) -> dict:
    import csv
    with open(data_dir / "cbs-kwb/kwb-2019.csv", encoding="utf-8-sig", newline="") as f:
        for r in csv.DictReader(f):
            if r["unique_id"] == code:
                return {"a_25_44": float(r["b_25_44"]), "a_45_64": float(r["b_45_64"]), "a_65_oo": float(r["b_65_oo"])}
    raise KeyError(code)


@pytest.fixture(scope="module")
def con(real_store):
    c = store.connect(real_store)
    yield c
    c.close()


@pytest.fixture(scope="module")
def overvecht(con):
    return {r["measure"]: r for r in
            comp.standardised_gap(con, "Utrecht Overvecht", "ervaren_gezondheid_pct", 2012, 2016)["rows"]}


def test_overvecht_2012_2016_standardised_from_the_raw_files(overvecht, data_dir):
    std = overvecht["leeftijdsgestandaardiseerd"]
    for tag, period in (("baseline", 2012), ("latest", 2016)):
        area = S_YOUNG * raw_rate(data_dir, period, "18_65", "WK034403") + \
            S_OLD * raw_rate(data_dir, period, "65plus", "WK034403")
        gem = S_YOUNG * raw_rate(data_dir, period, "18_65", "GM0344") + \
            S_OLD * raw_rate(data_dir, period, "65plus", "GM0344")
        assert std[f"value_{tag}"] == pytest.approx(area, abs=1e-9)
        assert std[f"reference_{tag}"] == pytest.approx(gem, abs=1e-9)
        assert std[f"gap_{tag}"] == pytest.approx(area - gem, abs=1e-9)
        # the crude value is the published 18+ figure itself
        assert overvecht["ruw (18+)"][f"value_{tag}"] == raw_rate(data_dir, period, "18plus", "WK034403")
        assert overvecht["ruw (18+)"][f"reference_{tag}"] == raw_rate(data_dir, period, "18plus", "GM0344")
        assert not std[f"derived_{tag}"]
    # by hand from the files: 2012 69,5 / 49,4 against 81,4 / 55,2; 2016 67,0 / 46,9 against ...
    assert std["value_baseline"] == pytest.approx(S_YOUNG * 69.5 + S_OLD * 49.4)
    assert std["gap_change"] == pytest.approx(std["gap_latest"] - std["gap_baseline"])


def test_overvecht_2020_derived_18_65_from_the_raw_files(con, data_dir):
    # the mirror lacks the 2020 18-65 file: 18-65 = (18+ x W25+ - 65+ x W65+) / W25-64, with
    # the KWB age bands of the same region in the nearest KWB year to 2020 the store has: 2023
    # for the wijk (Utrecht's own KWB file), 2019 for the gemeente (KWB 2019, all gemeenten)
    res = comp.standardised_gap(con, "Utrecht Overvecht", "ervaren_gezondheid_pct", 2012, 2020)
    std = {r["measure"]: r for r in res["rows"]}["leeftijdsgestandaardiseerd"]
    expected = {}
    for code, kwb in (("WK034403", raw_kwb_utrecht_2023), ("GM0344", raw_kwb_2019_gemeente)):
        w = kwb(data_dir, code)
        wy, wo = w["a_25_44"] + w["a_45_64"], w["a_65_oo"]
        r_all, r_old = raw_rate(data_dir, 2020, "18plus", code), raw_rate(data_dir, 2020, "65plus", code)
        young = (r_all * (wy + wo) - r_old * wo) / wy
        expected[code] = S_YOUNG * young + S_OLD * r_old
    assert std["value_latest"] == pytest.approx(expected["WK034403"], abs=1e-9)
    assert std["reference_latest"] == pytest.approx(expected["GM0344"], abs=1e-9)
    assert std["derived_latest"] and not std["derived_baseline"]
    assert res["weight_years"]["area_latest"] == [2023]
    assert res["weight_years"]["reference_latest"] == [2019]
    assert any("afgeleid" in n for n in res["notes"])


def test_declared_standard_matches_the_store_nl00_row(con):
    df = con.execute("""SELECT variable, value FROM observations
                        WHERE region_code = 'NL00' AND period = 2019
                          AND variable IN ('a_25_44', 'a_45_64', 'a_65_oo')""").df()
    got = df.groupby("variable")["value"].first().to_dict()
    st = comp.load_standard()
    assert st.population["18_65"] == got["a_25_44"] + got["a_45_64"]
    assert st.population["65plus"] == got["a_65_oo"]


def test_multi_part_area_recomputed_by_hand(con, data_dir):
    # Rotterdam-Zuid = WK059910, WK059912, WK059915; 2016 18-65 and 65+ weighted by the KWB
    # bands of the nearest year (2024 for Rotterdam's wijken), parts taken from the raw file
    res = comp.standardised_gap(con, "rotterdam-zuid", "ervaren_gezondheid_pct", 2016, 2016)
    rows = {r["measure"]: r for r in res["rows"]}
    w = con.execute("""SELECT region_code, variable, value FROM observations
                       WHERE period = 2024 AND source_id = 'kwb-2024-statline-csv'
                         AND region_code IN ('WK059910', 'WK059912', 'WK059915')
                         AND variable IN ('a_25_44', 'a_45_64', 'a_65_oo')""").df()
    w = w.pivot_table(index="region_code", columns="variable", values="value")
    num_y = num_o = den_y = den_o = 0.0
    for code in ("WK059910", "WK059912", "WK059915"):
        wy, wo = w.loc[code, "a_25_44"] + w.loc[code, "a_45_64"], w.loc[code, "a_65_oo"]
        num_y += raw_rate(data_dir, 2016, "18_65", code) * wy
        num_o += raw_rate(data_dir, 2016, "65plus", code) * wo
        den_y += wy
        den_o += wo
    assert rows["18 tot 65 jaar"]["value_baseline"] == pytest.approx(num_y / den_y, abs=1e-9)
    assert rows["65 jaar of ouder"]["value_baseline"] == pytest.approx(num_o / den_o, abs=1e-9)
    assert rows["leeftijdsgestandaardiseerd"]["value_baseline"] == pytest.approx(
        S_YOUNG * num_y / den_y + S_OLD * num_o / den_o, abs=1e-9)
    assert rows["leeftijdsgestandaardiseerd"]["reference_baseline"] == pytest.approx(
        S_YOUNG * raw_rate(data_dir, 2016, "18_65", "GM0599") + S_OLD * raw_rate(data_dir, 2016, "65plus", "GM0599"))


def test_cli_json_and_table(real_store):
    from wijkmonitor.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["standardise", "--area", "Utrecht Overvecht", "--indicator", "ervaren_gezondheid_pct",
                              "--baseline", "2012", "--latest", "2020", "--format", "json",
                              "--store", str(real_store)])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["area"] == "utrecht-overvecht" and data["reference"] == "GM0344"
    assert data["baseline_year"] == 2012 and data["latest_year"] == 2020
    assert data["standard"]["population"] == {"18_65": 9096396.0, "65plus": 3314004.0}
    assert "Directe leeftijdsstandaardisatie" in data["rule"]
    assert [r["measure"] for r in data["rows"]] == ["ruw (18+)", "18 tot 65 jaar", "65 jaar of ouder",
                                                    "leeftijdsgestandaardiseerd"]
    table = runner.invoke(app, ["standardise", "--area", "WK034403", "--indicator", "ervaren_gezondheid_pct",
                                "--baseline", "2012", "--latest", "2016", "--store", str(real_store)])
    assert table.exit_code == 0, table.output
    assert "Regel: Directe leeftijdsstandaardisatie" in table.output and "standaardbevolking" in table.output
    csv = runner.invoke(app, ["standardise", "--area", "WK034403", "--indicator", "eenzaam_pct",
                              "--format", "csv", "--store", str(real_store)])
    assert csv.exit_code == 0 and csv.output.splitlines()[0].startswith("area,area_name,reference")
    bad = runner.invoke(app, ["standardise", "--area", "Utrecht Overvecht", "--indicator", "koopwoningen_pct",
                              "--store", str(real_store)])
    assert bad.exit_code == 1 and "kan niet worden gestandaardiseerd" in bad.output
