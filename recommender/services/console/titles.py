"""Titles and categories beside the ids of a served list, for the console's pages (the API
answers ids only; an operator reads titles)."""

from typing import Any

from recommender.selectors import items_described
from tenants.models import Tenant


def list_titled(tenant: Tenant, served: dict[str, Any]) -> dict[str, Any]:
    """The served list with each entry's "title" and "categories" added (a copy)."""
    entries = served.get("items", [])
    described = items_described(tenant, [entry["id"] for entry in entries])
    blank = {"title": "", "categories": []}
    return {
        **served,
        "items": [{**entry, **described.get(entry["id"], blank)} for entry in entries],
    }
