"""The appendix: per indicator its definition, source tables, retrieval dates and the
catalogue version, and the rules the report applies (tolerance, classes, narrative)."""

from __future__ import annotations

import re

from .. import analysis
from ..catalogue import Indicator
from .data import StoreData
from .format import nl_number
from .tables import unit_label
from .narrative import PICTURE_RULE

AGGREGATION_TEXT = {
    "som": "som over de delen",
    "verhouding": "som van de tellers gedeeld door de som van de noemers",
    "gewogen gemiddelde": "gewogen gemiddelde van de delen",
    "niet optelbaar": "niet optelbaar (alleen gepubliceerde waarden)",
}


def _plain_number(x: float) -> str:
    """A tolerance with as few decimals as it needs (``0,02`` not ``0,020``; ``5`` not ``5,0``)."""
    for d in range(0, 5):
        if abs(round(x, d) - x) < 1e-9:
            return nl_number(x, d)
    return nl_number(x, 4)


def tolerance_text(ind: Indicator) -> str | None:
    """The tolerance of an indicator as the appendix states it, or ``None`` for a count
    (aggregation ``som``): a count has no gap to the stedelijk gemiddelde, so no tolerance
    applies (:func:`wijkmonitor.analysis.comparable`)."""
    if not analysis.comparable(ind):
        return None
    unit = ind.unit.strip()
    if ind.tolerance is not None:
        tol = float(ind.tolerance)
        if unit.startswith("klasse"):
            words = "klasse" if tol == 1 else "klassen"
        else:
            words = "procentpunt" if unit == "%" else unit_label(unit)
        text = f"{_plain_number(tol)} {words} (vastgelegd bij de indicator)"
        if tol == 0:
            text += ": elke verandering van de achterstand telt als kleiner of groter"
        return text
    if unit == "%":
        return f"{nl_number(analysis.PERCENT_TOLERANCE, 0)} procentpunt (algemene regel)"
    return (f"{nl_number(analysis.RELATIVE_TOLERANCE * 100, 0)} % van de referentiewaarde in het "
            "basisjaar (algemene regel)")


#: PDOK wijk- en buurtkaart tables differ only by year: one entry in the appendix for all years.
_PDOK = re.compile(r"^PDOK wijkenbuurten(\d{4}) \((\w+?)\d*\)$")
_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
           "oktober", "november", "december")


def nl_date(iso: str) -> str:
    """``'2022-06-17' -> '17 juni 2022'`` (the input unchanged when it is no ISO date)."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", str(iso or "")[:10])
    if not m:
        return str(iso or "")
    y, mo, d = (int(g) for g in m.groups())
    if not 1 <= mo <= 12:
        return str(iso)
    return f"{d} {_MONTHS[mo - 1]} {y}"


def table_key(table_id: str) -> str:
    """The name under which a source table is listed in the appendix (PDOK years merged)."""
    m = _PDOK.match(str(table_id))
    return f"PDOK wijkenbuurten ({m.group(2)})" if m else str(table_id)


def indicator_entries(data: StoreData, indicator_ids) -> list[dict]:
    """One appendix entry per indicator, in the given order. ``tables`` names the source
    tables as :func:`source_entries` lists them, so that a reader can go from an indicator to
    the files and retrieval dates."""
    out = []
    for iid in indicator_ids:
        ind = data.catalogue[iid]
        src = data.sources_for(iid)
        keys = sorted(dict.fromkeys(table_key(t) for t in src["table_id"]), key=str.lower)
        out.append(dict(
            id=ind.id, name=ind.name, description=ind.description.strip(), unit=ind.unit,
            theme=ind.theme, polarity=ind.polarity, aggregation=AGGREGATION_TEXT.get(ind.aggregation,
                                                                                    ind.aggregation),
            min_base=nl_number(ind.min_base, 0), tolerance=tolerance_text(ind),
            kernindicator=(f"{ind.nplv.kernindicator}: {ind.kernindicator_name}"
                           if ind.nplv.kernindicator else ""),
            source_note=ind.source_note.strip(),
            tables=", ".join(keys) or "geen getoonde waarden",
        ))
    return out


def _title_parts(title: str) -> list[tuple[str, str]]:
    """``'A; B, C (D)' -> [('', 'A'), ('; ', 'B'), (', ', 'C'), (' ', '(D)')]``: the title cut at
    ``', '`` and ``'; '`` outside parentheses, a trailing parenthesised group as its own part."""
    parts, sep, cur, depth, i = [], "", "", 0, 0
    while i < len(title):
        ch = title[i]
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and title[i:i + 2] in (", ", "; "):
            parts.append((sep, cur))
            sep, cur, i = title[i:i + 2], "", i + 2
            continue
        cur += ch
        i += 1
    parts.append((sep, cur))
    out = []
    for sep, tok in parts:
        m = re.fullmatch(r"(.*\S) (\([^()]*\))", tok)
        out += [(sep, m.group(1)), (" ", m.group(2))] if m else [(sep, tok)]
    return out


def _split_titles(titles: list[str]) -> tuple[str, list[str]]:
    """The common beginning of the titles of one table's files and what each file adds."""
    split = [_title_parts(t) for t in titles]
    k = 0
    while all(len(p) > k for p in split) and len({p[k] for p in split[1:]} | {split[0][k]}) == 1:
        k += 1
    if k == 0:
        return "", titles
    common = "".join(sep + tok for sep, tok in split[0][:k])
    rests = []
    for p in split:
        rest = "".join(sep + tok for sep, tok in p[k:]).lstrip(",; ")
        if re.fullmatch(r"\([^()]*\)", rest):
            rest = rest[1:-1]
        rests.append(rest)
    return common, rests


def source_entries(data: StoreData, indicator_ids) -> list[dict]:
    """The source tables behind the given indicators, one entry per publisher and table.

    Each entry lists every file of that table the values were read from, with the part of the
    table it holds, its retrieval date and, where it differs from the entry's, its licence:
    a reader can go from a number via its indicator and table to the file and the date it was
    retrieved. Entries are ordered by publisher and table, files by location.
    """
    ids = set(data.provenance.loc[data.provenance["indicator"].isin(list(indicator_ids)), "source_id"])
    src = data.sources[data.sources["source_id"].isin(ids)].copy()
    src["key"] = [table_key(t) for t in src["table_id"]]
    src = src.sort_values(["publisher", "key", "location", "source_id"])
    out = []
    for (publisher, key), grp in src.groupby(["publisher", "key"], sort=True, dropna=False):
        titles = [str(t) for t in grp["title"]]
        title, parts = _split_titles(titles) if len(set(titles)) > 1 else (titles[0], [""] * len(titles))
        if key != str(grp["table_id"].iloc[0]) or grp["table_id"].nunique() > 1:  # merged PDOK years
            title = "CBS wijk- en buurtkaart met kerncijfers (PDOK), " + _PDOK.match(
                str(grp["table_id"].iloc[0])).group(2)
            parts = [f"jaar {_PDOK.match(str(t)).group(1)}" for t in grp["table_id"]]
        licences = list(dict.fromkeys(str(x) for x in grp["licence"]))
        files = []
        for r, part in zip(grp.itertuples(), parts):
            files.append(dict(location=str(r.location), part=part, retrieved=nl_date(r.retrieved),
                              source_id=str(r.source_id),
                              licence=str(r.licence) if len(licences) > 1 else ""))
        out.append(dict(table_id=key, publisher=publisher, title=title or "titel per bestand",
                        licence=licences[0] if len(licences) == 1 else "zie per bestand",
                        files=files))
    return out


def rules() -> list[tuple[str, str]]:
    """The rules the report applies, as (title, Dutch text)."""
    return [
        ("Afstand en klasse",
         "Voor elk gebied wordt de waarde vergeleken met het eigen stedelijk gemiddelde (de gemeente). "
         "De achterstand is het verschil in de ongunstige richting (bij ‘hoger is beter’: stedelijk "
         "gemiddelde min waarde, anders waarde min stedelijk gemiddelde; niet negatief); bij indicatoren "
         "zonder richting telt het absolute verschil. Klassen: ‘beter dan referentie’ als het gebied in "
         "het laatste jaar gelijk aan of beter dan het stedelijk gemiddelde scoort; anders ‘kleiner’ of "
         "‘groter’ als de achterstand meer dan de tolerantie afnam of toenam én het 95%-interval van die "
         "verandering 0 uitsluit, ‘gelijk’ als het hele interval binnen plus of min de tolerantie ligt, "
         "en anders ‘niet te zeggen’ (onzeker); ‘te weinig waarnemingen’ als een van de vier cijfers "
         "ontbreekt, uit een andere publicatie komt dan het gebied, of basisjaar en laatste jaar "
         "samenvallen. Met de regel ‘omw’ (de vaste tolerantie van de Outcomemonitor Wijkenaanpak, "
         "--rule omw) telt alleen de tolerantie: ‘gelijk’ als de achterstand met hoogstens de tolerantie "
         "veranderde, anders ‘kleiner’ of ‘groter’. Het stedelijk gemiddelde is de gemeente zoals "
         "gepubliceerd in dat jaar, in dezelfde publicatie (modelronde en indeling) als het gebied."),
        ("Bron veranderd",
         "Komen de cijfers van het gebied of van de gemeente in het basisjaar en in het laatste jaar uit "
         "verschillende publicatiereeksen (bijvoorbeeld tot 2020 uit RIVM 50090NED en daarna uit de "
         "Gezondheidsmonitor 50150NED, een andere modelronde), dan geeft de monitor geen klasse maar "
         "‘bron veranderd’, met beide bronnen genoemd: het verschil kan uit de methode komen en niet uit "
         "de wijk. Twee reeksen gelden alleen als vergelijkbaar waar dat met reden is vastgelegd. In de "
         "grafieken markeert een gestippelde verticale lijn (‘bron’) de overgang."),
        ("Onzekerheid",
         "Bij elk cijfer hoort een 95%-interval. Modelschattingen van het RIVM (50090NED, zonder "
         "gepubliceerde marges): een benadering, gekalibreerd op het verschil tussen twee officiële "
         "modelrondes (50090NED en 50150NED), met een fout die kleiner wordt met het aantal inwoners "
         "(naar van de Kassteele e.a. 2017). Percentages uit aantallen: het Wilson-interval; cijfers per "
         "1 000 uit aantallen: het exacte Poisson-interval; door de bron afgeronde cijfers: de afronding. "
         "De fouten van gebied en gemeente in beide jaren worden als onafhankelijk opgeteld."),
        ("Tolerantie",
         f"De tolerantie is de waarde die bij de indicator is vastgelegd, en anders de algemene regel: "
         f"{nl_number(analysis.PERCENT_TOLERANCE, 0)} procentpunt bij percentages, anders "
         f"{nl_number(analysis.RELATIVE_TOLERANCE * 100, 0)} % van de referentiewaarde in het basisjaar. "
         "Dezelfde tolerantie bepaalt of een waarde ‘vrijwel gelijk’ bleef."),
        ("Jaren",
         "Per indicator gelden als basisjaar en laatste jaar de jaren die het dichtst bij de gevraagde "
         "jaren liggen en waarin ten minste de helft van de gebieden een getoond cijfer heeft. Zijn er "
         "geen twee zulke jaren, dan geldt het paar jaren waarvoor de meeste gebieden in beide jaren een "
         "cijfer hebben; de ontwikkeling is dan alleen voor die gebieden gemeten. De gebruikte jaren "
         "staan bij elke tabel."),
        ("Tekst", "De tekst is per indicator samengesteld uit vaste zinnen die op grond van de cijfers "
                  "worden gekozen; elk getal in de tekst staat ook in de tabellen. Genoemde voorbeelden "
                  "zijn de gebieden waarvan de achterstand het meest afnam of toenam (ten hoogste drie)."),
        ("Beeld per onderdeel", PICTURE_RULE),
        ("Geheimhouding", "Een cijfer dat de bron niet publiceert, geheimhoudt of dat onder de "
                          "minimumgrens valt, wordt nergens getoond en nergens uit afgeleid; de tabel "
                          "noemt de reden."),
    ]


def fiche_rules() -> list[tuple[str, str]]:
    """The rules an area fiche applies, as (title, Dutch text): the class, tolerance, years and
    secrecy rules of :func:`rules` (stated once per fiche; the tolerance of each indicator is on
    its line in the appendix) and the rule of the fiche's own text. The national report's
    narrative rules do not apply to a fiche and are left out."""
    keep = {"Afstand en klasse", "Bron veranderd", "Tolerantie", "Jaren", "Geheimhouding"}
    out = [(t, x) for t, x in rules() if t in keep]
    out.insert(4, ("Tekst", "De tekst per thema is samengesteld uit vaste zinnen die op grond van de "
                            "klassen in de tabel worden gekozen en noemt de indicatoren per klasse."))
    return out
