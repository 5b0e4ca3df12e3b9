"""The filter syntax: parsing, errors named by field, and Python-side matching."""

import pytest

from recommender.engine.filters import FilterError, parse_filter, parse_filter_text


def test_categories_and_attribute_forms_parse() -> None:
    item_filter = parse_filter(
        [
            ("category", "Running, Trail"),
            ("exclude_category", "Kids"),
            ("attr.brand", "Acme|Zeta"),
            ("attr.price", "10..50"),
            ("attr.waterproof", "true"),
        ]
    )
    assert item_filter.include_categories == ("Running", "Trail")
    assert item_filter.exclude_categories == ("Kids",)
    by_name = {c.name: c for c in item_filter.attributes}
    assert by_name["brand"].values == ("Acme", "Zeta")
    assert (by_name["price"].low, by_name["price"].high) == (10.0, 50.0)
    assert by_name["waterproof"].values == (True, "true")
    assert item_filter.attribute_names == ["brand", "price", "waterproof"]


def test_open_ranges_and_numeric_equality() -> None:
    item_filter = parse_filter([("attr.price", "..50"), ("attr.size", "42")])
    price, size = item_filter.attributes
    assert (price.low, price.high) == (None, 50.0)
    assert size.values == (42, "42")
    assert parse_filter([("attr.price", "10..")]).attributes[0].low == 10.0


@pytest.mark.parametrize(
    ("pairs", "field", "fragment"),
    [
        ([("attr.price", "10..x")], "attr.price", "malformed range"),
        ([("attr.price", "..")], "attr.price", "at least one bound"),
        ([("attr.price", "50..10")], "attr.price", "low > high"),
        ([("attr.", "x")], "attr.", "attribute name"),
        ([("attr.brand", "")], "attr.brand", "needs a value"),
        ([("category", " , ")], "category", "category names"),
        ([("category", "a,,b")], "category", "none empty"),
        ([("exclude_category", "a, ")], "exclude_category", "none empty"),
        ([("attr.a", "1"), ("attr.a", "2")], "attr.a", "more than once"),
    ],
)
def test_malformed_filters_name_the_field(
    pairs: list[tuple[str, str]], field: str, fragment: str
) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(pairs)
    assert any(d["field"] == field and fragment in d["message"] for d in caught.value.details)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter([("attr.price", "a..b"), ("category", ",")])
    assert {d["field"] for d in caught.value.details} == {"attr.price", "category"}


def test_matching_follows_the_documented_semantics() -> None:
    item_filter = parse_filter(
        [("category", "Running,Trail"), ("exclude_category", "Kids"), ("attr.price", "..100")]
    )
    assert item_filter.matches(["Running"], {"price": 89.0})
    assert not item_filter.matches(["Running", "Kids"], {"price": 89.0})
    assert not item_filter.matches(["Kitchen"], {"price": 89.0})
    assert not item_filter.matches(["Trail"], {"price": 120})
    assert not item_filter.matches(["Trail"], {"price": "cheap"})  # not a number: no match
    assert not item_filter.matches(["Trail"], {})
    flag = parse_filter([("attr.waterproof", "true")])
    assert flag.matches([], {"waterproof": True})
    assert not flag.matches([], {"waterproof": 1})  # JSON true is not 1
    assert parse_filter([]).is_empty


def test_boost_conditions_use_the_same_syntax() -> None:
    item_filter = parse_filter_text("category=Running&attr.brand=Acme")
    assert item_filter.matches(["Running"], {"brand": "Acme"})
    with pytest.raises(FilterError):
        parse_filter_text("colour=red")


def test_a_boost_skips_empty_category_names_a_request_refuses() -> None:
    # Boosts stay as configuration versions saved them (empty names were always skipped there);
    # a request's `a,` is refused, as the OpenAPI document states.
    boost = parse_filter_text("category=Running,&exclude_category=,Kids,,")
    assert boost.include_categories == ("Running",)
    assert boost.exclude_categories == ("Kids",)
    with pytest.raises(FilterError):
        parse_filter([("category", "Running,")])
    with pytest.raises(FilterError):
        parse_filter_text("category= , ")
