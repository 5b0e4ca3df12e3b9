"""Schemathesis hooks for tests/api/test_schema_fuzzing.py (loaded through SCHEMATHESIS_HOOKS).

One hook, `filter_failure`, drops a "schema-valid request rejected" (ST202) only where the check
does not apply: the 400 names nothing but rules that depend on the tenant's data or relate two
values, which JSON Schema cannot state. Each rule is listed below with why; every other
rejection of a valid request, and every other check, still fails the run.
"""

import json
from typing import Any

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData

LISTS = ("GET /api/v1/items", "GET /api/v1/users", "GET /api/v1/jobs")
RESULTS = (
    "GET /api/v1/items/{item_id}/similar",
    "GET /api/v1/users/{user_id}/recommendations",
    "GET /api/v1/popular",
    "GET /api/v1/trending",
)
BATCHES = (
    "POST /api/v1/items/batch",
    "POST /api/v1/users/batch",
    "POST /api/v1/interactions/batch",
)
PATCHES = ("PATCH /api/v1/items/{item_id}", "PATCH /api/v1/users/{user_id}")

# (operations, field the detail names, fragment of its message): the rule and why the document
# cannot state it.
INAPPLICABLE: list[tuple[tuple[str, ...], str, str]] = [
    # A cursor is opaque: only the strings the API issued are cursors.
    (LISTS, "cursor", "invalid"),
    # The body's id must equal the URL's: OpenAPI cannot relate a body field to a path parameter.
    (PATCHES, "id", "must equal the id in the URL"),
    # Ids are unique within one batch: `uniqueItems` compares whole rows, not one field of them.
    (BATCHES, "id", "duplicate"),
    (BATCHES, "event_id", "duplicate"),
    # The tenant's data: its configured interaction types and the items it has.
    (("POST /api/v1/interactions/batch",), "type", "unknown interaction type"),
    (("POST /api/v1/interactions/batch",), "item", "unknown item"),
    (RESULTS, "exclude_seen", "interaction types"),
    # Attributes are free JSON within limits OpenAPI 3.0 cannot state: no NUL in the names at
    # any depth (it has no `propertyNames`), at most 16 levels deep, finite numbers.
    (BATCHES[:2] + PATCHES, "attributes", ""),
    # `attr.NAME` stands for the tenant's attribute names; its value grammar (one of v1|v2, a
    # range lo..hi with lo <= hi) is more than a string schema states.
    (RESULTS, "attr.NAME", ""),
]


def _details(body: bytes) -> list[dict[str, Any]] | None:
    try:
        parsed = json.loads(body)
        details = parsed["error"]["details"]
    except (ValueError, KeyError, TypeError):
        return None
    return details if isinstance(details, list) and details else None


def inapplicable(operation: str, status: int, body: bytes) -> bool:
    """Whether a 400 for a schema-valid request names only rules the document cannot state."""
    details = _details(body) if status == 400 else None
    if details is None:
        return False
    return all(
        any(
            operation in operations
            and detail.get("field") == field
            and fragment in str(detail.get("message", ""))
            for operations, field, fragment in INAPPLICABLE
        )
        for detail in details
    )


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    if not isinstance(failure, RejectedPositiveData):
        return True
    return not inapplicable(case.operation.label, response.status_code, response.content)
