"""WSGI middleware: a chunked request body (Transfer-Encoding: chunked, no Content-Length) is
read into memory, so Django sees it; otherwise Django reads Content-Length 0, an empty body.

gunicorn decodes the chunks in `wsgi.input`; we read at most DATA_UPLOAD_MAX_MEMORY_SIZE + 1
bytes, so a body past the limit still reaches Django as too large (413), never as truncated.
"""

import io
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# The bound when DATA_UPLOAD_MAX_MEMORY_SIZE is None (no limit in Django): Django's default.
_FALLBACK_LIMIT = 2_621_440


def chunked_body(app: WSGIApp) -> WSGIApp:
    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or _FALLBACK_LIMIT
            body = environ["wsgi.input"].read(limit + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return app(environ, start_response)

    return wrapped
