"""Interactive maps: which polygons a map draws, and the GeoJSON the map script draws.

Every map on the site is drawn twice from the same classes: as server-side SVG (:mod:`.svg`,
the no-JavaScript fallback) and, where the browser runs JavaScript with WebGL, by MapLibre GL
JS (``static/kaart.js``, vendored from npm) from the GeoJSON of ``/api/v1/kaart/...``: zoom
and pan, click a region to open its page, a tooltip on hover and on tap, and the table next to
the map tied to it (focusing a row highlights its region).

Polygons (:func:`choose_layer`): the layer of the data's own year where the mirror or the
polygons fetched with ``wijkmonitor fetch --all`` (PDOK) have one, otherwise the nearest year, and among equally near years the one whose codes match most
regions; the map says which (``note``). Amsterdam's buurten (recoded in 2022 to codes like
``BU0363AA02``) have no CBS polygons after 2014, so buurt maps of Amsterdam use the city's own
buurt polygons with the code crosswalk (:func:`wijkmonitor.geometries.amsterdam_buurten`) and
say so. Buurten of gemeenten that merged or recoded since 2014 get the 2014 polygon of their
namesake where name and location agree (:mod:`wijkmonitor.buurtkoppeling`, layer kind
``"gekoppeld"``, :func:`linked_layer`); the map says so and how many it draws.
"""

from __future__ import annotations

import functools
import itertools
import json
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from fastapi import APIRouter, HTTPException, Query, Request, Response

from .. import buurtkoppeling, geometries
from . import svg
from .data import LEVEL_NAMES, Unit, WebStore
from .format import DASH, nl_value

router = APIRouter(prefix="/api/v1/kaart", tags=["wijkmonitor"])

AMSTERDAM = "GM0363"
LEVEL_PLURAL = {"gemeente": "gemeenten", "wijk": "wijken", "buurt": "buurten"}
#: Decimals of the WGS84 coordinates sent to the browser (5: about 1 m).
PRECISION = 5
#: Colours of the locator map (the area's parts, the rest) as in :func:`svg.locator`.
PART_FILL, CONTEXT_FILL = "#c4002f", "#e8e8e8"


@dataclass(frozen=True)
class MapLayer:
    """The polygons one map draws: ``kind`` ``"cbs"`` (a CBS layer: of the mirror, or fetched
    from PDOK when ``origin`` is ``"online"``), ``"amsterdam"`` (the city's buurten under the
    CBS codes of ``year``) or ``"gekoppeld"`` (the CBS buurten of ``year`` 2014, plus the buurten
    of division ``code_year`` linked to them by name and location: ``links``, ``(code, name,
    2014 code)``; ``token`` tells the layers of different store versions apart)."""

    kind: str
    year: int
    level: str
    origin: str = geometries.ORIGIN_MIRROR
    code_year: int | None = None
    token: int | None = None
    links: tuple = field(default=(), compare=False, hash=False, repr=False)

    @functools.cached_property
    def linked_codes(self) -> frozenset[str]:
        """Codes drawn with the polygon of their namesake of 2014 (kind ``"gekoppeld"``)."""
        return frozenset(code for code, _, _ in self.links)

    def counts(self, codes) -> tuple[int, int, int]:
        """``(drawn, total, linked)``: how many of ``codes`` the layer draws, and how many of
        those by a link on name and location."""
        codes = set(codes)
        drawn = codes & layer_codes(self)
        return len(drawn), len(codes), len(drawn & self.linked_codes)

    @property
    def source(self) -> str:
        if self.kind == "amsterdam":
            return "Gemeente Amsterdam (gebiedsindeling)"
        if self.kind == "gekoppeld":
            return "CBS / Kadaster (buurtgrenzen 2014)"
        if self.origin == geometries.ORIGIN_FETCHED:
            return "CBS / Kadaster (PDOK wijkenbuurten, online opgehaald)"
        return "CBS / Kadaster"

    def short_note(self, data_year: int | None, codes=None) -> str:
        """The boundaries in a few words, printed on the map itself (``codes``: the regions of
        the map, counted for a ``"gekoppeld"`` layer)."""
        if self.kind == "gekoppeld":
            drawn, total, _ = self.counts(codes or ())
            return (f"Grenzen: buurtgrenzen van {self.year}, gekoppeld op naam en ligging; "
                    f"{drawn} van {total} buurten getekend")
        if self.kind == "amsterdam":
            return f"Grenzen: buurtindeling gemeente Amsterdam, CBS-codes {self.year} via omzettabel"
        via = ", PDOK online opgehaald" if self.origin == geometries.ORIGIN_FETCHED else ""
        if data_year is None or int(data_year) == self.year:
            return f"Grenzen: CBS-indeling {self.year}" + (f" ({via[2:]})" if via else "")
        return f"Grenzen: CBS-indeling {self.year} (dichtstbijzijnde jaar; cijfers {data_year}{via})"

    def note(self, data_year: int | None, *, locator: bool = False, codes=None) -> str:
        """Dutch sentence for the map: which boundaries, and why when they are not the data's
        (``locator``: ``data_year`` is the division year of the page's region, not of figures;
        ``codes``: the regions of the map, counted for a ``"gekoppeld"`` layer)."""
        plural = LEVEL_PLURAL.get(self.level, self.level)
        if self.kind == "gekoppeld":
            drawn, total, linked = self.counts(codes or ())
            pct = f"{buurtkoppeling.MIN_INSIDE * 100:.0f} %"
            head = (f"Grenzen: buurtgrenzen van {self.year} (CBS), gekoppeld op naam en ligging; "
                    f"{drawn} van {total} buurten getekend. CBS-grenzen van latere buurten zitten "
                    f"niet in de gegevens van de wijkmonitor.")
            if not linked:
                return head
            return (f"{head} {_buurten(linked)} met een code van na {self.year} "
                    f"{'is' if linked == 1 else 'zijn'} getekend met de grenzen van de buurt van "
                    f"{self.year} met dezelfde naam die voor minstens {pct} in de eigen wijk (of "
                    f"gemeente) van {self.code_year} ligt; die grenzen kunnen sindsdien wat veranderd zijn.")
        if self.kind == "amsterdam":
            return (f"Grenzen: de buurtindeling van de gemeente Amsterdam, gekoppeld aan de "
                    f"CBS-buurtcodes van {self.year} met de omzettabel van de gemeente (één op één, "
                    f"{len(frame(self))} buurten): CBS-grenzen van deze buurten zitten niet in de gegevens "
                    f"van de wijkmonitor; "
                    f"buurten die niet in de omzettabel staan, staan alleen in de tabel.")
        if self.origin == geometries.ORIGIN_FETCHED:
            grenzen = f"Grenzen: CBS-indeling {self.year} (PDOK wijkenbuurten, online opgehaald)"
        else:
            grenzen = f"Grenzen: CBS-indeling {self.year}"
        if data_year is None or int(data_year) == self.year:
            return grenzen + "."
        if locator:
            return (f"{grenzen}, het dichtstbijzijnde jaar met grenzen van "
                    f"{plural} bij de indeling {data_year} van dit gebied.")
        return (f"{grenzen}, het dichtstbijzijnde jaar met grenzen van "
                f"{plural}; de cijfers gaan over {data_year}. {plural.capitalize()} met een code die "
                f"niet in de indeling {self.year} voorkomt, staan alleen in de tabel.")


def _buurten(n: int) -> str:
    return "1 buurt" if n == 1 else f"{n} buurten"


def _candidates(level: str, year: int, gemeente: str | None, codes: set[str],
                linked: MapLayer | None = None) -> list[MapLayer]:
    years = sorted({y for y, lv in geometries.available() if lv == level},
                   key=lambda y: (abs(y - int(year)), -y))
    out = [MapLayer("cbs", y, level, geometries.layer(y, level).origin) for y in years]
    if linked is not None and linked.level == level:
        # right after the CBS layer of the same year: it draws the same codes and more, and on
        # a tie (nothing linked among ``codes``) the plain CBS layer wins
        at = next((i + 1 for i, c in enumerate(out) if c.year == linked.year), len(out))
        out.insert(at, linked)
    if level == "buurt" and (gemeente == AMSTERDAM or any(c.startswith("BU0363") for c in codes)):
        # the city's own buurten beat a nearest CBS year, not CBS polygons of the year itself
        # (fetched PDOK buurten of that year draw the buurten created after the crosswalk too)
        own_year = bool(years) and years[0] == int(year)
        out.insert(1 if own_year else 0, MapLayer("amsterdam", 2022 if int(year) >= 2022 else 2015, level))
    return out


def choose_layer(level: str, year: int, codes=(), gemeente: str | None = None,
                 ws: WebStore | None = None) -> MapLayer | None:
    """The polygons for a map of ``level`` with data of ``year`` (``codes``: the regions shown).

    The nearest year wins (``year`` itself where the mirror has it). Among equally near
    candidates (two years at the same distance, Amsterdam's own buurten, or the 2014 buurten
    with the links of :func:`linked_layer`, which need ``ws``) the one that draws most of
    ``codes`` wins, the later year on a tie; when none of them draws any of ``codes``, the
    layer that draws most of them among all years. ``None`` when there are no polygons of that
    level at all.
    """
    codes = set(codes)
    cands = _candidates(level, year, gemeente, codes)
    if ws is not None and level == buurtkoppeling.LEVEL and codes and not any(
            codes <= layer_codes(c) for c in cands
            if c is cands[0] or c.kind != "cbs" or c.year == buurtkoppeling.POLYGON_YEAR):
        # only when the nearest layer, the 2014 buurten and Amsterdam's all miss some of the
        # codes: the links cost seconds per division the first time, which a map that needs
        # none does not pay
        linked = linked_layer(ws, codes, year)
        if linked is not None:
            cands = _candidates(level, year, gemeente, codes, linked)
    if not cands:
        return None
    cbs = [c for c in cands if c.kind == "cbs"]
    if not codes:
        return cbs[0] if cbs else cands[0]
    nearest = [c for c in cands if c.kind not in ("cbs", "gekoppeld")
               or abs(c.year - int(year)) == abs(cbs[0].year - int(year))]

    def best(group):
        return max(((len(codes & layer_codes(c)), -i, c) for i, c in enumerate(group)),
                   key=lambda t: (t[0], t[1]))

    hit = best(nearest)
    if hit[0] == 0:
        hit = best(cands)
    return hit[2] if hit[0] > 0 else (cbs[0] if cbs else cands[0])


_TOKENS = itertools.count(1)


def linked_layer(ws: WebStore, codes, year: int | None = None) -> MapLayer | None:
    """The 2014 buurten with the links of :mod:`wijkmonitor.buurtkoppeling` for the buurt
    division of the store that holds most of ``codes`` (on a tie the one nearest to ``year``,
    then the later one); ``None`` when no division holds any of them or nothing is linked.
    Built once per store version."""
    divisions = ws.cached(("kaart_buurtindelingen",), lambda: {
        int(y): frozenset(g["code"]) for y, g in
        ws.df("SELECT code, year FROM regions WHERE level = 'buurt'").groupby("year")})
    codes = set(codes)
    near = int(year) if year is not None else 0
    hits = [(len(codes & c), -abs(y - near) if year is not None else 0, y) for y, c in divisions.items()]
    if not hits or max(hits)[0] == 0:
        return None
    division = max(hits)[2]
    # cached, not built: the table inside is built under the build lock (not re-entrant)
    return ws.cached(("kaart_buurtkoppeling", division), lambda: _build_linked(ws, division))


def link_table(ws: WebStore, year: int) -> pd.DataFrame:
    """The :func:`wijkmonitor.buurtkoppeling.link` table of the buurten of division ``year``."""
    def build():
        regs = ws.df("SELECT code, name, wijk_code, gemeente_code FROM regions "
                     "WHERE level = 'buurt' AND year = ? ORDER BY code", [int(year)])
        return buurtkoppeling.link_division(regs, int(year))
    return ws.built(("buurtkoppeling_tabel", int(year)), build)


def warm_links(ws: WebStore) -> None:
    """Build the links of the latest buurt division (the site's default year) ahead of the
    first buurt map that needs them (about 3 s of CPU on the real store)."""
    latest = ws.df("SELECT max(year) AS y FROM regions WHERE level = 'buurt'")["y"].iloc[0]
    if latest is not None and not pd.isna(latest):
        link_table(ws, int(latest))


def _build_linked(ws: WebStore, year: int) -> MapLayer | None:
    table = link_table(ws, year)
    hit = table[table["method"] == buurtkoppeling.NAME_LOCATION]
    if hit.empty:
        return None
    links = tuple(zip(hit["code"], hit["name"], hit["polygon_code"]))
    return MapLayer("gekoppeld", buurtkoppeling.POLYGON_YEAR, buurtkoppeling.LEVEL,
                    code_year=int(year), token=next(_TOKENS), links=links)


@functools.lru_cache(maxsize=8)
def _linked_frame(layer: MapLayer):
    base = geometries.load(layer.year, layer.level)
    old = [o for _, _, o in layer.links]
    geom = base.set_index("code").geometry
    add = gpd.GeoDataFrame({"code": [c for c, _, _ in layer.links], "year": layer.year,
                            "level": layer.level, "name": [n for _, n, _ in layer.links]},
                           geometry=geom.reindex(old).to_numpy(), crs=base.crs)
    out = pd.concat([base[~base["code"].isin(set(old))], add], ignore_index=True)
    return gpd.GeoDataFrame(out, crs=base.crs).sort_values("code", kind="stable").reset_index(drop=True)


def frame(layer: MapLayer):
    """The layer's polygons (``code, name, geometry`` in RD New; cached by geometries). A
    ``"gekoppeld"`` layer is the CBS layer with each linked 2014 buurt under its later code."""
    if layer.kind == "amsterdam":
        return geometries.amsterdam_buurten(layer.year)
    if layer.kind == "gekoppeld":
        return _linked_frame(layer)
    return geometries.load(layer.year, layer.level)


@functools.lru_cache(maxsize=32)
def layer_codes(layer: MapLayer) -> frozenset[str]:
    """Codes with a (non-empty) polygon in the layer."""
    if layer.kind == "gekoppeld":
        base = layer_codes(MapLayer("cbs", layer.year, layer.level))
        old = {o for _, _, o in layer.links}
        return frozenset((base - old) | {c for c, _, o in layer.links if o in base})
    f = frame(layer)
    return frozenset(f.loc[~f.geometry.is_empty, "code"])


def _relinked(layer: MapLayer, base: dict, make) -> dict:
    """``base`` (code -> drawing of the plain CBS layer) with each linked 2014 buurt under its
    later code (``make(code, name, old)``): the drawings are shared, not computed again."""
    old = {o for _, _, o in layer.links}
    out = {c: v for c, v in base.items() if c not in old}
    for code, name, o in layer.links:
        if o in base:
            out[code] = make(code, name, base[o])
    return out


@functools.lru_cache(maxsize=16)
def shapes(layer: MapLayer) -> dict:
    """SVG path data of the layer (see :func:`svg.shapes_of`)."""
    if layer.kind == "gekoppeld":
        base = shapes(MapLayer("cbs", layer.year, layer.level))
        return _relinked(layer, base, lambda code, name, s: svg.Shape(code, name or code, s.d, s.bounds))
    if layer.kind == "cbs" and layer.origin == geometries.ORIGIN_MIRROR:
        return svg.layer_shapes(layer.year, layer.level)
    return svg.shapes_of(frame(layer), layer.level)


@functools.lru_cache(maxsize=16)
def _geojson_geometries(layer: MapLayer) -> dict[str, tuple[str, tuple[float, float, float, float]]]:
    """``code -> (GeoJSON geometry text, WGS84 bounds)`` of the simplified layer."""
    if layer.kind == "gekoppeld":
        base = _geojson_geometries(MapLayer("cbs", layer.year, layer.level))
        return _relinked(layer, base, lambda code, name, g: g)
    web = geometries.to_wgs84(frame(layer), precision=PRECISION)
    out = {}
    for code, g in zip(web["code"], web.geometry):
        if g is None or g.is_empty:
            continue
        out[code] = (json.dumps(g.__geo_interface__, separators=(",", ":")),
                     tuple(float(b) for b in g.bounds))
    return out


def geometry_dicts(layer: MapLayer) -> dict[str, dict]:
    """``code -> GeoJSON geometry`` (WGS84, simplified) of the layer, for file downloads."""
    return {c: json.loads(g) for c, (g, _) in _geojson_geometries(layer).items()}


def feature_collection(layer: MapLayer, features: list[dict], meta: dict) -> str:
    """GeoJSON FeatureCollection text of ``features`` (dicts of properties with ``code``) that
    have a polygon in ``layer``, with ``bbox`` and a ``wijkmonitor`` member (``meta`` plus
    ``layer_year``, ``source`` and ``not_on_map``: the codes without a polygon)."""
    geoms = _geojson_geometries(layer)
    parts, bounds, missing = [], [], []
    for props in features:
        hit = geoms.get(props["code"])
        if hit is None:
            missing.append(props["code"])
            continue
        parts.append('{"type":"Feature","properties":' + json.dumps(props, ensure_ascii=False,
                                                                      separators=(",", ":"))
                     + ',"geometry":' + hit[0] + "}")
        bounds.append(hit[1])
    if bounds:
        b = np.asarray(bounds)
        bbox = [round(float(b[:, 0].min()), 5), round(float(b[:, 1].min()), 5),
                round(float(b[:, 2].max()), 5), round(float(b[:, 3].max()), 5)]
    else:
        bbox = None
    head = dict(meta, layer_year=layer.year, source=layer.source, not_on_map=missing)
    return ('{"type":"FeatureCollection","bbox":' + json.dumps(bbox) + ',"wijkmonitor":'
            + json.dumps(head, ensure_ascii=False, separators=(",", ":"))
            + ',"features":[' + ",".join(parts) + "]}")


def buurt_map_coverage(ws: WebStore, year: int, *, linked: bool = True) -> pd.DataFrame:
    """Per gemeente of division ``year``: how many of its buurten a buurt map of figures of
    ``year`` draws (``gemeente, buurten, drawn, linked, kind``; ``kind`` the layer chosen, as
    :func:`choose_layer` with all the gemeente's buurten of that division). ``linked=False``: as
    the maps were without the links on name and location (for comparison)."""
    regs = ws.df("SELECT code, gemeente_code FROM regions WHERE level = 'buurt' AND year = ?", [int(year)])
    rows = []
    for gm, g in regs.groupby("gemeente_code"):
        codes = list(g["code"])
        layer = choose_layer("buurt", year, codes, gm, ws if linked else None)
        drawn, total, n_linked = layer.counts(codes) if layer is not None else (0, len(codes), 0)
        rows.append(dict(gemeente=gm, buurten=total, drawn=drawn, linked=n_linked,
                         kind=layer.kind if layer is not None else None))
    return pd.DataFrame(rows, columns=["gemeente", "buurten", "drawn", "linked", "kind"])


# ---------------------------------------------------------------------------------------
# Indicator maps (the indicator page)
# ---------------------------------------------------------------------------------------

def indicator_items(ws: WebStore, indicator: str, year: int, level: str,
                    gemeente: str | None) -> list[dict]:
    """The regions an indicator map shows (``code, name, value, reason``), as the page's table."""
    regs = ws.level_values(indicator, year, level, gemeente if level != "gemeente" else None)
    out = []
    for r in regs.to_dict("records"):
        name = r["name"] if isinstance(r["name"], str) and r["name"] else r["code"]
        v = r["value"]
        out.append(dict(code=r["code"], name=name, value=None if v is None or pd.isna(v) else float(v),
                        reason=r["reason"]))
    return out


def indicator_map(ws: WebStore, indicator: str, year: int, level: str, gemeente: str | None,
                  *, title: str, items: list[dict] | None = None) -> dict:
    """The SVG fallback and everything the page says about the map of one indicator.

    Returns :func:`svg.choropleth`'s dict plus ``note`` (which boundaries), ``source`` and
    ``src`` (the GeoJSON URL for the interactive map). ``items``: the page's rows (``code, name,
    value, reason``) when it has them already, else read as :func:`indicator_items`.
    """
    ind = ws.catalogue[indicator]
    if items is None:
        items = indicator_items(ws, indicator, year, level, gemeente)
    if not items:
        return {}
    codes = [i["code"] for i in items]
    layer = choose_layer(level, year, codes, gemeente, ws)
    if layer is None:
        return svg.choropleth(items, year=year, level=level, unit=ind.unit, decimals=ind.decimals,
                              title=title, classes=ind.classes) | dict(note=None, source=None, src=None)
    mp = svg.choropleth(items, year=year, level=level, unit=ind.unit, decimals=ind.decimals, title=title,
                        classes=ind.classes, shapes=shapes(layer), shapes_year=layer.year)
    q = f"jaar={year}&niveau={level}" + (f"&gemeente={gemeente}" if level != "gemeente" and gemeente else "")
    return mp | dict(note=layer.note(year, codes=codes), short_note=layer.short_note(year, codes),
                     source=layer.source, layer=layer,
                     src=f"/api/v1/kaart/indicator/{indicator}?{q}")


@router.get("/indicator/{indicator}", summary="Kaart van een indicator (GeoJSON met kleuren en legenda)",
            response_class=Response, responses={200: {"content": {"application/geo+json": {}}}})
def indicator_geojson(request: Request, indicator: str, jaar: int = Query(..., ge=1900, le=2100),
                      niveau: str = "gemeente", gemeente: str | None = Query(None, max_length=10)):
    """Regions of ``niveau`` (within ``gemeente`` for wijk/buurt) with their polygon, value text
    (Dutch notation), fill colour of the legend class and page link. The member ``wijkmonitor``
    carries the legend, the boundaries used (``layer_year``, ``note``) and the codes without a
    polygon (``not_on_map``). The same classes as the SVG map of the indicator page."""
    ws: WebStore = request.app.state.ws
    cat = ws.catalogue
    if indicator not in cat:
        raise HTTPException(404, f"onbekende indicator {indicator!r}")
    if niveau not in LEVEL_PLURAL:
        raise HTTPException(404, f"onbekend niveau {niveau!r}")
    if niveau != "gemeente" and not gemeente:
        raise HTTPException(422, "geef een gemeente (code GMxxxx) voor wijken en buurten")

    def build() -> bytes:
        ind = cat[indicator]
        items = indicator_items(ws, indicator, jaar, niveau, gemeente)
        codes = [i["code"] for i in items]
        layer = choose_layer(niveau, jaar, codes, gemeente, ws)
        if layer is None:
            raise HTTPException(404, f"geen grenzen voor {LEVEL_PLURAL[niveau]}")
        cls = svg.classify(items, decimals=ind.decimals, classes=ind.classes)
        feats = []
        for it in items:
            colour = cls["fill"].get(it["code"])
            text = nl_value(it["value"], ind.decimals, ind.unit) if colour is not None \
                else f"{DASH} {it['reason']}".strip()
            feats.append(dict(code=it["code"], name=it["name"], href=f"/gebied/{it['code']}",
                              fill=colour, label=text))
        meta = dict(indicator=indicator, name=ind.name, unit=ind.unit, year=jaar, level=niveau,
                    gemeente=gemeente if niveau != "gemeente" else None, note=layer.note(jaar, codes=codes),
                    fixed_classes=cls["fixed"],
                    legend=[dict(fill=c, label=lab, count=n) for c, lab, n in cls["legend"]])
        return feature_collection(layer, feats, meta).encode()

    key = (indicator, jaar, niveau, gemeente if niveau != "gemeente" else None)
    body = ws.lru("kaart_indicator", 64).get_or_put(key, build)
    return Response(body, media_type="application/geo+json")


# ---------------------------------------------------------------------------------------
# Locator maps (the gebied page)
# ---------------------------------------------------------------------------------------

def _locator_layer(level: str, year: int, codes: list[str], prefix: str | None,
                   ws: WebStore | None = None) -> MapLayer | None:
    return choose_layer(level, year, codes, f"GM{prefix}" if prefix else None, ws)


def _locator_for(codes: list[str], *, level: str, year: int, prefix: str | None, title: str,
                 ws: WebStore | None = None) -> dict:
    layer = _locator_layer(level, year, codes, prefix, ws)
    if layer is None:
        return dict(svg="", matched=0, total=len(codes), layer_year=None)
    res = svg.locator(codes, context_level=level, context_year=layer.year, context_prefix=prefix,
                      title=title, shapes=shapes(layer), shapes_year=layer.year)
    return res | dict(layer=layer)


def locator(u: Unit, ws: WebStore | None = None) -> dict:
    """The map of a gebied page: the unit (or its parts) in red within its gemeente (areas,
    wijken, buurten) or the country (gemeenten), on the boundaries of the unit's own division
    year where they exist (with ``ws``: buurten linked to the 2014 polygons by name and
    location too). Falls back to the gemeente when no polygon matches."""
    if u.kind == "area":
        gm = (u.gemeente or "")[2:6]
        res = _locator_for(u.codes, level=u.level, year=u.reference_year or 2020, prefix=gm,
                           title=f"Ligging van {u.name} in {u.gemeente_name}", ws=ws)
        res["level"] = u.level
    elif u.kind == "gemeente":
        res = _locator_for([u.id], level="gemeente", year=u.reference_year or 2024, prefix=None,
                           title=f"Ligging van {u.name} in Nederland") | dict(level="gemeente")
    elif u.kind in ("wijk", "buurt"):
        res = _locator_for([u.id], level=u.kind, year=u.reference_year or 2024, prefix=u.id[2:6],
                           title=f"Ligging van {u.name} in {u.gemeente_name or 'de gemeente'}",
                           ws=ws) | dict(level=u.kind)
    else:
        return dict(svg="", matched=0, total=0, layer_year=None)
    if res["matched"] == 0 and u.gemeente and u.kind != "gemeente":
        res = _locator_for([u.gemeente], level="gemeente", year=u.reference_year or 2024, prefix=None,
                           title=f"Ligging van de gemeente {u.gemeente_name}")
        res.update(fallback=True, level="gemeente")
    layer = res.get("layer")
    if res.get("svg") and layer is not None:
        year = None if res.get("fallback") else (u.reference_year or (2020 if u.kind == "area" else None))
        if layer.kind == "gekoppeld":
            ctx = [s["code"] for s in res.get("shapes", [])]
            res.update(note=_locator_link_note(layer, u.codes if u.kind == "area" else [u.id], ctx),
                       short_note=f"Grenzen: buurtgrenzen van {layer.year}, gekoppeld op naam en ligging",
                       source=layer.source, src=f"/api/v1/kaart/gebied/{u.id}")
            return res
        res.update(note=layer.note(year, locator=True), source=layer.source, src=f"/api/v1/kaart/gebied/{u.id}",
                   short_note=layer.short_note(year) if layer.kind == "amsterdam" or year is None
                   else f"Grenzen: CBS-indeling {layer.year}")
    return res


def _locator_link_note(layer: MapLayer, own: list[str], context: list[str]) -> str:
    """The locator's note on a ``"gekoppeld"`` layer: which of the unit's parts are drawn by a
    link on name and location."""
    drawn, total, linked = layer.counts(own)
    pct = f"{buurtkoppeling.MIN_INSIDE * 100:.0f} %"
    return (f"Grenzen: buurtgrenzen van {layer.year} (CBS), gekoppeld op naam en ligging; "
            f"{drawn} van {total} {'buurt' if total == 1 else 'buurten'} van dit gebied getekend"
            + (f", waarvan {linked} met de grenzen van de buurt van {layer.year} met dezelfde naam "
               f"die voor minstens {pct} in de eigen wijk (of gemeente) ligt" if linked else "")
            + ".")


@router.get("/gebied/{uid}", summary="Kaart van een gebiedspagina (GeoJSON: het gebied en zijn omgeving)",
            response_class=Response, responses={200: {"content": {"application/geo+json": {}}}})
def locator_geojson(request: Request, uid: str):
    """The regions around a unit with ``part`` true for the unit's own parts, their page link
    and fill colour; the member ``wijkmonitor`` says which boundaries (``layer_year``,
    ``note``)."""
    ws: WebStore = request.app.state.ws
    if len(uid) > 200 or "\x00" in uid:
        raise HTTPException(404, "onbekend gebied")
    u = ws.unit(uid)
    if u is None:
        raise HTTPException(404, f"onbekend gebied {uid[:60]!r}")

    def build() -> bytes:
        loc = locator(u, ws)
        layer = loc.get("layer")
        if not loc.get("svg") or layer is None:
            raise HTTPException(404, "geen kaart voor dit gebied")
        feats = [dict(code=s["code"], name=s["name"] or s["code"], href=f"/gebied/{s['code']}",
                      fill=PART_FILL if s["part_of_area"] else CONTEXT_FILL, part=bool(s["part_of_area"]),
                      label="deel van dit gebied" if s["part_of_area"] else LEVEL_NAMES.get(loc["level"], ""))
                 for s in loc["shapes"]]
        meta = dict(unit=u.id, name=u.name, level=loc["level"], note=loc["note"], legend=[])
        return feature_collection(layer, feats, meta).encode()

    body = ws.lru("kaart_gebied", 256).get_or_put(u.id, build)
    return Response(body, media_type="application/geo+json")


__all__ = ["MapLayer", "choose_layer", "indicator_map", "locator", "feature_collection",
           "router"]
