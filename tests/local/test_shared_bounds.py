"""The bounds the editable store shares with the public requests have one home
(:mod:`wijkmonitor.bounds`) and keep their declared values (issue 18)."""

from wijkmonitor import bounds as request_bounds
from wijkmonitor.local import bounds
from wijkmonitor.local.tabular import parse_year


def test_shared_limits_are_the_public_ones_and_keep_their_values():
    assert bounds.MAX_ID == request_bounds.MAX_DB_ID == 2**31 - 1 == 2_147_483_647
    assert (bounds.YEAR_MIN, bounds.YEAR_MAX) == (request_bounds.MIN_YEAR,
                                                  request_bounds.MAX_YEAR) == (1900, 2100)
    assert bounds.MAX_AREA_KEY == request_bounds.MAX_TEXT == 200


def test_year_range_on_both_sides_of_each_end():
    assert parse_year("1899") is None and parse_year("1900") == 1900
    assert parse_year("2100") == 2100 and parse_year("2101") is None
    assert not bounds.year_ok(1899) and bounds.year_ok(1900)
    assert bounds.year_ok(2100) and not bounds.year_ok(2101)
