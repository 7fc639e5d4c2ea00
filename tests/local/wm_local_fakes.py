"""Fake resolvers for the local-monitor tests (edge cases the real area files may not have)."""

from wijkmonitor.local.errors import NotFound
from wijkmonitor.local.resolvers import AreaRef, default_area_resolver

#: Named test areas; CBS codes fall through to the default (code-based) resolver.
FAKE_AREAS = {
    "overvecht": AreaRef("utrecht-overvecht", "Overvecht", "GM0344", ("WK034403",)),
    "rotterdam-zuid": AreaRef("rotterdam-zuid", "Rotterdam-Zuid", "GM0599",
                              ("WK059910", "WK059915")),
    "g4": AreaRef("G4", "G4", None, ("GM0344", "GM0599", "GM0363", "GM0518")),
}


def fake_area_resolver(key: str) -> AreaRef:
    k = key.strip().lower()
    if k in FAKE_AREAS:
        return FAKE_AREAS[k]
    for ref in FAKE_AREAS.values():
        if ref.id == key.strip():
            return ref
    if not key.strip()[:2].upper() in ("GM", "WK", "BU"):
        raise NotFound(f"gebied {key!r} is onbekend")
    return default_area_resolver(key)


R = dict(area_resolver=fake_area_resolver)
