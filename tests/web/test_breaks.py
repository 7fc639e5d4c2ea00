"""Issue 17.6 on the real data: Rotterdam's ervaren gezondheid comes from RIVM 50090NED up to
2020 and from the Gezondheidsmonitor (50150NED, via a re-publication) in 2022 and 2024. The
page marks the change in the chart and computes no gap class across it."""

from __future__ import annotations

import io
import re

import duckdb
import pandas as pd


def _section(html: str, ind: str) -> str:
    return html.split(f'id="ind-{ind}"', 1)[1].split("</section>", 1)[0]


def test_the_change_of_source_is_in_the_raw_store(real_store):
    # independent of the web code: the figures the page shows and where they come from
    con = duckdb.connect(str(real_store), read_only=True)
    rows = dict(con.execute("""SELECT period, source_id FROM harmonised_values
                               WHERE region_code = 'GM0599' AND indicator = 'ervaren_gezondheid_pct'
                               AND status = 'ok'""").fetchall())
    con.close()
    assert rows[2020].startswith("rivm-50090ned") and rows[2022] == "woonikveilig-gezondheid"


def test_rotterdam_health_has_a_break_mark_and_no_class_across_it(client):
    html = client.get("/gebied/GM0599").text
    sec = _section(html, "ervaren_gezondheid_pct")
    assert "bron veranderd" in sec
    assert "groter" not in re.sub(r"<details.*?</details>", "", sec, flags=re.S)  # no verdict across the break
    assert "tussen 2020 en 2022 verandert de bron" in sec
    assert "50090NED" in sec and "50150NED" in sec
    assert 'stroke-dasharray="4 3"' in sec and ">bron</text>" in sec
    csv = pd.read_csv(io.BytesIO(client.get("/gebied/GM0599", params={"formaat": "csv-en"}).content))
    row = csv.set_index("indicator").loc["ervaren_gezondheid_pct"]
    assert row["class"] == "bron veranderd" and "2020 en 2022" in row["class_reason"]


def test_a_series_from_one_publication_keeps_its_class(client):
    # Rotterdam-Zuid: health 2012-2020 all from 50090NED; its gemeente (the reference) too up
    # to 2020, so the gap class is computed as before
    html = client.get("/gebied/rotterdam-zuid", params={"basisjaar": 2012, "laatstejaar": 2020}).text
    sec = _section(html, "ervaren_gezondheid_pct")
    # (the rule text in <details> names the class "bron veranderd" as one of its outcomes)
    assert "bron veranderd" not in re.sub(r"<details.*?</details>", "", sec.split("<figure", 1)[0], flags=re.S)
    assert re.search(r"wm-class--(kleiner|groter|gelijk|onzeker|beter-dan-referentie)", sec)


def test_rotterdam_case_via_api(client):
    rows = client.get("/api/v1/gaps", params={"areas": "rotterdam-oude-westen", "baseline": 2020,
                                              "latest": 2022, "indicator": "ervaren_gezondheid_pct"}).json()
    (r,) = rows
    assert r["class"] == "bron veranderd" and "50150NED" in r["class_reason"]
