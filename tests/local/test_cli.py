"""The CLI (same services, same checks) through a Typer app that calls register(), and the real
``wijkmonitor`` app; areas and indicators resolved by the real area and catalogue modules."""

from __future__ import annotations

import json

import openpyxl
import pytest
import typer
from typer.testing import CliRunner

from wijkmonitor.local import db
from wijkmonitor.local.cli import register


@pytest.fixture
def cli(db_url, monkeypatch):
    monkeypatch.setenv("WIJKMONITOR_DATABASE_URL", db_url)
    app = typer.Typer()
    register(app)
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(app, [str(a) for a in args], input=input)
    return run


def _users(cli):
    for name, role, gm in (("utrecht", "gemeente-editor", "GM0344"),
                           ("rotterdam", "gemeente-editor", "GM0599")):
        res = cli("user", "add", name, "--role", role, "--gemeente", gm, "--password-stdin",
                  input="een lang wachtwoord\n")
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["gemeente"] == gm


def test_user_add_checks_role_and_gemeente(cli):
    res = cli("user", "add", "x", "--role", "gemeente-editor", "--password-stdin",
              input="een lang wachtwoord\n")
    assert res.exit_code == 2 and "GMxxxx" in res.output
    res = cli("user", "add", "x", "--role", "koning", "--password-stdin",
              input="een lang wachtwoord\n")
    assert res.exit_code == 2
    res = cli("user", "add", "x", "--role", "admin")
    assert res.exit_code == 2 and "password-stdin" in res.output


def test_targets_import_and_list_with_real_areas(cli, tmp_path):
    """Areas by name and code through the real wijkmonitor.areas, indicators from the real
    catalogue; progress from the editor's own upload of real-code values."""
    pytest.importorskip("wijkmonitor.areas", reason="wijkmonitor.areas not written yet")
    _users(cli)
    f = tmp_path / "streef.csv"
    f.write_text("area;indicator;target_year;target_value;baseline_year;baseline_value;reason\n"
                 "utrecht-overvecht;eenzaam_pct;2030;10;2020;15;NPLV-doel\n"
                 "WK034404;ervaren_gezondheid_pct;2030;80;2020;70;\n", encoding="utf-8")
    res = cli("targets", "import", f, "--as", "utrecht")
    assert res.exit_code == 0, res.output
    # Rotterdam's editor cannot import onto Utrecht's areas: exit 2, nothing changed
    res = cli("targets", "import", f, "--as", "rotterdam")
    assert res.exit_code == 2 and "rij 2" in res.output and "rij 3" in res.output

    up = tmp_path / "eigen.csv"
    # Rotterdam's focus area is not Utrecht's (Utrecht's own focus area id is accepted)
    up.write_text("region;indicator;year;value\nrotterdam-zuid;eenzaam_pct;2024;12,5\n")
    res = cli("upload", up, "--as", "utrecht", "--gemeente", "GM0344")
    assert res.exit_code == 2 and "hoort niet bij gemeente GM0344" in res.output
    up.write_text("region;indicator;year;value\nWK034403;eenzaam_pct;2024;12,5\n")
    res = cli("upload", up, "--as", "utrecht", "--gemeente", "GM0344", "--source", "OIS")
    assert res.exit_code == 0, res.output

    res = cli("targets", "list", "--format", "json", "--observed", "none")
    items = json.loads(res.stdout)
    assert [(t["area_id"], t["indicator_id"]) for t in items] == [
        ("WK034404", "ervaren_gezondheid_pct"), ("utrecht-overvecht", "eenzaam_pct")]
    assert items[0]["polarity"] == "higher_is_better"  # from the catalogue
    assert {t["progress"]["status"] for t in items} == {"no_data"}

    res = cli("targets", "list", "--area", "utrecht-overvecht", "--format", "json",
              "--observed", "local")
    (item,) = json.loads(res.stdout)
    assert item["area_name"] == "Utrecht Overvecht" and item["gemeente"] == "GM0344"
    # the local value is uploaded for WK034403, the target is on the area id: no silent mix
    assert item["progress"]["status"] == "no_data"


def test_progress_from_local_values_and_audit(cli, tmp_path):
    _users(cli)
    f = tmp_path / "streef.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["area", "indicator", "target_year", "target_value", "baseline_year",
                      "baseline_value", "milestones"])
    wb.active.append(["WK034403", "eenzaam_pct", 2030, 10, 2020, 15, "2025: 13"])
    wb.save(f)
    assert cli("targets", "import", f, "--as", "utrecht").exit_code == 0
    up = tmp_path / "eigen.csv"
    up.write_text("region;indicator;year;value\nWK034403;eenzaam_pct;2024;13,2\n")
    assert cli("upload", up, "--as", "utrecht", "--gemeente", "GM0344").exit_code == 0
    res = cli("targets", "list", "--format", "json", "--observed", "local")
    (item,) = json.loads(res.stdout)
    p = item["progress"]
    assert item["milestones"] == [{"year": 2025, "value": 13.0}]
    assert p["expected_value"] == pytest.approx(13.4)  # 15 -> 13 over 2020-2025
    assert p["status"] == "on_track" and p["observed_source"] == "lokaal (upload)"
    assert "13,4" in p["rule"]

    res = cli("audit", "--format", "json")
    log = json.loads(res.stdout)
    assert [(r["action"], r["entity"]) for r in log] == [
        ("upload", "local_upload"), ("create", "target"), ("create", "user"), ("create", "user")]
    assert log[0]["after"]["source"] == "GM0344: eigen.csv"
    assert log[1]["user_name"] == "utrecht"


def test_interventions_import_list_export(cli, tmp_path):
    _users(cli)
    f = tmp_path / "iv.csv"
    f.write_text(
        "title;actielijn;theme;organisation_type;organisation;areas;indicators;start_date;"
        "end_date;status;budget_eur;evaluation_links\n"
        "Buurtteam Overvecht;Actielijn 3;gezondheid;gemeente;Gemeente Utrecht;WK034403;"
        "eenzaam_pct;2023-01-01;2026-12-31;lopend;125000;https://example.org/eval\n"
        "Schoolmaatje;Actielijn 4;veiligheid;onderwijs;ROC;\"WK034403; WK034404\";;;;gepland;;\n",
        encoding="utf-8")
    res = cli("interventions", "import", f, "--as", "utrecht")
    assert res.exit_code == 0, res.output
    res = cli("interventions", "import", f, "--as", "rotterdam")
    assert res.exit_code == 2
    items = json.loads(cli("interventions", "list", "--actielijn", "3").stdout)
    assert [i["title"] for i in items] == ["Buurtteam Overvecht"]
    assert items[0]["budget_eur"] == 125000.0 and items[0]["gemeente"] == "GM0344"
    items = json.loads(cli("interventions", "list", "--area", "WK034404").stdout)
    assert [i["title"] for i in items] == ["Schoolmaatje"]
    out = tmp_path / "export.xlsx"
    assert cli("interventions", "export", "-o", out).exit_code == 0
    ws = openpyxl.load_workbook(out).active
    assert [c.value for c in ws[1]][:3] == ["id", "title", "description"]
    assert ws.max_row == 3
    out_csv = tmp_path / "export.csv"
    assert cli("interventions", "export", "-o", out_csv, "--actielijn", "4").exit_code == 0
    assert out_csv.read_text(encoding="utf-8-sig").count("\n") == 2


def test_db_upgrade_downgrade_commands(empty_url, monkeypatch):
    monkeypatch.setenv("WIJKMONITOR_DATABASE_URL", empty_url)
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    res = runner.invoke(app, ["db", "upgrade"])
    assert res.exit_code == 0 and db.head_revision() in res.output
    res = runner.invoke(app, ["db", "downgrade", "base"])
    assert res.exit_code == 0 and "base" in res.output
    assert db.current_revision(empty_url) is None


def test_real_wijkmonitor_app_has_the_commands():
    cli_mod = pytest.importorskip("wijkmonitor.cli",
                                  reason="wijkmonitor.cli (or wijkmonitor.commands) not importable")
    names = {c.name for c in cli_mod.app.registered_groups} | \
        {c.name for c in cli_mod.app.registered_commands}
    assert {"db", "user", "targets", "interventions", "upload", "audit"} <= names
