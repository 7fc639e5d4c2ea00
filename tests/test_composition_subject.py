"""composition.resolve_subject on a small synthetic store: a region code, a region without a
name in the division (named by its code, never NaN), a gemeente (compared with the country),
an area by id and by name, and the Dutch errors."""

from __future__ import annotations

import duckdb
import pytest

from wijkmonitor import composition


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("CREATE TABLE regions (code VARCHAR, year INTEGER, level VARCHAR, name VARCHAR, "
              "gemeente_code VARCHAR)")
    c.executemany("INSERT INTO regions VALUES (?, ?, ?, ?, ?)", [
        ("GM9999", 2020, "gemeente", "Testgemeente", "GM9999"),
        ("WK999901", 2020, "wijk", "Centrum", "GM9999"),
        ("BU99990101", 2020, "buurt", None, "GM9999"),  # the division names it not
        ("BU99990102", 2020, "buurt", "Oost", "GM9999"),
        ("BU99990103", 2021, "buurt", "Later", "GM9999"),  # another division year
    ])
    c.execute("CREATE TABLE area_index (area_id VARCHAR, name VARCHAR, programme VARCHAR, "
              "gemeente VARCHAR, codes VARCHAR)")
    c.execute("INSERT INTO area_index VALUES ('test-oost', 'Oost en Centrum', 'nplv', 'GM9999', "
              "'BU99990101,BU99990102')")
    yield c
    c.close()


def test_regions(con):
    s = composition.resolve_subject(con, "bu99990102")
    assert (s.id, s.name, s.kind, s.codes, s.reference, s.reference_name) == (
        "BU99990102", "Oost", "region", ("BU99990102",), "GM9999", "Testgemeente")
    unnamed = composition.resolve_subject(con, "BU99990101")
    assert unnamed.name == "BU99990101"  # not NaN
    gem = composition.resolve_subject(con, "GM9999")
    assert (gem.reference, gem.reference_name) == ("NL00", "Nederland")


def test_areas(con):
    by_id = composition.resolve_subject(con, "test-oost")
    by_name = composition.resolve_subject(con, "oost en centrum")
    assert by_id == by_name
    assert (by_id.kind, by_id.codes, by_id.reference, by_id.reference_name) == (
        "area", ("BU99990101", "BU99990102"), "GM9999", "Testgemeente")


@pytest.mark.parametrize("text, words", [
    ("BU99990103", "bestaat niet in de indeling 2020"),  # only in another division year
    ("bestaat-niet", "onbekend gebied"),
    ("", "geef een gebied-id"),
])
def test_errors(con, text, words):
    with pytest.raises(composition.CompositionError, match=words):
        composition.resolve_subject(con, text)
