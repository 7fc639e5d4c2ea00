"""The catalogue field ``weight_fallback``: declared as data, validated on load with a Dutch
message naming the file and the field."""

from __future__ import annotations

import pytest

from wijkmonitor.catalogue import CatalogueError, load_catalogue, load_indicator

BASE = """id: {id}
name: Test
description: Test.
theme: wonen & leefbaarheid
polarity: neutraal
unit: '%'
aggregation: {aggregation}
min_base: 50
{extra}formulas:
- years: [2012, 2030]
{formula}
"""


def write(tmp_path, *, extra, formula="  value: p_koopw\n  base: a_woning", aggregation="verhouding",
          ind_id="t"):
    p = tmp_path / f"{ind_id}.yaml"
    p.write_text(BASE.format(id=ind_id, aggregation=aggregation, extra=extra, formula=formula), encoding="utf-8")
    return p


def test_the_woningvoorraad_indicators_declare_households():
    cat = load_catalogue()
    declared = {i.id for i in cat.values() if i.weight_fallback is not None}
    # every indicator whose base or weight is the woningvoorraad, and no other
    by_dwellings = {i.id for i in cat.values()
                    if any("a_woning" in (f.base or f.weight or ()) for f in i.formulas)}
    assert declared == by_dwellings == {"woz_gemiddeld", "koopwoningen_pct", "leegstand_pct",
                                        "corporatiewoningen_pct", "huurwoningen_pct", "eengezinswoningen_pct"}
    for i in declared:
        assert cat[i].weight_fallback.weight == ("a_hh",) and cat[i].weight_fallback.label == "huishoudens"
        assert cat[i].primary_weight_label == "woningvoorraad"
    assert cat["woz_gemiddeld"].weight_fallback.method_text("woningvoorraad", "buurt") == \
        "benadering: gewogen met huishoudens, woningvoorraad per buurt ontbreekt"


def test_a_valid_declaration_loads(tmp_path):
    ind = load_indicator(write(tmp_path, extra="weight_fallback:\n  weight: a_hh\n  label: huishoudens\n"))
    assert ind.weight_fallback.weight == ("a_hh",)


@pytest.mark.parametrize("extra, formula, aggregation, field, words", [
    ("weight_fallback:\n  weight: a_onbekend\n  label: x\n", None, "verhouding", "(indicator)",
     "onbekende variabele 'a_onbekend'"),
    ("weight_fallback:\n  weight: a_hh\n", None, "verhouding", "weight_fallback.label", "Field required"),
    ("weight_fallback:\n  weight: a_hh\n  label: x\n  extra: 1\n", None, "verhouding", "weight_fallback.extra",
     "Extra inputs"),
    ("weight_fallback:\n  weight: a_woning\n  label: woningen\n", None, "verhouding", "(indicator)",
     "hetzelfde als het gewicht"),
    # a ratio of counts has its own denominator: no stand-in
    ("weight_fallback:\n  weight: a_hh\n  label: huishoudens\n", "  numerator: a_65_oo\n  denominator: a_woning",
     "verhouding", "(indicator)", "hoort bij een gepubliceerd percentage"),
])
def test_invalid_declarations_name_file_and_field(tmp_path, extra, formula, aggregation, field, words):
    kw = {} if formula is None else {"formula": formula}
    path = write(tmp_path, extra=extra, aggregation=aggregation, **kw)
    with pytest.raises(CatalogueError) as exc:
        load_indicator(path)
    assert exc.value.file == str(path) and exc.value.field == field
    assert words in str(exc.value)
