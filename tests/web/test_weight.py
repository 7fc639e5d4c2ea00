"""Issue 17.7: pages are sent compressed and an area page (with its CSS and JavaScript) stays
under 250 KB transferred."""

from __future__ import annotations

import re

import pytest

BUDGET = 250_000  # bytes transferred, compressed, for one area page and what it loads


def _transferred(client, path: str) -> tuple[int, int]:
    r = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200, path
    return r.num_bytes_downloaded, len(r.content)


@pytest.mark.parametrize("page", ["/gebied/utrecht-overvecht", "/gebied/rotterdam-zuid", "/gebied/GM0344",
                                  "/gebied/GM0363", "/gebied/WK034403", "/gebied/BU03440343"])
def test_area_page_weight_budget(client, page):
    html = client.get(page).text
    assets = set(re.findall(r'<link rel="stylesheet" href="(/[^"]+)"', html)) | \
        set(re.findall(r'<script src="(/[^"]+)"', html))
    sent, size = _transferred(client, page)
    total = sent + sum(_transferred(client, a)[0] for a in assets)
    assert sent < size / 3, (page, sent, size)   # really compressed
    assert total < BUDGET, (page, total)


def test_gzip_only_for_clients_that_ask(client):
    r = client.get("/gebied/utrecht-overvecht", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip" and "Accept-Encoding" in r.headers.get("vary", "")
    plain = client.get("/gebied/utrecht-overvecht", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.text == r.text
    api = client.get("/api/v1/values", params={"unit": "utrecht-overvecht"}, headers={"Accept-Encoding": "gzip"})
    assert api.headers["content-encoding"] == "gzip"
