"""The appendix: per indicator its definition, source tables, retrieval dates and the
catalogue version, and the rules the report applies (tolerance, classes, narrative)."""

from __future__ import annotations

from .. import analysis
from ..catalogue import Indicator
from .data import StoreData
from .format import nl_number
from .narrative import PICTURE_RULE

AGGREGATION_TEXT = {
    "som": "som over de delen",
    "verhouding": "som van de tellers gedeeld door de som van de noemers",
    "gewogen gemiddelde": "gewogen gemiddelde van de delen",
    "niet optelbaar": "niet optelbaar (alleen gepubliceerde waarden)",
}


def tolerance_text(ind: Indicator) -> str:
    if ind.tolerance is not None:
        unit = "procentpunt" if ind.unit.strip() == "%" else ind.unit
        return f"{nl_number(ind.tolerance, max(ind.decimals, 1))} {unit} (vastgelegd bij de indicator)"
    if ind.unit.strip() == "%":
        return f"{nl_number(analysis.PERCENT_TOLERANCE, 0)} procentpunt (algemene regel)"
    return (f"{nl_number(analysis.RELATIVE_TOLERANCE * 100, 0)} % van de referentiewaarde in het "
            "basisjaar (algemene regel)")


def indicator_entries(data: StoreData, indicator_ids) -> list[dict]:
    """One appendix entry per indicator, in the given order."""
    out = []
    for iid in indicator_ids:
        ind = data.catalogue[iid]
        src = data.sources_for(iid)
        out.append(dict(
            id=ind.id, name=ind.name, description=ind.description.strip(), unit=ind.unit,
            theme=ind.theme, polarity=ind.polarity, aggregation=AGGREGATION_TEXT.get(ind.aggregation,
                                                                                    ind.aggregation),
            min_base=nl_number(ind.min_base, 0), tolerance=tolerance_text(ind),
            kernindicator=(f"{ind.nplv.kernindicator}: {ind.kernindicator_name}"
                           if ind.nplv.kernindicator else ""),
            source_note=ind.source_note.strip(),
            tables=", ".join(dict.fromkeys(str(t) for t in src["table_id"])) or "geen getoonde waarden",
        ))
    return out


def source_entries(data: StoreData, indicator_ids) -> list[dict]:
    """The source tables behind the given indicators, one row per source (with its retrieval
    date and licence), ordered by publisher and table."""
    ids = set(data.provenance.loc[data.provenance["indicator"].isin(list(indicator_ids)), "source_id"])
    src = data.sources[data.sources["source_id"].isin(ids)]
    src = src.sort_values(["publisher", "table_id", "retrieved", "source_id"])
    return [dict(table_id=r.table_id, title=r.title, publisher=r.publisher, retrieved=r.retrieved,
                 licence=r.licence, location=r.location) for r in src.itertuples()]


def rules() -> list[tuple[str, str]]:
    """The rules the report applies, as (title, Dutch text)."""
    return [
        ("Afstand en klasse",
         "Voor elk gebied wordt de waarde vergeleken met het eigen stedelijk gemiddelde (de gemeente). "
         "De achterstand is het verschil in de ongunstige richting (bij ‘hoger is beter’: stedelijk "
         "gemiddelde min waarde, anders waarde min stedelijk gemiddelde; niet negatief); bij indicatoren "
         "zonder richting telt het absolute verschil. Klassen: ‘beter dan referentie’ als het gebied in "
         "het laatste jaar gelijk aan of beter dan het stedelijk gemiddelde scoort; anders ‘gelijk’ als de "
         "achterstand met hoogstens de tolerantie veranderde, ‘kleiner’ of ‘groter’ als hij meer afnam "
         "of toenam; ‘te weinig waarnemingen’ als een van de vier cijfers ontbreekt of basisjaar en "
         "laatste jaar samenvallen."),
        ("Tolerantie",
         f"De tolerantie is de waarde die bij de indicator is vastgelegd, en anders de algemene regel: "
         f"{nl_number(analysis.PERCENT_TOLERANCE, 0)} procentpunt bij percentages, anders "
         f"{nl_number(analysis.RELATIVE_TOLERANCE * 100, 0)} % van de referentiewaarde in het basisjaar. "
         "Dezelfde tolerantie bepaalt of een waarde ‘vrijwel gelijk’ bleef."),
        ("Jaren",
         "Per indicator gelden als basisjaar en laatste jaar de beschikbare jaren die het dichtst bij de "
         "gevraagde jaren liggen; een jaar is beschikbaar als ten minste de helft van de gebieden er een "
         "getoond cijfer heeft. De gebruikte jaren staan bij elke tabel."),
        ("Tekst", "De tekst is per indicator samengesteld uit vaste zinnen die op grond van de cijfers "
                  "worden gekozen; elk getal in de tekst staat ook in de tabellen. Genoemde voorbeelden "
                  "zijn de gebieden waarvan de achterstand het meest afnam of toenam (ten hoogste drie)."),
        ("Beeld per onderdeel", PICTURE_RULE),
        ("Geheimhouding", "Een cijfer dat de bron niet publiceert, geheimhoudt of dat onder de "
                          "minimumgrens valt, wordt nergens getoond en nergens uit afgeleid; de tabel "
                          "noemt de reden."),
    ]
