"""Area pages are sent gzip-compressed from pre-compressed cached parts
(:mod:`wijkmonitor.web.gzipped`): the bytes a browser receives decode to exactly the page
sent without compression, and the live section (streefwaarden) is still fresh."""

from __future__ import annotations

import gzip
import zlib

import pytest

from wijkmonitor.web import gzipped


def test_pieces_concatenate_to_one_valid_gzip_member():
    head, mid, tail = b"<html>" + b"a" * 5000, "é – streefwaarde".encode(), b"b" * 7000 + b"</html>"
    body = gzipped.member([(head, gzipped.piece(head)), (mid, gzipped.piece(mid)),
                           (tail, gzipped.piece(tail, final=True))])
    assert gzip.decompress(body) == head + mid + tail
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip with its CRC and length checked
    assert d.decompress(body) == head + mid + tail and d.eof and d.unused_data == b""
    # an empty live section is fine too
    assert gzip.decompress(gzipped.member([(head, gzipped.piece(head)), (b"", gzipped.piece(b"")),
                                           (tail, gzipped.piece(tail, final=True))])) == head + tail


def test_a_wrong_length_or_crc_is_detected():
    # the trailer is what makes the member check out: a mismatch must not decode silently
    head, tail = b"x" * 100, b"y" * 100
    body = bytearray(gzipped.member([(head, gzipped.piece(head)), (tail, gzipped.piece(tail, final=True))]))
    body[-1] ^= 1
    with pytest.raises((OSError, EOFError, zlib.error)):
        gzip.decompress(bytes(body))


@pytest.mark.parametrize("accept", ["gzip", "gzip, deflate, br", "identity"])
def test_area_page_is_the_same_page_with_and_without_compression(client, accept):
    ref = client.get("/gebied/utrecht-overvecht", headers={"Accept-Encoding": "identity"})
    r = client.get("/gebied/utrecht-overvecht", headers={"Accept-Encoding": accept})
    assert r.status_code == ref.status_code == 200
    if "gzip" in accept:
        assert r.headers["content-encoding"] == "gzip" and "Accept-Encoding" in r.headers["vary"]
        assert int(r.headers["content-length"]) < len(ref.content) / 3
    else:
        assert "content-encoding" not in r.headers
    assert r.content == ref.content  # httpx decodes gzip; same page either way
    assert r.headers["content-security-policy"] == ref.headers["content-security-policy"]


@pytest.mark.parametrize("header, ok", [("gzip", True), ("deflate, gzip;q=0.5", True), ("*", True),
                                        ("gzip;q=0", False), ("gzip; q=0.0, br", False),
                                        ("identity", False), ("", False), ("br, deflate", False)])
def test_accept_encoding_is_read_with_its_weights(header, ok):
    from starlette.datastructures import Headers
    assert gzipped.accepts_gzip(Headers({"accept-encoding": header})) is ok

