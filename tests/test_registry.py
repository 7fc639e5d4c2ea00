"""The source registry (src/wijkmonitor/sources/registry/*.yaml): every key cited or marked
unverified, every catalogue input declared, loader errors in Dutch naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from wijkmonitor.catalogue import load_catalogue
from wijkmonitor.sources.registry import (HERE, RegistryError, load_file, load_registry,
                                          unit_factor)

FILES = sorted(HERE.glob("*.yaml"))


def test_the_five_families_exist():
    assert {p.stem for p in FILES} == {"cbs_kwb", "rivm_gezondheid", "politie_misdrijven",
                                       "leefbaarometer", "pdok_wijkenbuurten"}
    load_registry()  # validates every file


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_key_has_a_citation_or_is_marked_unverified(path):
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))  # the file itself, not the loader
    citations = raw.get("citations") or {}
    for tid, table in raw["tables"].items():
        for var, col in (table.get("columns") or {}).items():
            where = f"{path.name} {tid} {var}"
            if col.get("unverified") is True:
                assert col.get("reason"), where
                assert col.get("stem") or col.get("key"), where
            else:
                assert col.get("key"), where
                assert col.get("cite") in citations, where
                assert citations[col["cite"]].strip(), where


def test_every_catalogue_input_is_declared_for_some_table():
    declared = {c.variable for fam in load_registry().values() for t in fam.tables.values()
                for c in t.columns}
    needed = set()
    for ind in load_catalogue().values():
        for f in ind.formulas:
            for part in ("value", "numerator", "denominator", "base", "weight"):
                needed.update(getattr(f, part, None) or ())
    # the two crime variables of the gemeente files (83648NED / 47013NED) are not per wijk/buurt
    missing = needed - declared - {"misdrijven_totaal_politie", "misdrijven_per1000"}
    assert not missing, sorted(missing)


def test_the_kwb_editions_of_the_issue_are_declared():
    kwb = load_registry()["cbs_kwb"].tables
    assert set(kwb) == {"70904NED", "82339NED", "82931NED", "83220NED", "83487NED", "83765NED",
                        "84286NED", "84583NED", "84799NED", "85039NED", "85318NED", "85618NED",
                        "85984NED", "86165NED"}
    assert [kwb[t].period for t in sorted(kwb, key=lambda t: kwb[t].period)] == list(range(2012, 2026))


def test_renames_between_editions_are_declared_with_their_sources():
    kwb = load_registry()["cbs_kwb"].tables
    col = {t: {c.variable: c for c in kwb[t].columns} for t in kwb}
    # WOZ: GemiddeldeWoningwaarde (2020 snapshot, alias of the later spelling) -> GemiddeldeWOZWaardeVanWoningen
    assert col["84799NED"]["g_wozbag"].key == "GemiddeldeWoningwaarde_35"
    assert col["84799NED"]["g_wozbag"].aliases == ("GemiddeldeWOZWaardeVanWoningen_35",)
    assert col["85984NED"]["g_wozbag"].key == "GemiddeldeWOZWaardeVanWoningen_39"
    assert col["85984NED"]["g_wozbag"].unit == "x 1 000 euro"
    # opleiding after 2022
    assert col["84799NED"]["a_opl_lg"].key == "OpleidingsniveauLaag_64"
    assert col["85984NED"]["a_opl_lg"].key == "BasisonderwijsVmboMbo1_75"
    # 2025: WoningvoorraadTotaal, GemiddeldeInkomenPerInwoner
    assert col["86165NED"]["a_woning"].key == "WoningvoorraadTotaal_35"
    assert col["86165NED"]["g_ink_pi"].key == "GemiddeldeInkomenPerInwoner_78"
    assert "p_hh_osm" not in col["86165NED"]  # replaced by PersonenInArmoede in 2025
    # 85984NED was revised after its cited DataProperties (2025-03-27): the moved keys of the
    # recorded 2026 rows are declared as aliases of the same table, not as keys of another edition
    assert col["85984NED"]["g_ink_pi"].aliases == ("GemiddeldInkomenPerInwoner_78",)
    assert col["85984NED"]["a_opl_lg"].aliases == ("BasisonderwijsVmboMbo1_67",)
    # the two editions with a full DataProperties list cite the metadata files
    assert "85984NED.keys.json" in col["85984NED"]["a_inw"].cite
    assert "84799NED.keys.json" in col["84799NED"]["a_inw"].cite
    # the opleiding rename falls between 2022 (85318NED, recorded row) and 2023 (85618NED)
    assert col["85318NED"]["a_opl_lg"].key == "OpleidingsniveauLaag_64"
    assert col["85618NED"]["a_opl_lg"].key == "BasisonderwijsVmboMbo1_70"
    # editions without a full key list: only the keys seen in public code are cited, the rest
    # stays unverified. 83765NED: the two keys of reidhin/grenswijzigen, five that
    # dat-nguyen96/Micro-Neighbourhood build_clusters.py requires of its 83765NED download and
    # three its App.jsx reads from a 83765NED row; the crime keys only appear in a repository
    # that also selects wrong keys of 83765NED, so they stay unverified.
    cited_2017 = {c.variable: c.key for c in kwb["83765NED"].columns if not c.unverified}
    assert cited_2017 == {"a_inw": "AantalInwoners_5", "a_65_oo": "k_65JaarOfOuder_12",
                          "a_00_14": "k_0Tot15Jaar_8", "a_25_44": "k_25Tot45Jaar_10",
                          "a_hh": "HuishoudensTotaal_28", "g_ink_pi": "GemiddeldInkomenPerInwoner_66",
                          "p_hh_osm": "HuishOnderOfRondSociaalMinimum_73", "a_15_24": "k_15Tot25Jaar_9",
                          "a_45_64": "k_45Tot65Jaar_11", "p_hh_li": "k_40HuishoudensMetLaagsteInkomen_70",
                          # four more from the rows of kmazurek95/attitudes-toward-income-inequality, whose
                          # populations are those of 1 January 2017 (the repository labels them 84286NED)
                          "a_w_all": "WestersTotaal_17", "a_nw_all": "NietWestersTotaal_18",
                          "g_wozbag": "GemiddeldeWoningwaarde_35", "p_hh_lkk": "HuishoudensMetEenLaagInkomen_72",
                          # and seven from recently served rows (rickyssss/-aggregation-bias-thesis), 2017 values
                          "a_man": "Mannen_6", "a_vrouw": "Vrouwen_7", "a_woning": "Woningvoorraad_34",
                          "p_1gezw": "PercentageEengezinswoning_36", "p_leegsw": "PercentageOnbewoond_39",
                          "p_koopw": "Koopwoningen_40", "p_huurw": "HuurwoningenTotaal_41"}
    # those rows spell the WOZ column as 84799NED's revision does: declared as an alias of the same table
    assert col["83765NED"]["g_wozbag"].aliases == ("GemiddeldeWOZWaardeVanWoningen_35",)
    assert {c.variable for c in kwb["83765NED"].columns if not c.unverified and "indicators_buurt_wijk_gemeente.csv" in c.cite} == {
        "a_w_all", "a_nw_all", "g_wozbag", "p_hh_lkk"}
    assert {c.variable for c in kwb["83765NED"].columns if c.variable.startswith("misdr_") and c.unverified} == {
        "misdr_diefstal_woning_p1000", "misdr_vernieling_p1000", "misdr_geweld_p1000"}
    # 2018: the BigQuery datamart over 84286NED (dkapitan/nl-open-data) adds the age bands, westers,
    # income per inwoner, AO and WW to the keys of lauradatta/neighbourhood_choice
    cited_2018 = {c.variable: c.key for c in kwb["84286NED"].columns if not c.unverified}
    assert cited_2018["a_45_64"] == "k_45Tot65Jaar_11" and cited_2018["g_ink_pi"] == "GemiddeldInkomenPerInwoner_66"
    assert cited_2018["a_soz_ao"] == "PersonenPerSoortUitkeringAO_75" and cited_2018["a_soz_wb"] == "PersonenPerSoortUitkeringBijstand_74"
    # corporatiebezit from the columns VNG-Realisatie/Data-Science-Hub-CDF indexes its 84286NED download with
    assert cited_2018["p_wcorpw"] == "InBezitWoningcorporatie_42"
    # 2016: the 83487NED row read by MJvRijn/VAS_pset6 (demographics, housing, income, uitkeringen)
    cited_2016 = {c.variable: c.key for c in kwb["83487NED"].columns if not c.unverified}
    assert cited_2016["g_wozbag"] == "GemiddeldeWoningwaarde_35" and cited_2016["p_hh_li"] == "k_40HuishoudensMetLaagsteInkomen_70"
    assert len(cited_2016) == 15
    # 2019: the header of the 84583NED rows exported by marcopellegrinoit/DHZW_synthetic-population
    cited_2019 = {c.variable: c.key for c in kwb["84583NED"].columns if not c.unverified}
    assert cited_2019["a_opl_lg"] == "OpleidingsniveauLaag_64" and cited_2019["a_nw_all"] == "NietWestersTotaal_18"
    assert "g_ink_pi" not in cited_2019  # its income key was not seen with the table id
    # WOZ and huur from the cbsodataR $select of check-the-facts/CTFv3-nl global.R on 84583NED
    assert (cited_2019["g_wozbag"], cited_2019["p_huurw"]) == ("GemiddeldeWoningwaarde_35", "HuurwoningenTotaal_41")
    assert all(c.unverified for c in kwb["82339NED"].columns)  # 2013: no key with an identifiable source
    # 2013 names its regions in the dimension RegioS (the later editions: WijkenEnBuurten)
    assert (kwb["82339NED"].code_column, kwb["82339NED"].names) == ("RegioS", "RegioS")
    assert all(kwb[t].code_column is None for t in kwb if t != "82339NED")  # the family's WijkenEnBuurten


def test_the_2015_edition_is_cited_from_its_full_dataproperties():
    """83220NED: every declared column the edition has is cited from one full DataProperties
    list (runhar/CityViewR dataproperties2015.json); the columns it lacks stay unverified stems
    whose reason says they are absent."""
    table = load_registry()["cbs_kwb"].tables["83220NED"]
    cited = {c.variable: c.key for c in table.columns if not c.unverified}
    assert len(cited) == 25
    assert cited["g_wozbag"] == "GemiddeldeWoningwaarde_35" and cited["g_ink_pi"] == "GemiddeldInkomenPerInwoner_66"
    assert cited["p_hh_lkk"] == "HuishoudensMetEenLaagInkomen_72" and cited["a_soz_ww"] == "PersonenPerSoortUitkeringWW_76"
    assert all("dataproperties2015.json" in c.cite for c in table.columns if not c.unverified)
    absent = {c.variable for c in table.columns if c.unverified}
    assert absent == {"p_jz_tn", "misdr_diefstal_woning_p1000", "misdr_vernieling_p1000", "misdr_geweld_p1000"}
    assert all(c.reason.startswith("absent from this edition") for c in table.columns if c.unverified)


def test_the_2014_edition_declares_herkomst_as_shares():
    """82931NED publishes Westers / niet-westers as % of inwoners (CBS table page), 2015 as
    counts: a count column whose live unit is % cannot be converted and would fail the table."""
    kwb = load_registry()["cbs_kwb"].tables
    herkomst = {c.variable: c.unit for c in kwb["82931NED"].columns if c.stem in ("WestersTotaal", "NietWestersTotaal")}
    assert herkomst == {"p_w_all": "%", "p_nw_all": "%"}
    assert {c.variable: c.unit for c in kwb["83220NED"].columns if c.stem in ("WestersTotaal", "NietWestersTotaal")} == {
        "a_w_all": "aantal", "a_nw_all": "aantal"}


def test_every_cited_odata_key_is_cited_from_a_source_that_names_its_table():
    """Numeric suffixes move between editions, so a key seen for one table id may never be
    carried to another: the citation of every verified OData key names the table it is for."""
    reg = load_registry()
    checked = 0
    for fam in reg.values():
        if fam.access != "odata":
            continue
        for table in fam.tables.values():
            for c in table.columns:
                if c.unverified:
                    continue
                assert table.table_id in c.cite, (fam.name, table.table_id, c.variable, c.cite)
                checked += 1
    assert checked > 100


def test_verified_keys_of_the_complete_editions_are_in_the_metadata_files():
    import json
    meta = Path("/work/shared/data/cbs-statline-metadata")
    if not meta.is_dir():
        pytest.skip("shared metadata not available")
    kwb = load_registry()["cbs_kwb"].tables
    for tid in ("85984NED", "84799NED"):
        keys = {k["key"]: k for k in json.loads((meta / f"{tid}.keys.json").read_text())["keys"]}
        for c in kwb[tid].columns:
            assert c.key in keys, (tid, c.key)
            assert unit_factor(keys[c.key]["unit"], c.unit) == 1.0, (tid, c.key, keys[c.key]["unit"])


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = """family: {name}
title: t
publisher: CBS
licence: CC BY 4.0
access: odata
service: https://example.invalid/odata
code_column: WijkenEnBuurten
citations: {{src: "repo/path"}}
tables:
  T1:
    period: 2024
    geo_year: 2024
    levels: [buurt]
    columns:
"""


@pytest.mark.parametrize("column, field, words", [
    ("      a_inw: {key: AantalInwoners_5}\n", "tables.T1.columns.a_inw.cite", "zonder bron"),
    ("      a_inw: {key: AantalInwoners_5, cite: elders}\n", "tables.T1.columns.a_inw.cite", "onbekende bron"),
    ("      a_inw: {stem: AantalInwoners, unverified: true}\n", "tables.T1.columns.a_inw.reason", "waarom"),
    ("      onbekend: {key: X_1, cite: src}\n", "tables.T1.columns.onbekend", "onbekende variabele"),
    ("      g_wozbag: {key: W_1, cite: src, unit: m2}\n", "tables.T1.columns.g_wozbag.unit", "niet om te rekenen"),
])
def test_loader_errors_name_file_and_field_in_dutch(tmp_path, column, field, words):
    path = _write(tmp_path, "fam", BASE.format(name="fam") + column)
    with pytest.raises(RegistryError) as err:
        load_file(path)
    assert err.value.field == field
    assert "fam.yaml" in str(err.value) and words in str(err.value)


def test_loader_accepts_a_cited_key_and_an_unverified_stem(tmp_path):
    path = _write(tmp_path, "fam", BASE.format(name="fam")
                  + "      a_inw: {key: AantalInwoners_5, cite: src}\n"
                  + "      g_wozbag: {stem: GemiddeldeWOZWaardeVanWoningen, unverified: true, reason: r, unit: euro}\n")
    fam = load_file(path)
    a_inw, woz = fam.tables["T1"].columns
    assert (a_inw.stem, a_inw.cite, a_inw.unverified) == ("AantalInwoners", "repo/path", False)
    assert woz.unverified and woz.factor == 0.001  # euro -> x 1 000 euro


def test_a_table_may_name_its_own_region_dimension(tmp_path):
    from wijkmonitor.sources.registry import code_column, names_entity
    text = BASE.format(name="fam").replace("code_column: WijkenEnBuurten\n", "code_column: WijkenEnBuurten\nnames: WijkenEnBuurten\n")
    text = text.replace("    levels: [buurt]\n", "    levels: [buurt]\n    code_column: RegioS\n")
    text += "      a_inw: {key: AantalInwoners_4, cite: src}\n"
    text += "  T2:\n    period: 2024\n    geo_year: 2024\n    levels: [buurt]\n    columns:\n"
    text += "      a_inw: {key: AantalInwoners_5, cite: src}\n"
    fam = load_file(_write(tmp_path, "fam", text))
    t1, t2 = fam.tables["T1"], fam.tables["T2"]
    assert (code_column(t1, fam), names_entity(t1, fam)) == ("RegioS", "RegioS")  # its dimension names it
    assert (code_column(t2, fam), names_entity(t2, fam)) == ("WijkenEnBuurten", "WijkenEnBuurten")
    bad = text.replace("    code_column: RegioS\n", "    code_column: [RegioS]\n")
    with pytest.raises(RegistryError) as err:
        load_file(_write(tmp_path, "fam", bad))
    assert err.value.field == "tables.T1.code_column" and "kolomnaam" in str(err.value)


def test_family_name_must_match_the_file(tmp_path):
    path = _write(tmp_path, "other", BASE.format(name="fam") + "      a_inw: {key: A_5, cite: src}\n")
    with pytest.raises(RegistryError, match="family"):
        load_file(path)


# Keys of the revised 85984NED as recorded in 2026 (TjebbeHB/Synthetic-Population-Rotterdam
# src/data/cbsRotterdamSnapshot.json, citation kwb2024_rev); the columns around the declared ones.
REVISED_85984NED = [
    "AantalInwoners_5", "Mannen_6", "Vrouwen_7", "k_0Tot15Jaar_8", "k_15Tot25Jaar_9",
    "k_25Tot45Jaar_10", "k_45Tot65Jaar_11", "k_65JaarOfOuder_12", "Nederland_17",
    "EuropaExclusiefNederland_18", "BuitenEuropa_19", "Nederland_20", "HuishoudensTotaal_29",
    "Woningvoorraad_35", "GemiddeldeWOZWaardeVanWoningen_39", "PercentageEengezinswoning_40",
    "OnbewoondeWoningen_46", "Koopwoningen_47", "HuurwoningenTotaal_48",
    "InBezitWoningcorporatie_49", "BasisonderwijsVmboMbo1_67", "HavoVwoMbo24_68", "HboWo_69",
    "GemiddeldInkomenPerInwoner_78", "PersonenInArmoede_81", "k_40HuishoudensMetLaagsteInkomen_84",
    "MediaanVermogenVanParticuliereHuish_86", "PersonenPerSoortUitkeringBijstand_87",
    "PersonenPerSoortUitkeringAO_88", "PersonenPerSoortUitkeringWW_89",
    "JongerenMetJeugdzorgInNatura_91", "PercentageJongerenMetJeugdzorg_92", "WmoClienten_93",
]


def test_the_revised_2024_table_resolves_through_aliases_except_the_two_dropped_columns():
    """Against the revised 85984NED every moved key is found exactly through its declared alias
    (no 'same stem' warning), and exactly the two columns CBS dropped are reported missing."""
    from wijkmonitor.sources.fetch_registry import _resolve
    table = load_registry()["cbs_kwb"].tables["85984NED"]
    # since issue 14 _resolve returns the missing columns instead of raising for them
    resolved, warnings, missing = _resolve(table, {k: None for k in REVISED_85984NED}, suffixed=True)
    assert {m["variable"] for m in missing} == {"p_hh_lkk", "p_hh_osm"}
    assert {m["key"] for m in missing} == {"HuishoudensMetEenLaagInkomen_89",
                                           "HuishOnderOfRondSociaalMinimum_90"}
    assert set(resolved) == {c.variable for c in table.columns} - {"p_hh_lkk", "p_hh_osm"}
    assert warnings == []
    assert resolved["g_ink_pi"]["key"] == "GemiddeldInkomenPerInwoner_78"
    assert resolved["a_opl_lg"]["key"] == "BasisonderwijsVmboMbo1_67"
    assert resolved["g_wozbag"]["key"] == "GemiddeldeWOZWaardeVanWoningen_39"
    # and against the cited 2025-03 DataProperties the declared keys themselves are used
    old = [c.key for c in table.columns]
    resolved, warnings, missing = _resolve(table, {k: None for k in old}, suffixed=True)
    assert warnings == [] and missing == [] and resolved["g_ink_pi"]["key"] == "GemiddeldInkomenPerInwoner_83"


def test_the_2017_woz_column_resolves_under_both_spellings():
    """83765NED as exported in 2017 has GemiddeldeWoningwaarde_35, as served recently
    GemiddeldeWOZWaardeVanWoningen_35 (kwb2017_live): both are found without a stem warning."""
    from wijkmonitor.sources.fetch_registry import _resolve
    table = load_registry()["cbs_kwb"].tables["83765NED"]
    declared = [c.key or f"{c.stem}_900" for c in table.columns]
    for woz in ("GemiddeldeWoningwaarde_35", "GemiddeldeWOZWaardeVanWoningen_35"):
        live = {k: None for k in declared if k != "GemiddeldeWoningwaarde_35"} | {woz: None}
        resolved, warnings, missing = _resolve(table, live, suffixed=True)
        assert resolved["g_wozbag"]["key"] == woz
        assert not [w for w in warnings if "g_wozbag" in w] and missing == []
