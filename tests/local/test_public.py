"""The read-only view for the public pages (wijkmonitor.local.public), on SQLite and PostgreSQL:
what the area page shows, and that it never fails or hangs when the database is missing."""

from __future__ import annotations

import socket
from pathlib import Path

from wijkmonitor.local import accounts, db, interventions, public, targets, uploads


def _fill(Session):
    with Session.begin() as s:
        ed = accounts.get_user(s, "utrecht")
        targets.set_target(s, ed, "utrecht-overvecht", "eenzaam_pct", target_value=40,
                           target_year=2030, baseline_year=2012, baseline_value=53.4,
                           reason="NPLV-doel")
        interventions.save_intervention(s, ed, title="Buurtteam", areas=["utrecht-overvecht"],
                                        status="lopend")
        interventions.save_intervention(s, accounts.get_user(s, "rotterdam"), title="Zuid",
                                        areas=["rotterdam-zuid"])
        uploads.upload(s, ed, b"region;indicator;year;value\n"
                              b"WK034403;inwoners;2024;35000\n"
                              b"utrecht-overvecht;eenzaam_pct;2023;51,5\n"
                              b"WK034404;inwoners;2024;1\n", "u.csv", "GM0344",
                       source="Gemeente Utrecht")


def test_area_section_shows_targets_interventions_and_local_values(db_url, Session, users):
    _fill(Session)
    observed = {2012: 53.4, 2020: 58.2}
    section = public.area_section("utrecht-overvecht", ["WK034403"], database_url=db_url)
    (t,) = public.targets_for_area("utrecht-overvecht", database_url=db_url,
                                   observed=lambda target: observed)
    assert (t["status"], t["label"], t["latest_year"]) == ("behind", "achter", 2020)
    assert "58,2" in t["rule"] and "lager is beter" in t["rule"]
    assert [t["indicator_id"] for t in section["targets"]] == ["eenzaam_pct"]
    assert [i["title"] for i in section["interventions"]] == ["Buurtteam"]
    # the area's own values first, then its part; another wijk is not shown
    assert [(v["region"], v["value"], v["origin"], v["source"])
            for v in section["local_values"]] == [
        ("utrecht-overvecht", 51.5, "lokaal", "Gemeente Utrecht"),
        ("WK034403", 35000.0, "lokaal", "Gemeente Utrecht")]
    assert "Behaald" in section["rule"] and "Op koers" in section["rule"]


def test_missing_sqlite_file_gives_empty_section_and_creates_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'bestaat-niet.sqlite'}"
    section = public.area_section("utrecht-overvecht", database_url=url)
    assert (section["targets"], section["interventions"], section["local_values"]) == ([], [], [])
    assert not Path(tmp_path / "bestaat-niet.sqlite").exists()


def test_server_that_does_not_answer_is_not_asked_again_at_once(monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+psycopg://nobody@127.0.0.1:{port}/x"
    public._down_until.pop(url, None)
    assert public.area_section("utrecht-overvecht", database_url=url)["targets"] == []
    assert url in public._down_until

    def no_connect(*args, **kwargs):
        raise AssertionError("asked the server again within RETRY_AFTER")
    monkeypatch.setattr(db, "get_engine", no_connect)
    assert public.area_section("utrecht-overvecht", database_url=url)["interventions"] == []
    public._down_until.pop(url, None)
