"""The generated narrative of the national report: fixed Dutch templates chosen by rules.

Nothing here invents text or numbers: every sentence is a template whose branch is chosen by a
stated rule over the analysis output, and every number in it is a value of that output,
formatted with :mod:`wijkmonitor.report.format`. The rules (also printed in the report's
"Leeswijzer"):

Level
    The value of all areas together (the ``alle:<programme>`` unit) in the latest year, next to
    G4, G14, G18 and NL; a missing value is named as missing, never filled in.
Direction
    Latest minus baseline value of all areas together: *vrijwel gelijk* when the change is at
    most the indicator's tolerance (:func:`wijkmonitor.analysis.default_tolerance`), else
    *gestegen* / *gedaald*; for indicators with a polarity also *verbetering* /
    *verslechtering*.
Distance to the G18
    The gap of all areas together to the G18 classified with the same rule as an area's gap
    (:func:`wijkmonitor.analysis.classify`).
Counts
    The number of areas per class of :func:`wijkmonitor.analysis.gaps` (reference: the area's
    own gemeente), with the class rule as the analysis states it; a class with exactly one area
    names that area.
Examples
    Up to :data:`N_EXAMPLES` areas of class *kleiner* with the largest decrease of their
    shortfall, and of class *groter* with the largest increase, named with their values and
    the stedelijk gemiddelde at baseline and latest.
Picture of a section
    Over the indicators with a polarity for which at least half of the areas are classified
    (not *te weinig waarnemingen*): *positief* when for every such indicator more areas have a
    smaller than a larger gap, *negatief* when for every one more have a larger gap, otherwise
    *wisselend*; the indicators behind each verdict are named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from .. import analysis
from ..aggregate import NOT_COMPARABLE_REASON
from ..catalogue import KERNINDICATOREN, Indicator
from .format import is_number, nl_difference, nl_join, nl_value, plural

#: Number of named examples per direction.
N_EXAMPLES = 3
CLASSIFIED = ("kleiner", "groter", "gelijk", "onzeker", "beter dan referentie")
PICTURE_RULE = ("Het beeld van een onderdeel is positief als bij elke indicator met een meetbare "
                "ontwikkeling de afstand tot het stedelijk gemiddelde bij meer gebieden kleiner dan "
                "groter werd, negatief als dat bij elke zulke indicator omgekeerd was, en anders "
                "wisselend. Een indicator heeft een meetbare ontwikkeling als hij een richting heeft "
                "(hoger is beter of slechter) en de klasse van ten minste de helft van de gebieden "
                "bekend is (niet ‘te weinig waarnemingen’). Indicatoren zonder richting tellen niet mee.")

#: Why a value of a set of areas or a group is not shown, as a clause after a colon.
REASON_CLAUSE = {
    "niet optelbaar": "deze maat is een score, klasse of mediaan en niet over gebieden op te tellen",
    "niet vergelijkbaar": NOT_COMPARABLE_REASON,
    "geheim": "de bron heeft een onderdeel geheimgehouden",
    "te weinig waarnemingen": "de basis ligt onder de minimumgrens van de indicator",
    "niet beschikbaar": "de bron publiceert dit cijfer niet",
}

#: What the value of an indicator is called in running text, by unit.
def _noun(ind: Indicator) -> str:
    unit = ind.unit.strip()
    if unit == "%":
        return "het aandeel"
    if unit.startswith("per "):
        return "het aantal"
    if unit == "score":
        return "de score"
    if unit.startswith("klasse"):
        return "de klasse"
    if unit.startswith("x ") and "euro" in unit:
        return "het bedrag"
    if unit == "aantal":
        return "het aantal"
    return "de waarde"


@dataclass
class Words:
    """How the areas of a programme are named in running text."""

    singular: str = "gebied"
    plural: str = "gebieden"
    set_label: str = "de gebieden samen"


@dataclass
class IndicatorStory:
    """The narrative of one indicator."""

    indicator: str
    name: str
    paragraphs: list[str]
    rule: str
    has_data: bool
    counts: dict[str, int] = field(default_factory=dict)
    improved: list[dict] = field(default_factory=list)
    worsened: list[dict] = field(default_factory=list)
    verdict: str | None = None  # 'positief' | 'negatief' | 'gelijk' | None (not counted)


def _v(x, ind: Indicator) -> str:
    return nl_value(x, ind.decimals, ind.unit)


def _shortfall(gap, higher_is_better: bool | None) -> np.ndarray:
    gap = np.asarray(gap, dtype="float64")
    if higher_is_better is None:
        return np.abs(gap)
    sign = 1.0 if higher_is_better else -1.0
    return np.maximum(0.0, -sign * gap)


def _direction(ind: Indicator, before: float, after: float) -> tuple[str, str | None]:
    """('gestegen'|'gedaald'|'vrijwel gelijk gebleven', 'verbetering'|'verslechtering'|None)."""
    tol = analysis.default_tolerance(ind, before)
    change = round(after - before, 9)
    if np.isfinite(tol) and abs(change) <= round(tol, 9):
        return "vrijwel gelijk gebleven", None
    word = "gestegen" if change > 0 else "gedaald"
    if ind.higher_is_better is None:
        return word, None
    good = (change > 0) == ind.higher_is_better
    return word, "verbetering" if good else "verslechtering"


#: Official gemeente names and the name areas are usually called by.
_CITY_ALIASES = {"'s-Gravenhage": "Den Haag", "'s-Hertogenbosch": "Den Bosch"}


def _area_label(row) -> str:
    name = str(row["area_name"])
    gm = row.get("gemeente_name") if hasattr(row, "get") else None
    if isinstance(gm, str) and gm and gm.lower() not in name.lower() and \
            _CITY_ALIASES.get(gm, gm).lower() not in name.lower():
        return f"{name} ({gm})"
    return name


def _examples(sub: pd.DataFrame, ind: Indicator, cls: str, n: int) -> list[dict]:
    rows = sub[sub["class"] == cls].copy()
    if rows.empty:
        return []
    hib = ind.higher_is_better
    rows["_change"] = _shortfall(rows["gap_latest"], hib) - _shortfall(rows["gap_baseline"], hib)
    ascending = cls == "kleiner"
    rows = rows.sort_values(["_change", "area_name"], ascending=[ascending, True], kind="stable")
    out = []
    for _, r in rows.head(n).iterrows():
        out.append(dict(area=r["area"], label=_area_label(r),
                        baseline_year=int(r["baseline_year"]), latest_year=int(r["latest_year"]),
                        value_baseline=float(r["value_baseline"]), value_latest=float(r["value_latest"]),
                        reference_baseline=float(r["reference_baseline"]),
                        reference_latest=float(r["reference_latest"])))
    return out


_VERB = {"gestegen": "steeg", "gedaald": "daalde"}


def _example_sentence(e: dict, ind: Indicator) -> str:
    noun = _noun(ind)
    word, _ = _direction(ind, e["value_baseline"], e["value_latest"])
    verb = _VERB.get(word)
    rb, rl = _v(e["reference_baseline"], ind), _v(e["reference_latest"], ind)
    ref_verb = _VERB.get(_direction(ind, e["reference_baseline"], e["reference_latest"])[0])
    if ref_verb:
        ref = f"het stedelijk gemiddelde {ref_verb} in die periode van {rb} naar {rl}"
    elif rb == rl:
        ref = f"het stedelijk gemiddelde bleef {rb}"
    else:
        ref = f"het stedelijk gemiddelde bleef vrijwel gelijk (van {rb} naar {rl})"
    if verb is None:
        return (f"In {e['label']} bleef {noun} vrijwel gelijk ({_v(e['value_baseline'], ind)} in "
                f"{e['baseline_year']}, {_v(e['value_latest'], ind)} in {e['latest_year']}); {ref}.")
    return (f"In {e['label']} {verb} {noun} van {_v(e['value_baseline'], ind)} in "
            f"{e['baseline_year']} naar {_v(e['value_latest'], ind)} in {e['latest_year']}; {ref}.")


def _group_phrase(outcome: Mapping, ind: Indicator, when: str, groups, labels) -> tuple[str, list[str]]:
    """``('in de G4 22,0 %, ... en in Nederland 18,5 %', [labels of groups without a value])``."""
    shown, missing = [], []
    for g in groups:
        x = outcome.get(f"{g}_{when}")
        label = "Nederland" if g == "NL" else f"de {labels.get(g, g)}"
        if is_number(x):
            shown.append(f"in {label} {_v(x, ind)}")
        else:
            missing.append(label)
    return nl_join(shown), missing


def _reason(status: str | None) -> str:
    return REASON_CLAUSE.get(status or "", "")


def indicator_story(ind: Indicator, outcome: Mapping, gap_rows: pd.DataFrame, *,
                    words: Words = Words(), groups=("G4", "G14", "G18", "NL"),
                    group_labels: Mapping[str, str] | None = None,
                    n_examples: int = N_EXAMPLES, set_status: Mapping[str, str] | None = None,
                    g18_break: str | None = None) -> IndicatorStory:
    """The narrative of one indicator from its outcome-table row and its gap rows.

    Parameters
    ----------
    ind : the catalogue indicator
    outcome : one row of :func:`wijkmonitor.analysis.outcome_table` (a dict or Series) with
        ``baseline_year, latest_year, alle_gebieden_baseline/_latest, <group>_baseline/_latest``,
        the class counts and ``rule``
    gap_rows : the rows of :func:`wijkmonitor.analysis.gaps` for this indicator (reference: the
        own gemeente); an optional ``gemeente_name`` column is used to name areas
    set_status : optional ``{'baseline': status, 'latest': status}`` of the set of areas, to
        say why its value is missing
    g18_break : where the figures of the set or of the G18 change publication series between
        the two years (issue 17.6), the reason (:func:`wijkmonitor.comparability.break_reason`):
        the distance to the G18 then gets no class
    """
    set_status = dict(set_status or {})
    group_labels = dict(group_labels or {})
    by, ly = outcome.get("baseline_year"), outcome.get("latest_year")
    by = int(by) if is_number(by) else None
    ly = int(ly) if is_number(ly) else None
    counts = {c: int(outcome.get(c, 0) or 0) for c in analysis.CLASSES}
    n_areas = int(outcome.get("n_areas", len(gap_rows)) or 0)
    vb, vl = outcome.get("alle_gebieden_baseline"), outcome.get("alle_gebieden_latest")
    rule = str(outcome.get("rule") or "")
    groups_have = any(is_number(outcome.get(f"{g}_{w}")) for g in groups for w in ("baseline", "latest"))
    classified = sum(counts[c] for c in CLASSIFIED)
    has_data = is_number(vb) or is_number(vl) or groups_have or classified > 0
    paras: list[str] = []
    story = IndicatorStory(ind.id, ind.name, paras, rule, has_data, counts)
    if ly is None or not has_data:
        paras.append(f"Voor deze indicator zijn in de gevraagde periode geen cijfers beschikbaar "
                     f"voor {words.set_label} of de vergelijkingsgroepen.")
        return story

    # 1. level in the latest year (and baseline), against the groups
    gp, missing = _group_phrase(outcome, ind, "latest", groups, group_labels)
    if is_number(vl):
        p = f"In {ly} was de waarde voor {words.set_label} {_v(vl, ind)}."
        if gp:
            p += f" Ter vergelijking: {gp}."
        if missing:
            p += f" Voor {nl_join(missing)} is geen waarde beschikbaar."
    else:
        why = _reason(set_status.get("latest"))
        p = f"Voor {words.set_label} is er in {ly} geen waarde" + (f": {why}." if why else ".")
        if gp:
            p += f" Wel bekend is de waarde {gp}."
        elif missing:
            p += f" Ook voor {nl_join(missing)} is er geen waarde."
    if by is not None and by != ly:
        if is_number(vb) and is_number(vl):
            word, judgement = _direction(ind, float(vb), float(vl))
            p += (f" In {by} was de waarde voor {words.set_label} {_v(vb, ind)}: de waarde is "
                  f"{word} ({nl_difference(float(vl) - float(vb), ind.decimals, ind.unit)})")
            p += f", een {judgement}." if judgement else "."
        elif is_number(vb):
            p += f" In {by} was de waarde voor {words.set_label} {_v(vb, ind)}."
        # 2. distance of the set to the G18
        g18b, g18l = outcome.get("G18_baseline"), outcome.get("G18_latest")
        if all(is_number(x) for x in (vb, vl, g18b, g18l)) and "G18" in groups:
            tol = analysis.default_tolerance(ind, float(g18b))
            cls = analysis.classify([vb], [vl], [g18b], [g18l], higher_is_better=ind.higher_is_better,
                                    tolerance=tol)[0]
            if g18_break:
                cls = "bron veranderd"
            g_word, _ = _direction(ind, float(g18b), float(g18l))
            head = (f"In de G18 is de waarde {g_word} (van {_v(g18b, ind)} naar {_v(g18l, ind)})"
                    if g_word != "vrijwel gelijk gebleven" else
                    f"In de G18 is de waarde vrijwel gelijk gebleven ({_v(g18b, ind)} en {_v(g18l, ind)})")
            tail = {"kleiner": f"de afstand van {words.set_label} tot de G18 is kleiner geworden",
                    "groter": f"de afstand van {words.set_label} tot de G18 is groter geworden",
                    "gelijk": f"de afstand van {words.set_label} tot de G18 is vrijwel gelijk gebleven",
                    "beter dan referentie": f"{words.set_label} scoren in {ly} gelijk aan of beter dan de G18",
                    "bron veranderd": f"of de afstand van {words.set_label} tot de G18 veranderde is niet te "
                                      f"zeggen: {g18_break}",
                    }.get(cls)
            if tail:
                p += f" {head}; {tail}."
    elif by == ly:
        p += (f" Basisjaar en laatste jaar vallen voor deze indicator samen ({ly}): er is geen tweede "
              f"jaar met genoeg cijfers, dus een ontwikkeling is nog niet te meten.")
    paras.append(p)

    # 3. counts per class (against the own gemeente)
    if n_areas:
        sub = gap_rows
        one = {c: _area_label(sub[sub["class"] == c].iloc[0]) for c in analysis.CLASSES
               if counts[c] == 1 and (sub["class"] == c).sum() == 1}

        def n_of(c):
            return plural(counts[c], words.singular, words.plural) + (f" ({one[c]})" if c in one else "")
        if classified == 0:
            enkel = "geen enkel" if words.singular.endswith("gebied") else "geen enkele"
            why = ("basisjaar en laatste jaar vallen samen" if by == ly else
                   f"van {enkel} {words.singular} "
                   f"zijn de cijfers van het gebied én de gemeente in {by} en {ly} bekend")
            if by != ly and counts.get("bron veranderd"):
                why = (f"bij {n_of('bron veranderd')} komen de cijfers in {by} en {ly} uit verschillende "
                       f"bronnen (bron veranderd), bij de andere ontbreekt een cijfer")
                if not counts["te weinig waarnemingen"]:
                    why = f"de cijfers komen in {by} en {ly} uit verschillende bronnen (bron veranderd)"
            p = (f"Per {words.singular} is de ontwikkeling ten opzichte van het eigen stedelijk gemiddelde "
                 f"nog niet te meten: {why}.")
        else:
            parts = []
            for c, verb in (("kleiner", "kleiner geworden"), ("groter", "groter geworden"),
                            ("gelijk", "vrijwel gelijk gebleven")):
                if counts[c]:
                    parts.append(f"bij {n_of(c)} {verb}")
            p = ""
            if parts:
                p = (f"Per {words.singular} bekeken is tussen {by} en {ly} de afstand tot het stedelijk "
                     f"gemiddelde {nl_join(parts)}.")
            if counts.get("onzeker"):
                p += (f" Bij {n_of('onzeker')} is het niet te zeggen: de verandering valt binnen de "
                      f"onzekerheid van de cijfers.")
            if counts["beter dan referentie"]:
                p += (f" In {ly} {'scoort' if counts['beter dan referentie'] == 1 else 'scoren'} "
                      f"{n_of('beter dan referentie')} gelijk aan of beter dan het stedelijk gemiddelde.")
            if counts["te weinig waarnemingen"]:
                p += (f" Voor {n_of('te weinig waarnemingen')} is de ontwikkeling niet te bepalen, omdat "
                      f"een cijfer van het gebied of van de gemeente in {by} of {ly} ontbreekt.")
            if counts.get("bron veranderd"):
                p += (f" Voor {n_of('bron veranderd')} is er geen oordeel: de cijfers van het gebied of "
                      f"de gemeente komen in {by} en {ly} uit verschillende bronnen (bron veranderd).")
            p = p.strip()
        paras.append(p)

    # 4. named examples
    story.improved = _examples(gap_rows, ind, "kleiner", n_examples)
    story.worsened = _examples(gap_rows, ind, "groter", n_examples)
    for examples, cls in ((story.improved, "kleiner"), (story.worsened, "groter")):
        if not examples:
            continue
        text = " ".join(_example_sentence(e, ind) for e in examples)
        if counts[cls] > 1:
            text = (f"De afstand werd het sterkst {cls} in {nl_join([e['label'] for e in examples])}. "
                    + text)
        paras.append(text)

    measured = classified >= max(1, n_areas) / 2
    if ind.higher_is_better is not None and measured and (counts["kleiner"] or counts["groter"]
                                                          or counts["gelijk"]):
        story.verdict = ("positief" if counts["kleiner"] > counts["groter"] else
                         "negatief" if counts["groter"] > counts["kleiner"] else "gelijk")
    return story


def _names(stories: list[IndicatorStory]) -> str:
    return nl_join([f"‘{s.name}’" for s in stories])


def section_picture(stories: list[IndicatorStory], *, words: Words = Words(),
                    baseline: int | None = None, latest: int | None = None) -> str:
    """The opening text of a section (theme or actielijn), by :data:`PICTURE_RULE`."""
    judged = [s for s in stories if s.verdict is not None]
    period = f" tussen {baseline} en {latest}" if baseline and latest else ""
    if not judged:
        return (f"Voor dit onderdeel is{period} nog geen ontwikkeling per {words.singular} te meten: bij "
                f"geen enkele indicator met een richting is voor ten minste de helft van de "
                f"{words.plural} de afstand tot het stedelijk gemiddelde in beide jaren bekend.")
    pos = [s for s in judged if s.verdict == "positief"]
    neg = [s for s in judged if s.verdict == "negatief"]
    tie = [s for s in judged if s.verdict == "gelijk"]
    n = len(judged)
    rest = len([s for s in stories if s.has_data]) - n
    tail = (f" Bij {plural(rest, 'andere indicator', 'andere indicatoren')} is de ontwikkeling nog "
            f"niet voor genoeg {words.plural} te meten." if rest > 0 else "")
    if n == 1:
        s = judged[0]
        if s.verdict == "gelijk":
            return (f"Bij de enige indicator met een meetbare ontwikkeling, ‘{s.name}’, werd de afstand tot "
                    f"het stedelijk gemiddelde{period} bij even veel {words.plural} kleiner als groter: "
                    f"per saldo een stabiel beeld." + tail)
        more, less = ("kleiner", "groter") if s.verdict == "positief" else ("groter", "kleiner")
        return (f"Op basis van de enige indicator met een meetbare ontwikkeling, ‘{s.name}’, ontstaat"
                f"{period} een {s.verdict} beeld: de afstand tot het stedelijk gemiddelde werd bij meer "
                f"{words.plural} {more} dan {less}." + tail)
    if len(pos) == n or len(neg) == n:
        verdict, more, less = (("positief", "kleiner", "groter") if len(pos) == n else
                               ("negatief", "groter", "kleiner"))
        return (f"Op basis van de {n} indicatoren met een meetbare ontwikkeling ontstaat{period} een "
                f"{verdict} beeld: bij elke indicator werd de afstand tot het stedelijk gemiddelde bij "
                f"meer {words.plural} {more} dan {less}." + tail)
    if len(tie) == n:
        return (f"De {n} indicatoren met een meetbare ontwikkeling laten{period} een stabiel beeld zien: "
                f"bij elke indicator werd de afstand tot het stedelijk gemiddelde bij even veel "
                f"{words.plural} kleiner als groter." + tail)
    parts = []
    if pos:
        parts.append(f"bij {_names(pos)} werd de afstand tot het stedelijk gemiddelde bij meer "
                     f"{words.plural} kleiner dan groter")
    if neg:
        parts.append(f"bij {_names(neg)} {'juist ' if pos else ''}bij meer {words.plural} groter dan kleiner"
                     if pos else
                     f"bij {_names(neg)} werd de afstand tot het stedelijk gemiddelde bij meer "
                     f"{words.plural} groter dan kleiner")
    if tie:
        parts.append(f"bij {_names(tie)} even vaak kleiner als groter")
    return (f"De {n} indicatoren met een meetbare ontwikkeling laten{period} een wisselend beeld zien: "
            + "; ".join(parts) + "." + tail)


def _kern_name(name: str) -> str:
    """'Ervaren leefbaarheid (Leefbaarometer)' -> 'ervaren leefbaarheid, Leefbaarometer'."""
    name = re.sub(r" \(([^()]*)\)$", r", \1", name)
    return name if name[:2].isupper() else name[0].lower() + name[1:]


def kernindicator_text(actielijn: int, coverage: Mapping[int, list[str]],
                       stories: Mapping[str, IndicatorStory], catalogue) -> str | None:
    """Which kernindicatoren of an actielijn have no data yet (None when all have data)."""
    none_declared, no_values = [], []
    for k, (line, name) in KERNINDICATOREN.items():
        if line != actielijn:
            continue
        ids = list(coverage.get(k, []))
        if not ids:
            none_declared.append(f"{k} ({_kern_name(name)})")
        elif not any(stories.get(i) is not None and stories[i].has_data for i in ids):
            no_values.append((k, _kern_name(name), [catalogue[i].name for i in ids]))
    parts = []
    if none_declared:
        parts.append(("Voor kernindicator " if len(none_declared) == 1 else "Voor de kernindicatoren ")
                     + nl_join(none_declared) + " zijn nog geen gegevens beschikbaar: de monitor kent er "
                     "nog geen bron voor.")
    for k, name, names in no_values:
        parts.append(f"Kernindicator {k} ({name}) wordt gevolgd met "
                     + nl_join([f"‘{n}’" for n in names]) + ", maar daarvan zijn in deze periode geen "
                     "cijfers voor de gebieden of de vergelijkingsgroepen beschikbaar.")
    return " ".join(parts) or None
