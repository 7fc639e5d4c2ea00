"""The year-dependent sections of an area page are kept per unit and *effective* years (the
years their sources actually give for the page's years), so that another choice of years
reuses them. The key must capture everything the section depends on: page years with the same
effective years give exactly the section computed afresh for them, and page years with other
effective years give another section (real store)."""

from __future__ import annotations

import pytest

from wijkmonitor import composition, effect
from wijkmonitor.web import composition_section, effect_section, wijkindex_profile
from wijkmonitor.web.data import WebStore

AREAS = ("utrecht-overvecht", "rotterdam-zuid", "utrecht-overvecht-2007")


@pytest.fixture(scope="module")
def ws(real_store):
    return WebStore(real_store)


def test_composition_section_follows_the_effective_years(ws):
    inds = composition_section.indicators(ws)
    facts = composition_section.facts(ws)
    # 50090NED has 2012, 2016 and 2020 on the mirror (the standardisation's 2020 division):
    # 2020, 2023 and 2024 all mean 2020, 2016 does not
    same = [composition.effective_years(facts, inds, 2012, y, ws.catalogue) for y in (2020, 2023, 2024)]
    assert same[0] == same[1] == same[2]
    assert {(b, l) for _, b, l in same[0]} == {(2012, 2020), (2016, 2020), (2020, 2020)}
    assert composition.effective_years(facts, inds, 2012, 2016, ws.catalogue) != same[0]
    for area in AREAS:
        u = ws.unit(area)
        cached = composition_section.section(ws, u, 2012, 2024)
        assert composition_section.section(ws, u, 2012, 2023) is cached  # from the cache
        assert composition_section._section(ws, u, 2012, 2023) == cached  # and the same as afresh
        other = composition_section.section(ws, u, 2012, 2016)
        assert other == composition_section._section(ws, u, 2012, 2016)
        assert other != cached


def test_effect_section_follows_the_effective_years(ws):
    data = effect_section.effect_data(ws)
    # the effect indicators are published per region in 2012, 2016 and 2020 on the mirror:
    # latest 2019, 2020 and 2024 all mean 2020, 2016 does not
    spans = {y: tuple(effect.nearest_years(data, i, 2012, y) for i in effect.INDICATORS)
             for y in (2016, 2019, 2020, 2024)}
    assert spans[2019] == spans[2020] == spans[2024] != spans[2016]
    for area in AREAS:
        u = ws.unit(area)
        for y in (2016, 2019, 2024):
            assert effect_section.section(ws, u, 2012, y) == effect_section._section(ws, data, u, 2012, y)
        assert effect_section.section(ws, u, 2012, 2019) is effect_section.section(ws, u, 2012, 2024)
        assert effect_section.section(ws, u, 2012, 2016) != effect_section.section(ws, u, 2012, 2024)


def test_wijkindex_profile_is_kept_per_unit(ws):
    u = ws.unit("utrecht-overvecht")
    first = wijkindex_profile.section(ws, u)
    assert first is not None and wijkindex_profile.section(ws, u) is first
    assert wijkindex_profile._section(ws, u) == first
