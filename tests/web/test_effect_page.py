"""The section "Vergeleken met vergelijkbare wijken" on the area pages (real store)."""

from __future__ import annotations

import html as htmlmod
import re

from wijkmonitor import effect
from wijkmonitor.nlformat import nl_difference


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", htmlmod.unescape(re.sub(r"<[^>]+>", " ", fragment)))


def _section(page: str) -> str:
    start = page.index('<section aria-labelledby="vergeleken">')
    return page[start:page.index("</section>", start)]


def test_area_page_shows_the_estimates_of_the_effect_module(client, real_store):
    resp = client.get("/gebied/utrecht-overvecht-2007?basisjaar=2012&laatstejaar=2020")
    assert resp.status_code == 200
    text = _text(_section(resp.text))
    assert "Vergeleken met vergelijkbare wijken" in text
    assert "naaste-buren-matching" in text and "geen causaal bewijs op zichzelf" in text
    # the numbers are those of wijkmonitor.effect for the same area and years
    data = effect.load(path=real_store)
    rows = {r["indicator"]: r for r in effect.effects_all(data, ["utrecht-overvecht-2007"], 2012, 2020)}
    r = rows["ervaren_gezondheid_pct"]
    assert r["status"] == "ok" and r["baseline_year"] == 2012 and r["latest_year"] == 2020
    shown = f"{nl_difference(r['estimate'], 1, '%')} ({nl_difference(r['lower'], 1)} tot " \
            f"{nl_difference(r['upper'], 1)})"
    assert shown.replace("\xa0", " ") in text  # _text folds the no-break space
    # Overvecht 2007 is one wijk with a Leefbaarometer class in 2002 and 2012: the trend was matched
    assert r["pre_trend"] == "leefbaarometer-klasse 2002→2012"
    assert "Gematcht op de ontwikkeling vóór het basisjaar" in text
    # the comparison areas link to their pages
    for code in r["comparison_areas"]:
        assert f'href="/gebied/{code}"' in resp.text


def test_buurt_area_says_why_there_is_no_pre_period(client):
    text = _text(_section(client.get("/gebied/utrecht-kanaleneiland").text))
    assert "Geen pre-periode: de leefbaarometer-klasse" in text and "alleen per wijk" in text


def test_region_pages_have_no_effect_section(client):
    assert 'aria-labelledby="vergeleken"' not in client.get("/gebied/WK034403").text
