"""An ItemFilter as a SQL condition on `recommender_item`: compiled once, here, for the vector
searches (`recommender.vectorstore`) and the candidate reads (`recommender.candidate_store`)
alike, so both filter the same way."""

from typing import Any

from psycopg.types.json import Jsonb

from recommender.engine.filters import ItemFilter


def item_filter_sql(item_filter: ItemFilter | None, alias: str = "i") -> tuple[str, dict[str, Any]]:
    """The filter as a SQL condition on `recommender_item` (aliased) and its named parameters.

    Attribute names and values travel as parameters; only the alias and the generated parameter
    names are written into the text.
    """
    if item_filter is None or item_filter.is_empty:
        return "TRUE", {}
    parts: list[str] = []
    params: dict[str, Any] = {}
    if item_filter.include_categories:
        parts.append(f"{alias}.categories && %(f_include)s::varchar[]")
        params["f_include"] = list(item_filter.include_categories)
    if item_filter.exclude_categories:
        parts.append(f"NOT ({alias}.categories && %(f_exclude)s::varchar[])")
        params["f_exclude"] = list(item_filter.exclude_categories)
    for n, condition in enumerate(item_filter.attributes):
        name = f"f_a{n}"
        params[name] = condition.name
        value = f"({alias}.attributes -> %({name})s)"
        if condition.is_range:
            # Only JSON numbers take part; a cast of text would fail, so CASE guards it.
            number = (
                f"(CASE WHEN jsonb_typeof({value}) = 'number'"
                f" THEN ({alias}.attributes ->> %({name})s)::float8 END)"
            )
            if condition.low is not None:
                parts.append(f"{number} >= %({name}_low)s")
                params[f"{name}_low"] = condition.low
            if condition.high is not None:
                parts.append(f"{number} <= %({name}_high)s")
                params[f"{name}_high"] = condition.high
        else:
            parts.append(f"{value} = ANY(%({name}_values)s::jsonb[])")
            params[f"{name}_values"] = [Jsonb(v) for v in condition.values]
    return " AND ".join(parts), params
