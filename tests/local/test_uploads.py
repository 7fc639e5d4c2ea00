"""Local data uploads: real Utrecht codes and KWB 2024 figures; malformed files change nothing."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from wijkmonitor.config import data_dir
from wijkmonitor.local import accounts, uploads
from wijkmonitor.local.errors import ValidationFailed
from wijkmonitor.local.models import AuditEntry, LocalUpload, LocalValue
from wijkmonitor.local.resolvers import default_codes_provider


@pytest.fixture(scope="module")
def kwb_utrecht_wijken() -> pd.DataFrame:
    """Utrecht's wijken with their 2024 population, read from the real KWB 2024 export."""
    raw = pd.read_csv(data_dir() / "cbs-kwb" / "Kerncijfers_wijken_en_buurten_2024_geslachten.csv",
                      sep=";", encoding="utf-8-sig", dtype=str)
    code = raw["Regioaanduiding/Codering (code)"].str.strip()
    pop = pd.to_numeric(raw["Bevolking/Aantal inwoners (aantal)"].str.strip())
    frame = pd.DataFrame({"region": code, "value": pop})
    return frame[frame["region"].str.startswith("WK0344")].reset_index(drop=True)


def _csv(frame: pd.DataFrame, sep=";") -> bytes:
    return frame.to_csv(index=False, sep=sep).encode("utf-8")


def test_utrecht_codes_come_from_the_real_kwb():
    codes = default_codes_provider("GM0344")
    assert "GM0344" in codes and "WK034403" in codes  # Overvecht
    assert sum(c.startswith("WK0344") for c in codes) == 10
    assert not any(c.startswith(("WK0599", "BU0599")) for c in codes)


def test_real_upload_lands_whole_with_its_source(Session, users, rows, kwb_utrecht_wijken):
    wijken = kwb_utrecht_wijken
    assert len(wijken) == 10
    frame = wijken.assign(indicator="inwoners", year=2024)[["region", "indicator", "year",
                                                             "value"]]
    with Session.begin() as s:
        rec = uploads.upload(s, accounts.get_user(s, "utrecht"), _csv(frame), "wijken.csv",
                             "GM0344", source="Gemeente Utrecht, eigen telling")
        assert rec.n_values == 10
    with Session() as s:
        values = uploads.local_values(s, gemeente="GM0344")
    assert len(values) == 10 and set(values["source"]) == {"Gemeente Utrecht, eigen telling"}
    # CBS rounds wijk counts to 5: the wijken add up to the gemeente total within 5 per wijk
    assert abs(values["value"].sum() - 374_238) <= 50
    assert values.loc[values["region"] == "WK034403", "value"].iloc[0] == \
        wijken.loc[wijken["region"] == "WK034403", "value"].iloc[0]
    assert rows(LocalValue) == 10 and rows(LocalUpload) == 1 and rows(AuditEntry) == 5 + 1


def test_xlsx_upload_with_decimal_comma_and_secret(Session, users):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Regio", "Indicator", "Jaar", "Waarde"])
    ws.append(["WK034403", "eenzaam_pct", 2022, "14,5"])
    ws.append(["WK034403", "eenzaam_pct", 2023, 13.25])
    ws.append(["BU03440311", "eenzaam_pct", 2023, "."])
    buf = io.BytesIO()
    wb.save(buf)
    with Session.begin() as s:
        uploads.upload(s, accounts.get_user(s, "utrecht"), buf.getvalue(), "eigen.xlsx",
                       "GM0344", source="Utrecht Monitor")
    with Session() as s:
        values = uploads.local_values(s, region="WK034403")
        secret = uploads.local_values(s, region="BU03440311")
    assert values["value"].tolist() == [14.5, 13.25]
    assert secret["status"].tolist() == ["geheim"] and secret["value"].isna().all()


def _bad(Session, rows, data: bytes, filename: str, **kw) -> ValidationFailed:
    """Upload ``data`` as the Utrecht editor; assert it is rejected and nothing was written."""
    before = (rows(LocalUpload), rows(LocalValue), rows(AuditEntry))
    with Session() as s:
        with pytest.raises(ValidationFailed) as info:
            uploads.upload(s, accounts.get_user(s, "utrecht"), data, filename, "GM0344",
                           source="test", **kw)
        s.commit()  # even a commit after the error writes nothing
    assert (rows(LocalUpload), rows(LocalValue), rows(AuditEntry)) == before
    return info.value


HEADER = "region;indicator;year;value\n"


def test_wrong_codes_are_rejected_with_row_and_column(Session, users, rows):
    data = (HEADER + "WK034403;inwoners;2024;100\n"
            "WK059910;inwoners;2024;200\n"      # Rotterdam wijk
            "BU99999999;inwoners;2024;1\n").encode()
    exc = _bad(Session, rows, data, "codes.csv")
    assert [(e.row, e.column, e.value) for e in exc.errors] == [
        (3, "region", "WK059910"), (4, "region", "BU99999999")]
    assert "GM0344" in exc.errors[0].reason


def test_caller_passes_the_valid_codes(Session, users, rows):
    exc = _bad(Session, rows, (HEADER + "utrecht-overvecht;inwoners;2024;1\n").encode(),
               "a.csv", valid_codes={"WK034403"})
    assert exc.errors[0].column == "region"


def test_text_in_number_fields(Session, users, rows):
    data = (HEADER + "WK034403;inwoners;2024;veel\n"
            "WK034403;inwoners;twintig;5\n"
            "WK034403;inwoners;2023;1.234,5\n"
            "WK034404;inwoners;2024;\n").encode()
    exc = _bad(Session, rows, data, "tekst.csv")
    got = [(e.row, e.column) for e in exc.errors]
    assert got == [(2, "value"), (3, "year"), (4, "value"), (5, "value")]
    assert exc.errors[0].reason == "geen getal" and exc.errors[0].value == "veel"
    assert "lege waarde" in exc.errors[3].reason


def test_unknown_indicator(Session, users, rows):
    exc = _bad(Session, rows, (HEADER + "WK034403;geluk_pct;2024;7\n").encode(), "i.csv")
    assert [(e.row, e.column, e.value) for e in exc.errors] == [(2, "indicator", "geluk_pct")]


def test_duplicate_rows(Session, users, rows):
    data = (HEADER + "WK034403;inwoners;2024;100\n"
            "WK034404;inwoners;2024;100\n"
            "WK034403;inwoners;2024;101\n").encode()
    exc = _bad(Session, rows, data, "dubbel.csv")
    assert [(e.row, e.column) for e in exc.errors] == [(4, None)]
    assert "rij 2" in exc.errors[0].reason


def test_too_large_file(Session, users, rows):
    line = "WK034403;inwoners;2024;100\n"
    big = (HEADER + line * (uploads.MAX_UPLOAD_BYTES // len(line) + 10)).encode()
    assert len(big) > uploads.MAX_UPLOAD_BYTES
    exc = _bad(Session, rows, big, "groot.csv")
    assert "te groot" in str(exc) and "5 MB" in str(exc)
    exc = _bad(Session, rows, (HEADER + line * 50).encode(), "klein.csv", max_bytes=1000)
    assert "maximaal 1.000 bytes" in str(exc)


def test_wrong_encoding(Session, users, rows):
    data = ("region;indicator;year;value;toelichting\n"
            "WK034403;inwoners;2024;100;ok\n"
            "WK034403;inwoners;2023;99;telling ’s-Hertogenbosch-stijl é\n").encode("cp1252")
    exc = _bad(Session, rows, data, "ansi.csv")
    assert "UTF-8" in str(exc)
    assert [e.row for e in exc.errors] == [3]


def test_xlsx_with_formulas(Session, users, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["region", "indicator", "year", "value"])
    ws.append(["WK034403", "inwoners", 2024, 100])
    ws.append(["WK034404", "inwoners", 2024, "=D2*2"])
    buf = io.BytesIO()
    wb.save(buf)
    exc = _bad(Session, rows, buf.getvalue(), "formules.xlsx")
    assert [(e.row, e.column, e.value) for e in exc.errors] == [(3, "D", "=D2*2")]
    assert "formule" in str(exc)


def test_missing_column_and_ragged_rows(Session, users, rows):
    exc = _bad(Session, rows, b"region;indicator;year\nWK034403;inwoners;2024\n", "k.csv")
    assert [(e.row, e.column) for e in exc.errors] == [(1, "value")]
    exc = _bad(Session, rows, (HEADER + "WK034403;inwoners;2024\n").encode(), "r.csv")
    assert exc.errors[0].row == 2
    exc = _bad(Session, rows, b"", "leeg.csv")
    assert "leeg" in str(exc)


def test_every_error_is_reported_not_only_the_first(Session, users, rows):
    data = (HEADER + "".join(f"WK0599{i:02d};inwoners;2024;abc\n" for i in range(1, 8))).encode()
    exc = _bad(Session, rows, data, "veel.csv")
    assert len(exc.errors) == 14  # a bad code and a bad value on each of 7 rows
    assert exc.as_dict()["errors"][0] == {"row": 2, "column": "region",
                                          "reason": "code hoort niet bij gemeente GM0344",
                                          "value": "WK059901"}
