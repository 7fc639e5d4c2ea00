"""Linking later buurt codes to the 2014 buurt polygons by name and location (issue 17, maps).

Synthetic cases (squares in metres) for both sides of the 90 % rule, the one-to-one rule and the
name normalisation; the real-data cases are in ``tests/web/test_maps_koppeling.py``.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from wijkmonitor import buurtkoppeling as bk

CRS = "EPSG:28992"


def _box(x0, y0, x1, y1):
    return shapely.box(x0, y0, x1, y1)


def _frame(rows):
    return gpd.GeoDataFrame({"code": [r[0] for r in rows], "name": [r[1] for r in rows]},
                            geometry=[r[2] for r in rows], crs=CRS)


#: one wijk of the later division: the square 0..1000 x 0..1000
WIJK = _frame([("WK999901", "Wijk 1", _box(0, 0, 1000, 1000))])
GEMEENTE = _frame([("GM9999", "Testgemeente", _box(-5000, -5000, 5000, 5000))])


def _buurten(*rows):
    return pd.DataFrame(rows, columns=["code", "name", "wijk_code", "gemeente_code"])


@pytest.mark.parametrize("name_2014,name_new", [
    ("Loënga", "Loenga"),
    ("St. Agatha", "Sint Agatha"),
    ("Bolsward-Noord", "Bolsward Noord"),
    ("VERSPREIDE HUIZEN  Annen", "Verspreide huizen Annen"),
    ("'s-Gravendeel", "s Gravendeel"),
])
def test_names_equal_after_normalisation(name_2014, name_new):
    assert bk.normalise_name(name_2014) == bk.normalise_name(name_new)


@pytest.mark.parametrize("a,b", [("Noorderhoek I", "Noorderhoek II"), ("Centrum", "Centrum-Oost"),
                                 ("Stadsfenne", "Stadsveen")])
def test_different_names_stay_different(a, b):
    assert bk.normalise_name(a) != bk.normalise_name(b)


def test_normalise_name_by_hand():
    assert bk.normalise_name("St.-Agatha  (Noord)") == "sint agatha noord"
    assert bk.normalise_name(None) == "" and bk.normalise_name(float("nan")) == ""


@pytest.mark.parametrize("inside_m,linked", [
    # a 100 x 100 m buurt of 2014 with its left ``inside_m`` metres inside the wijk (x < 1000)
    (91, True),    # 91 % inside: passes
    (90, True),    # exactly 90 %: passes (the rule is "at least")
    (89, False),   # 89 %: refused
    (0, False),    # wholly in another wijk
])
def test_location_rule_both_sides_of_90_percent(inside_m, linked):
    x0 = 1000 - inside_m
    polygons = _frame([("BU00010001", "Dorp", _box(x0, 100, x0 + 100, 200))])
    out = bk.link(_buurten(("BU99990101", "Dorp", "WK999901", "GM9999")), polygons=polygons,
                  wijken=WIJK, gemeenten=GEMEENTE).iloc[0]
    assert out["inside"] == pytest.approx(inside_m / 100)
    assert out["territory"] == "wijk"
    if linked:
        assert (out["polygon_code"], out["method"], out["reason"]) == ("BU00010001", "naam_ligging", None)
    else:
        assert out["polygon_code"] is None and out["method"] is None
        assert out["reason"] == bk.REASONS["outside"]


def test_gemeente_checks_location_only_when_the_wijk_has_no_polygon():
    # the namesake lies outside wijk 1 but inside the gemeente
    polygons = _frame([("BU00010001", "Dorp", _box(2000, 2000, 2100, 2100))])
    in_wijk = bk.link(_buurten(("BU99990101", "Dorp", "WK999901", "GM9999")), polygons=polygons,
                      wijken=WIJK, gemeenten=GEMEENTE).iloc[0]
    assert in_wijk["polygon_code"] is None and in_wijk["territory"] == "wijk"
    no_wijk = bk.link(_buurten(("BU99990201", "Dorp", "WK999902", "GM9999")), polygons=polygons,
                      wijken=WIJK, gemeenten=GEMEENTE).iloc[0]
    assert no_wijk["polygon_code"] == "BU00010001" and no_wijk["territory"] == "gemeente"
    nothing = bk.link(_buurten(("BU88880201", "Dorp", "WK888802", "GM8888")), polygons=polygons,
                      wijken=WIJK, gemeenten=GEMEENTE).iloc[0]
    assert nothing["polygon_code"] is None and nothing["reason"] == bk.REASONS["no_territory"]


def test_same_code_is_kept_and_its_polygon_is_not_offered_to_others():
    polygons = _frame([("BU99990101", "Dorp", _box(100, 100, 200, 200)),
                       ("BU00010002", "Dorp", _box(300, 300, 400, 400))])
    out = bk.link(_buurten(("BU99990101", "Dorp", "WK999901", "GM9999"),
                           ("BU99990102", "Dorp", "WK999901", "GM9999")),
                  polygons=polygons, wijken=WIJK, gemeenten=GEMEENTE).set_index("code")
    assert out.loc["BU99990101", "method"] == "code"
    assert out.loc["BU99990101", "polygon_code"] == "BU99990101"
    # the second "Dorp" gets the only free namesake, not the one drawn under its own code
    assert out.loc["BU99990102", "polygon_code"] == "BU00010002"


def test_one_to_one_only():
    # two 2014 namesakes in the wijk: ambiguous, refused
    two = _frame([("BU00010001", "Centrum", _box(100, 100, 200, 200)),
                  ("BU00020001", "Centrum", _box(500, 500, 600, 600))])
    out = bk.link(_buurten(("BU99990101", "Centrum", "WK999901", "GM9999")), polygons=two,
                  wijken=WIJK, gemeenten=GEMEENTE).iloc[0]
    assert out["polygon_code"] is None and out["reason"] == bk.REASONS["several"]
    # two later buurten of the same name pick the same 2014 buurt: both refused
    one = _frame([("BU00010001", "Centrum", _box(100, 100, 200, 200))])
    out = bk.link(_buurten(("BU99990101", "Centrum", "WK999901", "GM9999"),
                           ("BU99990102", "Centrum", "WK999901", "GM9999")), polygons=one,
                  wijken=WIJK, gemeenten=GEMEENTE)
    assert out["polygon_code"].isna().all() and set(out["reason"]) == {bk.REASONS["shared"]}
    # a namesake outside the wijk does not make the one inside ambiguous
    far = _frame([("BU00010001", "Centrum", _box(100, 100, 200, 200)),
                  ("BU00020001", "Centrum", _box(3000, 3000, 3100, 3100))])
    out = bk.link(_buurten(("BU99990101", "Centrum", "WK999901", "GM9999")), polygons=far,
                  wijken=WIJK, gemeenten=GEMEENTE).iloc[0]
    assert out["polygon_code"] == "BU00010001"


def test_no_namesake_and_summary():
    polygons = _frame([("BU00010001", "Dorp", _box(100, 100, 200, 200)),
                       ("BU99990101", "Oud", _box(300, 300, 400, 400))])
    out = bk.link(_buurten(("BU99990101", "Oud", "WK999901", "GM9999"),
                           ("BU99990102", "Dorp", "WK999901", "GM9999"),
                           ("BU99990103", "Nieuwbouw", "WK999901", "GM9999")),
                  polygons=polygons, wijken=WIJK, gemeenten=GEMEENTE)
    assert list(out.columns) == bk.COLUMNS
    assert out.set_index("code").loc["BU99990103", "reason"] == bk.REASONS["no_name"]
    assert bk.summary(out) == dict(total=3, drawn=2, by_code=1, by_name=1)
    assert bk.summary(out, ["BU99990103"]) == dict(total=1, drawn=0, by_code=0, by_name=0)
