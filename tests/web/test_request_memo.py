"""Within one web request the store version is looked up once (RequestMemo): every cache
look-up of the request uses the version seen first; outside a request, and in the next
request, the file is looked at again (so a replaced store is seen by the next request)."""

from __future__ import annotations

import os

from wijkmonitor.web import data
from wijkmonitor.web.data import REQUEST_MEMO, WebStore


def test_one_stat_per_request_and_a_fresh_one_per_request(real_store, monkeypatch):
    ws = WebStore(real_store)
    calls = []
    real_stat = os.stat

    def counting(path, *a, **kw):
        if str(path) == str(real_store):
            calls.append(path)
        return real_stat(path, *a, **kw)

    monkeypatch.setattr(data.os, "stat", counting)
    ws._signature(), ws._signature()
    assert len(calls) == 2  # outside a request: every time
    token = REQUEST_MEMO.set({})
    try:
        first = ws._signature()
        assert all(ws._signature() == first for _ in range(5))
        assert len(calls) == 3
    finally:
        REQUEST_MEMO.reset(token)
    token = REQUEST_MEMO.set({})  # the next request looks again
    try:
        ws._signature()
        assert len(calls) == 4
    finally:
        REQUEST_MEMO.reset(token)


def test_pages_use_the_memo(client, monkeypatch):
    seen = []
    real_sig = WebStore._signature

    def spy(self):
        seen.append(REQUEST_MEMO.get() is not None)
        return real_sig(self)

    monkeypatch.setattr(WebStore, "_signature", spy)
    assert client.get("/gebied/utrecht-overvecht").status_code == 200
    assert seen and all(seen)
