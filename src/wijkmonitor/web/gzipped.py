"""Cached pages sent gzip-compressed without compressing their cached parts on every request.

An area page is cached as two parts around the section that is read per request (streefwaarden,
interventions; :func:`wijkmonitor.web.pages.gebied`). Compressing the whole ~450 KB page per
request cost more CPU than everything else of a cached page (``benchmarks/bench_web.py``, 50
connections). Here each cached part is compressed once, as raw deflate ending on a *full flush*
(byte-aligned, nothing referring back across the boundary), and only the small live section is
compressed per request; the gzip member is then the header, the three deflate pieces and the
trailer (CRC-32 and length of the whole page). A fresh compressor per piece never refers to
earlier data, so the concatenation is one valid deflate stream (RFC 1951 3.2.3: blocks follow one
another; only the last has BFINAL set).
"""

from __future__ import annotations

import struct
import zlib

from starlette.datastructures import Headers
from starlette.responses import Response

LEVEL = 6
#: gzip header (RFC 1952): magic, deflate, no flags, no mtime, no extra flags, OS unknown
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


def accepts_gzip(headers: Headers) -> bool:
    """Does ``Accept-Encoding`` allow gzip (``gzip`` or ``*``, not with ``q=0``)?"""
    for part in headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip().lower()
            return not (q.startswith("q=") and q[2:].strip() in ("0", "0.0", "0.00", "0.000"))
    return False


def piece(data: bytes, *, final: bool = False) -> bytes:
    """``data`` as raw deflate: ending on a full flush, or, with ``final``, ending the stream."""
    c = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH)


def member(parts: list[tuple[bytes, bytes]]) -> bytes:
    """One gzip member from ``(raw, piece)`` pairs in order; the last piece must be ``final``."""
    crc, size = 0, 0
    for raw, _ in parts:
        crc = zlib.crc32(raw, crc)
        size += len(raw)
    return b"".join([_HEADER, *(p for _, p in parts), struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF)])


def html(parts: list[tuple[bytes, bytes]], status_code: int = 200) -> Response:
    """An HTML response with the gzip member of ``parts`` (``Content-Encoding: gzip``, which
    the compression middleware leaves alone)."""
    return Response(member(parts), status_code=status_code, media_type="text/html; charset=utf-8",
                    headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
