"""Issue 18.2, the command line: every CSV the CLI writes goes through ``sheets`` (formula
injection neutralised by the OWASP rule), like the site's and the API's downloads. Expected
cells written by hand."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd

from wijkmonitor import coverage

SRC = Path(__file__).resolve().parents[1] / "src" / "wijkmonitor"


def test_coverage_csv_neutralises_a_formula_and_keeps_numbers():
    frame = pd.DataFrame({"indicator": ["=HYPERLINK(\"http://evil.example\")", "inwoners"],
                          "level": ["gemeente", "-buurt"], "year": [2020, 2021],
                          "regions": [-3, 12],
                          "sources": [[dict(source_id="@bron", origin="spiegel", regions=1)],
                                      [dict(source_id="mirror-a", origin="spiegel", regions=1)]]})
    text = coverage.to_csv(frame)
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert back["indicator"].tolist() == ["'=HYPERLINK(\"http://evil.example\")", "inwoners"]
    assert back["level"].tolist() == ["gemeente", "'-buurt"]
    assert back["regions"].tolist() == ["-3", "12"]  # numbers stay numbers, sign and all
    assert back["sources"].tolist() == ["'@bron (spiegel, 1)", "mirror-a (spiegel, 1)"]


def test_no_cli_or_web_module_writes_csv_past_sheets():
    """``DataFrame.to_csv`` only in ``sheets.py`` and in the fetchers that write the raw source
    mirror (publisher data in the publisher's layout, never an export for a reader).
    ``coverage.to_csv`` is itself checked above."""
    allowed = {"sheets.py", "sources/statline_online.py"}
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        if rel in allowed:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"(?<!coverage)\.to_csv\(", line) and "def to_csv" not in line:
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == []
