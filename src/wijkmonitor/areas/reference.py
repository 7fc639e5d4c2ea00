"""The CBS region lists an area is checked against, and population weights for its codes.

Read straight from the offline mirror (``wijkmonitor.config.data_dir()``):

* 2020 indeling: ``rivm-gezondheid-wijk-buurt/RIVM_gezondheid2020_18+.xlsx`` (CBS 50090NED),
  every gemeente, wijk and buurt of the Netherlands with its gemeente name (no region names);
* 2024 indeling: ``cbs-kwb/Kerncijfers_wijken_en_buurten_2024_geslachten.csv`` (KWB 2024) with
  names and inhabitants;
* Amsterdam 2019: ``cbs-kwb-steden/amsterdam/Kerncijfers_wijken_en_buurten_2019.csv``, whose
  codes equal Amsterdam's 2020 codes (Amsterdam recoded everything in 2022).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from wijkmonitor.config import data_dir

RIVM_2020 = Path("rivm-gezondheid-wijk-buurt") / "RIVM_gezondheid2020_18+.xlsx"
KWB_2024 = Path("cbs-kwb") / "Kerncijfers_wijken_en_buurten_2024_geslachten.csv"
KWB_AMSTERDAM_2019 = Path("cbs-kwb-steden") / "amsterdam" / "Kerncijfers_wijken_en_buurten_2019.csv"
_LEVEL = {"Land": "land", "Gemeente": "gemeente", "Wijk": "wijk", "Buurt": "buurt"}
#: Years for which :func:`regions` can list the codes.
REGION_YEARS = (2020, 2024)


@functools.lru_cache(maxsize=4)
def _regions_2020(root: str) -> pd.DataFrame:
    import openpyxl

    path = Path(root) / RIVM_2020
    wb = openpyxl.load_workbook(path, read_only=True)
    ws = wb[wb.sheetnames[0]]
    rows = ws.iter_rows(values_only=True)
    header = [str(h).strip() for h in next(rows)]
    idx = [header.index(c) for c in ("Codering_3", "SoortRegio_2", "Gemeentenaam_1")]
    data = [[str(r[i]).strip() for i in idx] for r in rows if r[idx[0]] is not None]
    wb.close()
    df = pd.DataFrame(data, columns=["code", "level", "gemeente_name"])
    df["level"] = df["level"].map(_LEVEL)
    df["name"] = pd.NA  # 50090NED carries no region names
    df["inwoners"] = float("nan")
    return df


@functools.lru_cache(maxsize=4)
def _regions_2024(root: str) -> pd.DataFrame:
    path = Path(root) / KWB_2024
    raw = pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str)
    raw.columns = [c.strip() for c in raw.columns]
    raw = raw.apply(lambda s: s.str.strip())
    df = pd.DataFrame({
        "code": raw["Regioaanduiding/Codering (code)"],
        "level": raw["Regioaanduiding/Soort regio (omschrijving)"].map(_LEVEL),
        "gemeente_name": raw["Regioaanduiding/Gemeentenaam (naam)"],
        "name": raw["Wijken en buurten"],
        # StatLine '.' = secret: stays NaN, never 0
        "inwoners": pd.to_numeric(raw["Bevolking/Aantal inwoners (aantal)"], errors="coerce"),
    })
    return df


def regions(year: int, root: str | Path | None = None) -> pd.DataFrame:
    """CBS regions of one indeling year: columns ``code, level, gemeente_name, name, inwoners``.

    Raises
    ------
    ValueError
        For a year whose full region list is not in the offline mirror.
    """
    root = str(root or data_dir())
    if year == 2020:
        return _regions_2020(root)
    if year == 2024:
        return _regions_2024(root)
    raise ValueError(f"geen volledige CBS-gebiedsindeling voor {year} in de offline data "
                     f"(beschikbaar: {', '.join(map(str, REGION_YEARS))})")


@functools.lru_cache(maxsize=4)
def _amsterdam_2019(root: str) -> pd.DataFrame:
    raw = pd.read_csv(Path(root) / KWB_AMSTERDAM_2019, dtype=str)
    df = pd.DataFrame({"code": raw.iloc[:, 4].str.strip(),
                       "inwoners": pd.to_numeric(raw.iloc[:, 6].str.strip(), errors="coerce")})
    return df


def check_codes_exist(area, root: str | Path | None = None) -> list[str]:
    """Problems with an area's codes in its reference year's data (empty list = all fine).

    Each code must exist in that year, at the area's level, in the area's gemeente.
    """
    table = regions(area.reference_year, root).set_index("code")
    gm = table[table["level"] == "gemeente"]
    problems = []
    if area.gemeente not in gm.index:
        problems.append(f"gemeente {area.gemeente} bestaat niet in {area.reference_year}")
    gem_name = gm["gemeente_name"].get(area.gemeente)
    for code in area.codes:
        if code not in table.index:
            problems.append(f"{code} bestaat niet in {area.reference_year}")
            continue
        row = table.loc[code]
        if row["level"] != area.level:
            problems.append(f"{code} is een {row['level']}, geen {area.level}")
        if gem_name is not None and row["gemeente_name"] != gem_name:
            problems.append(f"{code} ligt in {row['gemeente_name']}, niet in {gem_name}")
    return problems


def population_weights(codes, root: str | Path | None = None) -> tuple[dict[str, float], dict[str, str]]:
    """Inhabitants per code, for weighting a translation, with the source used per code.

    Sources, in order: KWB 2024 (the same code still exists; boundaries may have moved, so
    this is an approximation of the 2020 population), then KWB 2019 for Amsterdam (its 2019
    codes are its 2020 codes). Codes found in neither are absent from the result.
    """
    root = str(root or data_dir())
    k24 = _regions_2024(root).set_index("code")["inwoners"]
    ams = _amsterdam_2019(root).set_index("code")["inwoners"]
    weights, source = {}, {}
    for code in codes:
        if code in k24.index and pd.notna(k24[code]):
            weights[code], source[code] = float(k24[code]), "kwb-2024"
        elif code in ams.index and pd.notna(ams[code]):
            weights[code], source[code] = float(ams[code]), "kwb-2019-amsterdam"
    return weights, source
