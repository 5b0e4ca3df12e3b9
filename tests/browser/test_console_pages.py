"""The operator's A/B test and catalogue pages in a real browser: start an experiment of two
configuration versions from the admin, read its results (lift with its interval, the z-test's
p-value, the sample-ratio check), stop it and promote a variant; an item's page and an end
user's page with titles."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recommender.engine.config_schema import merge_config
from recommender.models import EndUser, Experiment, Item
from recommender.services.config import active_config, active_config_version, config_save
from tests.support.demo_shop import DemoShop, load_demo_shop, simulate_experiment_traffic

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(transactional_db: Any) -> DemoShop:
    return load_demo_shop()


def test_start_an_ab_test_read_its_results_stop_and_promote(
    console: Any, demo: DemoShop, shot: Callable[[Any, str], Path]
) -> None:
    page, shop = console, demo.tenant
    control = active_config_version(shop)
    assert control is not None
    capped = config_save(
        tenant=shop,
        data=merge_config(active_config(shop), {"rules": {"max_per_category": 1}}),
        activate=False,
        note="one item per category",
    )

    page.goto(f"{page.live_url}/admin/recommender/experiment/add/")
    page.select_option("select[name=tenant]", str(shop.pk))
    page.fill("input[name=name]", "One per category")
    for row, (name, config, share) in enumerate([("A", control, "1"), ("B", capped, "1")]):
        page.fill(f"input[name=variants-{row}-position]", str(row))
        page.fill(f"input[name=variants-{row}-name]", name)
        page.select_option(f"select[name=variants-{row}-config]", str(config.pk))
        page.fill(f"input[name=variants-{row}-share]", share)
    shot(page, "experiment-form")
    page.locator("input[name=_save], button[name=_save]").first.click()
    page.get_by_role("link", name="Results").first.click()
    page.get_by_role("button", name="Start").click()
    page.wait_for_selector("#status:text('running')")
    experiment = Experiment.objects.for_tenant(shop).get()
    assert [(v.name, v.config_id) for v in experiment.variants.order_by("position")] == [
        ("A", control.pk),
        ("B", capped.pk),
    ]

    lists = simulate_experiment_traffic(demo, lists_per_user=10, click_every={"A": 5, "B": 3})
    page.reload()
    rows = page.locator("#variants tbody tr")
    assert rows.count() == 2
    shown = [int(rows.nth(n).locator("td").nth(3).inner_text()) for n in range(2)]
    assert sum(shown) == lists
    treated = rows.nth(1).locator("td")
    lift = treated.nth(6).inner_text()  # click-through lift [low, high]
    assert "[" in lift
    assert lift.split(" [")[0].replace(".", "").lstrip("-").isdigit()
    assert 0 <= float(treated.nth(7).inner_text()) <= 1  # the z-test's p-value
    assert "Sample ratio check" in page.locator("#content-main").inner_text()
    assert "chi-square" in page.locator("#content-main").inner_text()
    shot(page, "experiment-results")

    page.get_by_role("button", name="Stop").click()
    page.wait_for_selector("#status:text('stopped')")
    page.get_by_role("button", name="Promote B").click()
    page.wait_for_selector("text=Variant B's configuration is now active")
    experiment.refresh_from_db()
    assert experiment.winner is not None
    assert experiment.winner.name == "B"
    assert active_config_version(shop) == capped


def test_the_item_and_end_user_pages(
    console: Any, demo: DemoShop, shot: Callable[[Any, str], Path]
) -> None:
    page, shop = console, demo.tenant
    titles = dict(Item.objects.for_tenant(shop).values_list("external_id", "title"))
    item = Item.objects.for_tenant(shop).get(external_id=demo.busy_item)
    page.goto(f"{page.live_url}/admin/recommender/item/{item.pk}/change/")
    vectors = page.locator("#item-vectors").inner_text()
    assert "covers this item" in vectors
    assert "up to date" in vectors
    similar = page.locator("#item-similar table.served-list tr")
    assert similar.count() == 11  # a header and ten items
    for n in range(1, 11):
        row = similar.nth(n)
        assert (
            row.locator(".item-title").inner_text() == titles[row.locator(".item-id").inner_text()]
        )
    assert page.locator("#item-events tbody tr").count() >= 1
    shot(page, "item-page")

    user = EndUser.objects.for_tenant(shop).get(external_id=demo.busy_user)
    page.goto(f"{page.live_url}/admin/recommender/enduser/{user.pk}/change/")
    listed = page.locator("#user-recommendations table.served-list tr")
    assert listed.count() == 11
    first = listed.nth(1)
    assert (
        first.locator(".item-title").inner_text() == titles[first.locator(".item-id").inner_text()]
    )
    assert first.locator(".why").inner_text()  # the explanation
    events = page.locator("#user-events tbody tr")
    assert events.count() >= 1
    assert events.nth(0).locator("td").nth(2).inner_text() in titles.values()
    shot(page, "user-page")

    # The sidebar names the two kinds of users apart.
    sidebar = page.locator("#nav-sidebar, nav, aside").first.inner_text()
    assert "End users" in sidebar
    assert "Operators" in sidebar
