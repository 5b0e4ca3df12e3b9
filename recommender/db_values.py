"""Column values read through a raw cursor, turned into what the ORM would give."""

import json
from typing import Any


def json_object(value: Any) -> dict[str, Any]:
    """A jsonb object column. Django has psycopg hand jsonb over as text (JSONField parses it
    itself), so a raw read gets a string: parse it here. Anything but an object reads as {}."""
    if isinstance(value, str | bytes):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}
