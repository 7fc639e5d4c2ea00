"""Search that finds what residents type: names, codes, postcodes, aliases and small typos.

One :class:`SearchIndex` per store version (built in ~1 s from ``area_index`` and ``regions``):

* **Names** are compared after :func:`normalise` (lower case, accents, hyphens, apostrophes
  and brackets removed): ``'s-Gravenhage``, ``s gravenhage`` and ``S-Gravenhage`` are the same,
  and so are ``Overvecht-Noord`` and ``overvecht noord``. The CBS prefix of wijk names
  (``Wijk 03 Overvecht``) is optional.
* **Aliases** are data (``search_aliases.yaml``): ``Den Haag`` finds ``'s-Gravenhage``.
* **Areas** (NPLV-focusgebieden, aandachtswijken) are found by their full name, their id and
  their name without the gemeente (``Overvecht``); an exact name beats everything else, so
  ``Rotterdam Zuid`` finds the NPLV area Rotterdam-Zuid first.
* **Typos**: a word within one edit (insert, delete, substitute or swap two neighbours;
  Damerau-Levenshtein, :mod:`rapidfuzz`) of a word of a name counts, for words of four letters
  or more, and ranks below exact words.
* **Codes** (``GM0344``, ``WK034403``, ``BU03440343``) are found exactly.
* **Postcodes**: ``3533`` or ``3533 AB`` give the buurten whose most common postcode is 3533
  (:mod:`wijkmonitor.postcodes`); approximate, and the page says so.
* **Divisions**: a CBS code that no longer exists in the latest division is shown as the
  *history* of the current region with the same name in the same gemeente (Amsterdam recoded
  its buurten in 2022: ``Bijlmermuseum Noord`` of 2020 is listed under
  ``Bijlmermuseum-Noord`` of 2024, not beside it); old codes without a current namesake are
  listed in a group of their own after the current ones.

Results come grouped by level: postcode, areas, gemeenten, wijken, buurten, earlier divisions.
When no name holds every word, the names that hold the most words are shown with a note.
"""

from __future__ import annotations

import bisect
import math
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from .. import postcodes

#: Group order and their Dutch headings.
GROUPS = [("postcode", "Buurten bij deze postcode"), ("area", "Focusgebieden en aandachtswijken"),
          ("gemeente", "Gemeenten"), ("wijk", "Wijken"), ("buurt", "Buurten"),
          ("history", "Eerdere indelingen (codes die niet meer bestaan)")]
LEVEL_ORDER = {"area": 0, "gemeente": 1, "wijk": 2, "buurt": 3, "history": 4}
#: Rank of a match (lower is better).
EXACT, PREFIX, WORDS, SUBSTRING, TYPO, PARTIAL = range(6)
#: Words shorter than this are never matched with a typo (too many near neighbours).
MIN_TYPO_LENGTH = 4
_CBS_PREFIX = re.compile(r"^(wijk|buurt)\s+\d+[a-z]?\s+")
_CODE = re.compile(r"^(GM\d{4}|WK\d{4}[0-9A-Z]{2}|BU\d{4}[0-9A-Z]{4}|NL00)$", re.I)


def normalise(text: str) -> str:
    """Lower case ASCII words separated by single spaces: accents, hyphens, apostrophes,
    slashes and brackets removed (``"'s-Gravenhage" -> "s gravenhage"``,
    ``"Súdwest-Fryslân" -> "sudwest fryslan"``)."""
    text = unicodedata.normalize("NFKD", str(text or ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


@functools.lru_cache(maxsize=1)
def synonyms() -> list[list[str]]:
    """The alias groups of ``search_aliases.yaml``, normalised."""
    doc = yaml.safe_load(Path(__file__).with_name("search_aliases.yaml").read_text(encoding="utf-8"))
    return [[normalise(p) for p in group] for group in doc.get("synonyms") or []]


@functools.lru_cache(maxsize=1)
def _synonym_patterns() -> list[tuple[str, re.Pattern, list[str]]]:
    return [(phrase, re.compile(rf"(?<![0-9a-z]){re.escape(phrase)}(?![0-9a-z])"),
             [o for o in group if o != phrase]) for group in synonyms() for phrase in group]


def variants(key: str) -> set[str]:
    """``key`` and the same name with every alias phrase replaced by the others of its group
    (whole words only)."""
    out = {key}
    for phrase, pat, others in _synonym_patterns():
        for k in list(out):
            if phrase in k and pat.search(k):
                out |= {pat.sub(other, k) for other in others}
    return out


@dataclass
class Entry:
    """One thing search can find."""
    id: str
    name: str
    level: str                      # area, gemeente, wijk, buurt
    kind: str                       # label shown: 'NPLV-focusgebied', 'wijk', ...
    detail: str
    keys: tuple[str, ...]
    current: bool = True
    years: tuple[int, int] | None = None
    history: list[dict] = field(default_factory=list)
    order: int = 0                  # NPLV areas before aandachtswijken of the same name
    group_key: tuple | None = None  # (level, gemeente digits, name) to pair old and new codes


@dataclass
class Hit:
    entry: Entry
    rank: int
    group: str

    def as_row(self) -> dict:
        e = self.entry
        return dict(id=e.id, name=e.name, kind=e.kind, detail=e.detail, group=self.group,
                    match=RANK_LABELS[self.rank],
                    history="; ".join(f"{h['id']} ({h['years']})" for h in e.history))


RANK_LABELS = {EXACT: "naam", PREFIX: "begin van de naam", WORDS: "woorden", SUBSTRING: "deel van de naam",
               TYPO: "bijna gelijk (één letter anders)", PARTIAL: "een deel van de woorden",
               -1: "code", -2: "postcode (benadering)"}


@dataclass
class Result:
    """What one query found, grouped."""
    query: str
    groups: list[tuple[str, str, list[Hit], int]]   # key, heading, hits shown, hits in total
    postcode: dict | None = None                    # pc4, letters, source, n
    note: str | None = None

    @property
    def n(self) -> int:
        return sum(total for *_, total in self.groups)

    def frame(self) -> pd.DataFrame:
        rows = [h.as_row() for _, _, hits, _ in self.groups for h in hits]
        return pd.DataFrame(rows, columns=["id", "name", "kind", "detail", "group", "match", "history"])


class SearchIndex:
    """Every searchable name of one store version."""

    def __init__(self, area_index: pd.DataFrame, regions: pd.DataFrame):
        """``regions``: one row per code and division year (``code, year, level, name,
        gemeente_code, wijk_code``)."""
        self.entries: list[Entry] = []
        self.by_id: dict[str, Entry] = {}
        self._areas(area_index)
        self._regions(regions)
        self._build()

    # -- building ------------------------------------------------------------------------------
    def _add(self, e: Entry) -> None:
        e.order = len(self.entries)
        self.entries.append(e)
        self.by_id[e.id.upper()] = e

    def _areas(self, idx: pd.DataFrame) -> None:
        for a in idx.sort_values(["programme", "name"], ascending=[False, True]).itertuples():
            name = str(a.name)
            keys = {normalise(name), normalise(str(a.area_id))}
            gname = normalise(str(a.gemeente_name or ""))
            short = normalise(name)
            for g in variants(gname) | {gname}:
                if g and short.startswith(g + " "):
                    keys.add(short[len(g) + 1:])
            nplv = a.programme == "nplv"
            self._add(Entry(id=a.area_id, name=name, level="area",
                            kind="NPLV-focusgebied" if nplv else "aandachtswijk (2007)",
                            detail=f"gemeente {a.gemeente_name}",
                            keys=tuple(sorted(set().union(*(variants(k) for k in keys if k))))))

    def _regions(self, regions: pd.DataFrame) -> None:
        regions = regions[regions["level"].isin(["gemeente", "wijk", "buurt"])]
        latest_year = regions.groupby("level")["year"].max().to_dict()
        span = regions.groupby("code")["year"].agg(["min", "max"])
        lo_of, hi_of = span["min"].to_dict(), span["max"].to_dict()
        last = regions.sort_values("year").drop_duplicates("code", keep="last")
        # a code without a name in its latest year takes its most recent name
        named = regions[regions["name"].notna() & (regions["name"] != "")]
        name_of = named.sort_values("year").drop_duplicates("code", keep="last").set_index("code")["name"]
        gm_name = {c: n for c, n in name_of.items() if c.startswith("GM")}
        wk_name = {c: n for c, n in name_of.items() if c.startswith("WK")}
        name_of = name_of.to_dict()
        for r in last[["code", "level", "gemeente_code", "wijk_code"]].to_dict("records"):
            code, level = r["code"], r["level"]
            name = name_of.get(code) or code
            lo, hi = int(lo_of[code]), int(hi_of[code])
            current = hi >= latest_year[level]
            gm = r["gemeente_code"] if isinstance(r["gemeente_code"], str) else (
                code if level == "gemeente" else "GM" + code[2:6])
            gname = gm_name.get(gm) or gm_name.get("GM" + code[2:6])
            parts = []
            if level == "buurt":
                wk = r["wijk_code"] if isinstance(r["wijk_code"], str) else "WK" + code[2:8]
                if wk in wk_name:
                    parts.append(f"in wijk {wk_name[wk]}")
            if level != "gemeente" and gname:
                parts.append(f"gemeente {gname}")
            parts.append(code)
            parts.append(f"indeling {hi}" if current else f"bestond {lo}–{hi}" if lo != hi else f"indeling {hi}")
            base = normalise(name)
            keys = {base, _CBS_PREFIX.sub("", base)}
            self._add(Entry(id=code, name=name, level=level, kind=level, detail=", ".join(parts),
                            keys=tuple(sorted(set().union(*(variants(k) for k in keys if k)))),
                            current=current, years=(lo, hi),
                            group_key=(level, code[2:6], _CBS_PREFIX.sub("", base))))
        # old codes with a current namesake in the same gemeente become its history
        current = {e.group_key: e for e in self.entries if e.level != "area" and e.current}
        for e in self.entries:
            if e.level != "area" and not e.current and e.group_key in current:
                now = current[e.group_key]
                now.history.append(dict(id=e.id, name=e.name, years=f"{e.years[0]}–{e.years[1]}"
                                        if e.years[0] != e.years[1] else str(e.years[0])))
                e.current = None  # folded into its successor: never a hit of its own

    def _build(self) -> None:
        self.live = [e for e in self.entries if e.current is not None]
        postings: dict[str, set[int]] = {}
        for i, e in enumerate(self.live):
            for k in e.keys:
                for w in k.split():
                    postings.setdefault(w, set()).add(i)
        self.postings = postings
        self.vocab = sorted(postings)

    # -- matching ------------------------------------------------------------------------------
    def _word_candidates(self, word: str) -> tuple[set[int], set[int]]:
        """Entries with a word that starts with ``word`` (exact/prefix) and those with a word
        within one edit of it (typo)."""
        exact: set[int] = set()
        i = bisect.bisect_left(self.vocab, word)
        while i < len(self.vocab) and self.vocab[i].startswith(word):
            exact |= self.postings[self.vocab[i]]
            i += 1
        typo: set[int] = set()
        if len(word) >= MIN_TYPO_LENGTH:
            from rapidfuzz import process
            from rapidfuzz.distance import DamerauLevenshtein
            for v, _, _ in process.extract(word, self.vocab, scorer=DamerauLevenshtein.distance,
                                           score_cutoff=1, limit=None):
                typo |= self.postings[v]
        return exact, typo - exact

    @staticmethod
    def _rank(e: Entry, q: str, words: list[str], typo_only: bool) -> int:
        best = PARTIAL
        for k in e.keys:
            if k == q:
                return EXACT
            if k.startswith(q):
                best = min(best, PREFIX)
            elif all(any(kw.startswith(w) for kw in k.split()) for w in words):
                best = min(best, WORDS)
            elif q in k:
                best = min(best, SUBSTRING)
        if best == PARTIAL and typo_only:
            return TYPO
        return best if best != PARTIAL else TYPO

    def search(self, text: str, *, per_group: int = 25) -> Result:
        text = (text or "").strip()[:200]
        q = normalise(text)
        hits: list[Hit] = []
        postcode = None
        note = None
        pc = postcodes.buurten_for(text)
        if pc is not None:
            pc4, codes = pc
            letters = postcodes.parse(text)[1]
            postcode = dict(pc4=pc4, letters=letters, source=postcodes.SOURCE, n=len(codes))
            for c in codes:
                e = self.by_id.get(c)
                if e is not None:
                    hits.append(Hit(e, -2, "postcode"))
        elif _CODE.match(text.replace(" ", "")):
            e = self.by_id.get(text.replace(" ", "").upper())
            if e is not None:
                hits.append(Hit(e, -1, e.level if e.current else "history"))
        if q and pc is None:
            words = q.split()
            sets = [self._word_candidates(w) for w in words]
            strict = set.intersection(*(ex for ex, _ in sets))
            loose = set.intersection(*(ex | ty for ex, ty in sets)) - strict
            seen = {h.entry.id for h in hits}
            # near misses (one edit) only where no name holds the words as typed
            found = [(i, False) for i in strict] or [(i, True) for i in loose]
            # a name that holds the query inside a word ('vecht' in 'Overvecht')
            if len(q) >= 3 and len(found) < per_group:
                have = {i for i, _ in found}
                found += [(i, False) for i, e in enumerate(self.live)
                          if i not in have and any(q in k for k in e.keys)]
            if not found and len(words) > 1:
                # no name holds every word: the names that hold the most telling of them (a
                # word that few names have weighs more: 'overvecht' over 'noord')
                count: dict[int, float] = {}
                for ex, ty in sets:
                    matched = ex | ty
                    weight = math.log((len(self.live) + 1) / (len(matched) + 1))
                    for i in matched:
                        count[i] = count.get(i, 0) + weight
                if count:
                    top = max(count.values())
                    found = [(i, True) for i, c in count.items() if c == top]
                    top_ids = {i for i, _ in found}
                    used = [w for w, (ex, ty) in zip(words, sets) if top_ids & (ex | ty)]
                    left = [w for w in words if w not in used]
                    note = (f"Geen gebied heeft alle woorden van ‘{text}’ in zijn naam. Dit zijn de "
                            f"gebieden met ‘{' '.join(used)}’ in hun naam"
                            + (f" (zonder ‘{' '.join(left)}’)" if left else "") + ".")
            for i, typo in found:
                e = self.live[i]
                if e.id in seen:
                    continue
                rank = self._rank(e, q, words, typo) if note is None else PARTIAL
                hits.append(Hit(e, rank, e.level if e.current else "history"))
        hits.sort(key=lambda h: (h.rank, LEVEL_ORDER.get(h.entry.level, 9), not h.entry.current,
                                 len(h.entry.name), h.entry.name, h.entry.order))
        groups = []
        for key, heading in GROUPS:
            g = [h for h in hits if h.group == key]
            if g:
                groups.append((key, heading, g[:per_group], len(g)))
        # the group with the best hit comes first (after a postcode), the others in level order
        if groups and groups[0][0] != "postcode":
            best = min(groups, key=lambda g: (g[2][0].rank, [k for k, _ in GROUPS].index(g[0])))
            groups.remove(best)
            groups.insert(0, best)
        return Result(query=text, groups=groups, postcode=postcode, note=note)

    def suggest(self, text: str, limit: int = 8) -> list[dict]:
        """At most ``limit`` hits for autocomplete: ``{label, url, kind}``, best first."""
        res = self.search(text, per_group=limit)
        flat = sorted((h for _, _, hits, _ in res.groups for h in hits),
                      key=lambda h: (h.rank, LEVEL_ORDER.get(h.entry.level, 9), len(h.entry.name),
                                     h.entry.order))
        out = []
        for h in flat[:limit]:
            e = h.entry
            where = e.detail.split(", ")[0] if e.level in ("wijk", "buurt", "area") else ""
            label = f"{e.name} ({e.kind}{', ' + where if where and where != e.kind else ''})"
            out.append(dict(label=label, url=f"/gebied/{e.id}", kind=e.kind, id=e.id, name=e.name))
        return out


def index_for(ws) -> SearchIndex:
    """The :class:`SearchIndex` of a :class:`~.data.WebStore`'s current store version."""
    return ws.cached("search_index", lambda: SearchIndex(
        ws.area_index(), ws.df("SELECT code, year, level, name, gemeente_code, wijk_code FROM regions")))
