"""The beheer forms: reading the posted fields, parsing the target and intervention forms
into service arguments, and the Dutch error of each field (:class:`FormErrors`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request

from .. import bounds, interventions
from ..models import INTERVENTION_STATUSES
from ..tabular import parse_number, parse_year
from .guard import Refused
from .rendering import POLARITY_CHOICES


class FormErrors(dict):
    """field id -> Dutch message (insertion order = order in the summary); ``None`` key for
    errors about the whole form (linked to ``first`` field)."""

    def __init__(self, first: str):
        super().__init__()
        self.first = first

    def add(self, fieldname: str | None, message: str) -> None:
        key = fieldname or self.first
        self[key] = f"{self[key]} {message}" if key in self else message

    def summary(self) -> list[dict]:
        return [{"field": k, "message": v} for k, v in self.items()]


def map_service_error(errors: FormErrors, message: str, mapping: list[tuple[str, str]]) -> None:
    for part in [p.strip() for p in message.split("; ") if p.strip()]:
        low = part.lower()
        target = next((f for key, f in mapping if low.startswith(key) or f" {key}" in low[:40]),
                      None)
        errors.add(target, part[:1].upper() + part[1:])


def posted_form(request: Request):
    form = getattr(request.state, "wm_form", None)
    if form is None:
        raise Refused(400, "Het formulier is leeg of heeft een onbekend formaat.")
    return form


def field_text(form, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


TARGET_ERROR_FIELDS = [("streefjaar", "streefjaar"), ("streefwaarde", "streefwaarde"),
                       ("beginjaar", "beginjaar"), ("een beginwaarde", "beginwaarde"),
                       ("beginwaarde", "beginwaarde"), ("tussendoel", "tussendoelen"),
                       ("polar", "richting"), ("indicator", "indicator"), ("gebied", "gebied")]
INTERVENTION_ERROR_FIELDS = [("title", "titel"), ("titel", "titel"),
                             ("organisation_type", "organisatietype"), ("status", "status"),
                             ("start_date", "startdatum"), ("end_date", "einddatum"),
                             ("budget", "budget"), ("areas", "gebieden"),
                             ("gebied", "gebieden"), ("indicator", "indicatoren"),
                             ("evaluation_links", "evaluatielinks")]


def _bounded_number(text: str) -> float | None:
    """A number from a form field, or ``None`` when it is not one or is out of range."""
    value = parse_number(text)
    return None if value is None or bounds.number_problem(value) else value


def parse_milestones(text: str) -> dict[int, float] | int | None:
    """``"2026: 12,5; 2028: 11"`` -> ``{2026: 12.5, 2028: 11.0}``; ``None`` when malformed;
    the year (an ``int``) when a year is given twice."""
    out: dict[int, float] = {}
    for part in filter(None, (p.strip() for p in text.replace("\n", ";").split(";"))):
        year, sep, value = part.partition(":")
        y, v = parse_year(year), _bounded_number(value)
        if not sep or y is None or v is None:
            return None
        if y in out:
            return y
        out[y] = v
    return out


def parse_target_form(form, *, fixed: bool) -> tuple[dict, dict, FormErrors]:
    """Raw values, keyword arguments for :func:`.targets.set_target`, and field errors."""
    raw = {k: field_text(form, k) for k in ("gebied", "indicator", "streefwaarde", "streefjaar",
                                       "beginjaar", "beginwaarde", "tussendoelen", "richting",
                                       "reden")}
    errors = FormErrors("streefwaarde" if fixed else "gebied")
    bounds.check_form(raw, bounds.TARGET_FORM, errors.add)
    if errors:
        return raw, {}, errors
    if not fixed:
        if not raw["gebied"]:
            errors.add("gebied", "Kies een gebied.")
        if not raw["indicator"]:
            errors.add("indicator", "Kies een indicator.")
    kwargs: dict[str, Any] = {"reason": raw["reden"]}
    value = _bounded_number(raw["streefwaarde"])
    if value is None:
        errors.add("streefwaarde", "Vul de streefwaarde in als getal, bijvoorbeeld 12,5."
                   if raw["streefwaarde"] else "Vul een streefwaarde in.")
    kwargs["target_value"] = value
    year = parse_year(raw["streefjaar"])
    if year is None:
        errors.add("streefjaar", "Vul het streefjaar in als jaartal tussen 1900 en 2100.")
    kwargs["target_year"] = year
    kwargs["baseline_year"] = None
    if raw["beginjaar"]:
        kwargs["baseline_year"] = parse_year(raw["beginjaar"])
        if kwargs["baseline_year"] is None:
            errors.add("beginjaar", "Vul het beginjaar in als jaartal tussen 1900 en 2100.")
    kwargs["baseline_value"] = None
    if raw["beginwaarde"]:
        kwargs["baseline_value"] = _bounded_number(raw["beginwaarde"])
        if kwargs["baseline_value"] is None:
            errors.add("beginwaarde", "Vul de beginwaarde in als getal, bijvoorbeeld 14,2.")
        elif not raw["beginjaar"]:
            errors.add("beginjaar", "Een beginwaarde hoort bij een beginjaar: vul het jaar in.")
    if raw["tussendoelen"]:
        ms = parse_milestones(raw["tussendoelen"])
        if ms is None:
            errors.add("tussendoelen", "Schrijf tussendoelen als 'jaar: waarde', gescheiden door "
                                       "een puntkomma, bijvoorbeeld 2026: 12,5; 2028: 11.")
        elif isinstance(ms, int):
            errors.add("tussendoelen", f"Het jaar {ms} staat twee keer bij de tussendoelen.")
            ms = None
        kwargs["milestones"] = ms or {}
    richting = raw["richting"] or "catalogus"
    if richting not in dict(POLARITY_CHOICES):
        errors.add("richting", "Kies een richting uit de lijst.")
    kwargs["polarity"] = None if richting == "catalogus" else richting
    raw["richting"] = richting
    return raw, kwargs, errors


def _split_list(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\n", ";").replace(",", ";").split(";") if p.strip()]


def parse_intervention_form(form) -> tuple[dict, dict, FormErrors]:
    """Raw values, keyword arguments for :func:`.interventions.save_intervention`, errors."""
    keys = ("titel", "beschrijving", "actielijn", "thema", "organisatietype", "organisatie",
            "andere_gebieden", "startdatum", "einddatum", "status", "budget", "evaluatielinks")
    raw: dict[str, Any] = {k: field_text(form, k) for k in keys}
    raw["gebieden"] = [v for v in form.getlist("gebieden") if isinstance(v, str) and v]
    raw["indicatoren"] = [v for v in form.getlist("indicatoren") if isinstance(v, str) and v]
    errors = FormErrors("titel")
    bounds.check_form(raw, bounds.INTERVENTION_FORM, errors.add)
    raw["gebieden"] = bounds.check_choices(raw["gebieden"], "gebieden", "Gebieden",
                                           bounds.MAX_AREA_KEY, bounds.MAX_AREAS, errors.add)
    raw["indicatoren"] = bounds.check_choices(raw["indicatoren"], "indicatoren", "Indicatoren",
                                              bounds.LENGTHS["indicator"],
                                              bounds.MAX_INDICATORS, errors.add)
    if not raw["titel"] and "titel" not in errors:
        errors.add("titel", "Vul een titel in.")
    areas = list(dict.fromkeys(raw["gebieden"] + _split_list(raw["andere_gebieden"])))
    if len(areas) > bounds.MAX_AREAS or any(len(a) > bounds.MAX_AREA_KEY for a in areas):
        errors.add("gebieden", f"Te veel of te lange gebieden: maximaal {bounds.MAX_AREAS} "
                               f"gebieden van hoogstens {bounds.MAX_AREA_KEY} tekens.")
        areas = []
    elif not areas and "gebieden" not in errors:
        errors.add("gebieden", "Kies minstens één gebied.")
    dates = {}
    for key, label in (("startdatum", "startdatum"), ("einddatum", "einddatum")):
        dates[key] = None
        if raw[key]:
            try:
                dates[key] = dt.date.fromisoformat(raw[key])
            except ValueError:
                errors.add(key, f"Vul de {label} in als datum, bijvoorbeeld 2025-03-01.")
    if dates["startdatum"] and dates["einddatum"] and dates["einddatum"] < dates["startdatum"]:
        errors.add("einddatum", "De einddatum ligt vóór de startdatum.")
    budget = None
    if raw["budget"] and "budget" not in errors:
        budget = parse_number(raw["budget"].replace("€", "").replace(" ", ""))
        if budget is None or budget < 0:
            errors.add("budget", "Vul het budget in als positief bedrag in euro's, zonder "
                                 "punten, bijvoorbeeld 250000 of 1250,50.")
            budget = None
        elif budget > bounds.MAX_BUDGET:
            errors.add("budget", f"Het budget is te groot: hoogstens "
                                 f"{bounds.dutch_int(int(bounds.MAX_BUDGET))} euro.")
            budget = None
    status = raw["status"] or "gepland"
    if status not in INTERVENTION_STATUSES:
        errors.add("status", "Kies een status uit de lijst.")
    if raw["organisatietype"] and raw["organisatietype"] not in interventions.ORGANISATION_TYPES:
        errors.add("organisatietype", "Kies een soort organisatie uit de lijst.")
    links = [u for u in (p.strip() for p in raw["evaluatielinks"].splitlines()) if u]
    bad = [u for u in links if not u.startswith(("https://", "http://"))]
    if bad:
        errors.add("evaluatielinks", f"Geen webadres (http:// of https://): "
                                     f"{', '.join(u[:80] for u in bad[:5])}.")
    long_links = [u for u in links if len(u) > bounds.LENGTHS["url"]]
    if long_links:
        errors.add("evaluatielinks", f"Een webadres is te lang: maximaal "
                                     f"{bounds.dutch_int(bounds.LENGTHS['url'])} tekens.")
    if len(links) > bounds.MAX_LINKS:
        errors.add("evaluatielinks", f"Te veel webadressen: maximaal {bounds.MAX_LINKS}.")
    raw["status"] = status
    kwargs = dict(title=raw["titel"], description=raw["beschrijving"],
                  actielijn=raw["actielijn"], theme=raw["thema"],
                  organisation_type=raw["organisatietype"], organisation=raw["organisatie"],
                  start_date=dates["startdatum"], end_date=dates["einddatum"], status=status,
                  budget_eur=None if budget is None else f"{budget:.2f}", areas=areas,
                  indicators=raw["indicatoren"], evaluation_links=links)
    return raw, kwargs, errors


def safe_next(value: str | None) -> str:
    """Only local paths (no open redirect): ``/beheer/...`` or another site path."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value \
            and len(value) <= 2000 and value.isprintable():
        return value
    return "/beheer/"

