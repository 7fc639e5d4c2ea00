"""``/static``: the site's own and vendored files, gzip-compressed once per file version.

The site's :class:`~starlette.middleware.gzip.GZipMiddleware` compresses every response again
for every request; for MapLibre GL JS (1 MB) and the design-system CSS (0.6 MB) that cost the
server ~0.1 s of CPU per page view, and the browser waited for it (the map's first view,
``benchmarks/bench_map.py``). Here a text file is compressed once (level 9) and kept in memory,
keyed by path, size and modification time; the middleware passes a response that already has a
``Content-Encoding`` through. Clients that do not accept gzip, ``HEAD`` and range requests get
the plain :class:`~starlette.staticfiles.StaticFiles` answer.
"""

from __future__ import annotations

import functools
import gzip
import os

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from .gzipped import accepts_gzip

#: file name endings that are sent compressed
COMPRESSIBLE = (".js", ".css", ".svg", ".json", ".txt", ".md", ".html", ".map")
#: smaller files are sent as they are (the middleware's own threshold)
MINIMUM_SIZE = 1024


@functools.lru_cache(maxsize=128)
def _gzipped(path: str, size: int, mtime_ns: int) -> bytes:
    with open(path, "rb") as fh:
        return gzip.compress(fh.read(), compresslevel=9, mtime=0)


class CompressedStaticFiles(StaticFiles):
    """:class:`StaticFiles` that sends text files gzip-compressed from a per-process cache."""

    def file_response(self, full_path: str | os.PathLike, stat_result: os.stat_result, scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        request = Headers(scope=scope)
        if (response.status_code != 200 or scope.get("method") != "GET" or "range" in request
                or not str(full_path).endswith(COMPRESSIBLE) or stat_result.st_size < MINIMUM_SIZE
                or not accepts_gzip(request)):
            return response
        body = _gzipped(str(full_path), stat_result.st_size, stat_result.st_mtime_ns)
        headers = {k: v for k, v in response.headers.items()
                   if k not in ("content-length", "accept-ranges")}
        headers["content-encoding"] = "gzip"
        headers["vary"] = "Accept-Encoding"
        return Response(body, status_code=200, headers=headers)
