"""A JSON parser on orjson: batch bodies of a few hundred KB parse several times faster.

A declared charset is honoured: UTF-8 (or none) is parsed as it is, another charset Python
knows is decoded first, and one it does not know is a 415 rather than a body misread as UTF-8.
"""

import codecs
from typing import Any

import orjson
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.parsers import JSONParser
from rest_framework.utils.mediatypes import _MediaType

_UTF8 = codecs.lookup("utf-8").name


class FastJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        charset = _MediaType(media_type or "").params.get("charset", "")
        if isinstance(charset, bytes):
            charset = charset.decode("latin-1")
        charset = charset.strip().strip('"')
        if charset:
            try:
                codec = codecs.lookup(charset).name
            except LookupError:
                raise UnsupportedMediaType(
                    media_type or "", detail=f"Unsupported charset {charset[:40]!r}; send UTF-8."
                ) from None
            if codec != _UTF8:
                try:
                    raw = raw.decode(codec).encode("utf-8", "surrogatepass")
                except (UnicodeError, ValueError) as exc:
                    raise ParseError(f"The body is not valid {charset[:40]}: {exc}") from exc
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"Malformed JSON: {exc}") from exc
