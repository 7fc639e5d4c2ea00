"""Early warning (signalen): the rules on small synthetic cases, the spec's validation, and the
command on the real store. No test asserts a particular AUC (the figures are reported by
``benchmarks/bench_signalen.py`` as they come)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wijkmonitor import signalen
from wijkmonitor.catalogue import load_catalogue

CAT = load_catalogue()


def spec(**over) -> signalen.Spec:
    base = dict(division=2020, waves=(2012, 2016, 2020),
                indicators=("ervaren_gezondheid_pct", "eenzaam_pct"), growth_threshold=0.25,
                top_share=0.05, n_reasons=2, regularisation_c=1.0, version="t")
    return signalen.Spec(**{**base, **over})


def test_precision_at_top_counts_the_top_share():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
    labels = np.array([1, 0, 1, 1, 0, 0, 0, 0, 0, 1])
    assert signalen.precision_at_top(scores, labels, 0.2) == 0.5   # top 2: 1, 0
    assert signalen.precision_at_top(scores, labels, 0.4) == 0.75  # top 4: 1, 0, 1, 1
    assert signalen.precision_at_top(scores, labels, 0.01) == 1.0  # at least one unit
    # order of the scores, not of the rows
    assert signalen.precision_at_top(scores[::-1], labels[::-1], 0.2) == 0.5


def _values(rows):
    return pd.DataFrame(rows, columns=["region_code", "period", "indicator", "value"])


def test_achterstand_is_oriented_and_standardised_by_the_first_wave():
    """Two buurten of GM0001. Ervaren gezondheid (higher is better): a buurt 4 points under its
    gemeente has an achterstand of +4 before scaling; eenzaamheid (higher is worse): 4 points
    above is +4. The spread is the standard deviation of the first wave's oriented gaps."""
    rows = []
    for w, (g, e) in {2012: (80, 40), 2016: (80, 40), 2020: (80, 40)}.items():
        rows += [("GM0001", w, "ervaren_gezondheid_pct", g), ("GM0001", w, "eenzaam_pct", e)]
    # buurt A: worse on both (76 / 44) in 2012, B: better (82 / 38); 2020: A 70 / 50
    rows += [("BU00010001", 2012, "ervaren_gezondheid_pct", 76), ("BU00010001", 2012, "eenzaam_pct", 44),
             ("BU00010002", 2012, "ervaren_gezondheid_pct", 82), ("BU00010002", 2012, "eenzaam_pct", 38),
             ("BU00010001", 2016, "ervaren_gezondheid_pct", 76), ("BU00010001", 2016, "eenzaam_pct", 44),
             ("BU00010002", 2016, "ervaren_gezondheid_pct", 82), ("BU00010002", 2016, "eenzaam_pct", 38),
             ("BU00010001", 2020, "ervaren_gezondheid_pct", 70), ("BU00010001", 2020, "eenzaam_pct", 50),
             ("BU00010002", 2020, "ervaren_gezondheid_pct", 82), ("BU00010002", 2020, "eenzaam_pct", 38)]
    frame = signalen.achterstand(_values(rows), spec(), CAT, "buurt")
    # oriented gaps 2012: ervaren A +4, B -2 -> std 3; eenzaam A +4, B -2 -> std 3
    a = frame.loc["BU00010001"]
    assert a["ervaren_gezondheid_pct@2012"] == pytest.approx(4 / 3)
    assert a["eenzaam_pct@2012"] == pytest.approx(4 / 3)
    assert a["ervaren_gezondheid_pct@2020"] == pytest.approx(10 / 3)
    assert a["A@2020"] == pytest.approx(10 / 3)
    assert frame.loc["BU00010002", "A@2012"] == pytest.approx(-2 / 3)
    # a buurt without a figure in one wave takes no part
    rows.append(("BU00010003", 2012, "ervaren_gezondheid_pct", 75))
    assert "BU00010003" not in signalen.achterstand(_values(rows), spec(), CAT, "buurt").index


def test_growth_label_on_both_sides_of_the_threshold():
    frame = pd.DataFrame({"A@2012": [0.0, 0.0, 0.0], "A@2016": [0.25, 0.2501, -1.0]})
    label = signalen._label(frame, spec(growth_threshold=0.25), 2012, 2016)
    assert label.tolist() == [False, True, False]


def _synthetic(n=400, seed=7):
    """Buurten of ten gemeenten whose eenzaamheid gap, not their health gap, drives the
    growth of their achterstand: the model's reasons must name eenzaamheid first."""
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(10):
        gm = f"GM{g + 1:04d}"
        for w in (2012, 2016, 2020):
            rows += [(gm, w, "ervaren_gezondheid_pct", 80.0), (gm, w, "eenzaam_pct", 40.0)]
    pop = {}
    for i in range(n):
        gm = f"{i % 10 + 1:04d}"
        code = f"BU{gm}{i:04d}"
        pop[code] = 1000 + 10 * i
        e = rng.normal(0, 3, 3)
        h = np.full(3, rng.normal(0, 3))  # a lasting health gap: no regression to the mean
        # eenzaamheid above the gemeente makes the health gap grow in the next wave
        for k, w in enumerate((2012, 2016, 2020)):
            drift = 0.0 if k == 0 else 1.5 * e[k - 1]
            rows += [(code, w, "eenzaam_pct", 40.0 + e[k]),
                     (code, w, "ervaren_gezondheid_pct", 80.0 + h[k] - drift)]
    return _values(rows), pd.Series(pop)


def test_model_names_the_planted_driver_and_flags_the_top_share():
    values, pop = _synthetic()
    result = signalen.run(values, pop, "buurt", spec(n_reasons=1, top_share=0.1), CAT)
    ev = result.evaluation
    assert ev["trained_on"] == "2012->2016" and ev["tested_on"] == "2016->2020"
    assert ev["n_units"] == 400
    for name in ("model", "slechtste_niveau", "grootste_recente_achteruitgang"):
        assert 0.0 <= ev["scores"][name]["auc"] <= 1.0
        assert 0.0 <= ev["scores"][name]["precision_top"] <= 1.0
    sig = result.signals
    assert sig["signal"].sum() == 40 and sig.loc[sig["signal"], "rank"].max() == 40
    assert sig["rank"].tolist() == list(range(1, 401))
    assert (np.diff(sig["score"].to_numpy()) <= 0).all()
    top = sig.iloc[0]
    assert top["reasons"][0]["input"] == "eenzaam_pct"


def test_too_few_units_is_a_clear_error():
    values, pop = _synthetic(n=30)
    with pytest.raises(signalen.SignalenError, match="te weinig buurten"):
        signalen.run(values, pop, "buurt", spec(), CAT)
    with pytest.raises(signalen.SignalenError, match="kies buurt of wijk"):
        signalen.run(values, pop, "gemeente", spec(), CAT)


@pytest.mark.parametrize("change, field", [
    (("waves: [2012, 2016, 2020]", "waves: [2016, 2012, 2020]"), "waves"),
    (("  - roker_pct\n", "  - bestaat_niet\n"), "indicators"),
    (("  - roker_pct\n", "  - inwoners\n"), "indicators"),          # neutral: no direction
    (("growth_threshold: 0.25", "growth_threshold: -1"), "growth_threshold"),
    (("top_share: 0.05", "top_share: 0.9"), "top_share"),
    (("n_reasons: 3", "n_reasons: 0"), "n_reasons"),
])
def test_spec_errors_name_file_and_field(tmp_path, change, field):
    text = signalen.SPEC_FILE.read_text(encoding="utf-8")
    assert change[0] in text
    bad = tmp_path / "signalen.yaml"
    bad.write_text(text.replace(change[0], change[1]), encoding="utf-8")
    with pytest.raises(signalen.SignalenError) as err:
        signalen.load_spec(bad, CAT)
    assert str(bad) in str(err.value) and f"veld '{field}'" in str(err.value)


def test_shipped_spec_loads():
    s = signalen.load_spec(catalogue=CAT)
    assert s.waves == (2012, 2016, 2020) and s.top_share == 0.05 and len(s.version) == 12


def test_signalen_command_on_the_real_store(real_store):
    env = {"WIJKMONITOR_STORE": str(real_store), "PATH": str(Path(sys.executable).parent)}
    out = subprocess.run([sys.executable, "-m", "wijkmonitor", "signalen", "--level", "wijk",
                          "--gemeente", "GM0344", "--format", "json"],
                         capture_output=True, text=True, env=env, check=False)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["disclaimer"].startswith("Een signaal om beter te kijken, geen oordeel")
    assert doc["evaluation"]["tested_on"] == "2016->2020"
    assert "2012" in doc["method"] and "achterstand" in doc["method"]
    assert doc["signals"] and all(s["gemeente"] == "GM0344" for s in doc["signals"])
    assert all(s["code"].startswith("WK0344") for s in doc["signals"])
    # ranks are national: Utrecht's wijken hold a subset of 1..n
    n = doc["evaluation"]["n_units"]
    assert all(1 <= s["rank"] <= n for s in doc["signals"])
    assert all(len(s["reasons"]) <= 3 and all(r["text"] for r in s["reasons"]) for s in doc["signals"])
    bad = subprocess.run([sys.executable, "-m", "wijkmonitor", "signalen", "--level", "land"],
                         capture_output=True, text=True, env=env, check=False)
    assert bad.returncode != 0 and "kies buurt of wijk" in bad.stderr
