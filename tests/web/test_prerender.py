"""The programme areas' pages are rendered at server start (``wijkmonitor.web.app.prerender``):
afterwards a visitor gets them from the page cache, byte for byte the page a fresh server
renders, plain and compressed."""

from __future__ import annotations

from fastapi.testclient import TestClient

from wijkmonitor.web import app as webapp


def test_prerendered_page_is_the_page_a_fresh_server_renders(real_store):
    app = webapp.create_app(real_store)
    ws = app.state.ws
    assert webapp.prerender(app, ["utrecht-overvecht", "geen-gebied-xyz"]) == 1  # an unknown id: 404, counted out
    pages, gz = ws.lru("gebied_pages"), ws.lru("gebied_pages_gz")
    assert len(pages) == 1 and len(gz) == 1

    fresh = TestClient(webapp.create_app(real_store))
    c = TestClient(app)
    for enc in ("identity", "gzip"):
        got = c.get("/gebied/utrecht-overvecht", headers={"accept-encoding": enc})
        ref = fresh.get("/gebied/utrecht-overvecht", headers={"accept-encoding": enc})
        assert got.status_code == ref.status_code == 200
        assert got.content == ref.content
    assert len(pages) == 1 and len(gz) == 1  # served from what was rendered, nothing new
    # another query is another page: rendered on request
    assert c.get("/gebied/utrecht-overvecht?basisjaar=2016").status_code == 200
    assert len(pages) == 2
