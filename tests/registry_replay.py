"""Replays tests/fixtures/registry/recordings.json through ``httpx.MockTransport``."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import httpx

RECORDINGS = Path(__file__).parent / "fixtures" / "registry" / "recordings.json"


def load() -> dict:
    return json.loads(RECORDINGS.read_text(encoding="utf-8"))


class Replay:
    """A MockTransport handler serving the recordings; ``hook(request)`` may raise or answer first."""

    def __init__(self, recordings: dict | None = None, hook=None):
        self.rec = recordings if recordings is not None else load()
        self.hook = hook
        self.urls: list[str] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        if self.hook is not None:
            answer = self.hook(request)
            if answer is not None:
                return answer
        url = request.url
        if "odata" not in url.path.lower():  # WFS GetFeature
            base = f"{url.scheme}://{url.host}{url.path}"
            layer = url.params.get("typeNames")
            rec = next((r for r in self.rec["wfs"].values() if r["url"] == base and layer in r["layers"]), None)
            if rec is None:
                return httpx.Response(404, text="unknown layer")
            feats = rec["layers"][layer]
            start, count = int(url.params.get("startIndex", 0)), int(url.params.get("count", 1000))
            part = feats[start:start + count]
            return httpx.Response(200, json={"type": "FeatureCollection", "numberMatched": len(feats),
                                             "numberReturned": len(part), "timeStamp": "2025-01-15T10:00:00Z",
                                             "features": part})
        parts = url.path.strip("/").split("/")  # ODataFeed/odata/<table>/<entity>
        assert parts[:2] == ["ODataFeed", "odata"], str(url)
        table, entity = parts[2], parts[3]
        pages = self.rec["odata"].get(table, {}).get(entity)
        if pages is None:
            return httpx.Response(404, json={"odata.error": {"message": {"value": "not found"}}})
        page = copy.deepcopy(pages[int(url.params.get("$skiptoken", 0))])
        select = url.params.get("$select")
        if select:
            keep = set(select.split(","))
            page["value"] = [{k: v for k, v in row.items() if k in keep} for row in page["value"]]
        return httpx.Response(200, json=page)
