"""The operator's journeys in a real browser: log in, dashboard with charts, edit a
configuration in the form, preview, activate, roll back, revoke a key, import a file and watch
its progress."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recommender.models import Interaction, Item, Job, RecommenderConfig
from tenants.models import ApiKey, Tenant
from tests.support.demo_shop import DemoShop, load_demo_shop

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(transactional_db: Any) -> DemoShop:
    return load_demo_shop()


@pytest.fixture
def shop(demo: DemoShop) -> Tenant:
    return demo.tenant


def test_dashboard_config_form_preview_activate_and_roll_back(
    console: Any, demo: DemoShop, shop: Tenant, shot: Callable[[Any, str], Path]
) -> None:
    page = console
    page.goto(f"{page.live_url}/admin/?tenant={shop.pk}")
    items = Item.objects.for_tenant(shop).count()
    events = Interaction.objects.for_tenant(shop).count()
    assert page.locator("#count-items").inner_text().replace(",", "") == str(items)
    assert page.locator("#count-events").inner_text().replace(",", "") == str(events)
    assert page.locator("canvas.chart").count() >= 5
    shot(page, "dashboard")

    # The form starts from the active version; change one setting and save a draft.
    page.goto(f"{page.live_url}/admin/tenants/tenant/{shop.pk}/change/")
    shot(page, "tenant-page")
    page.get_by_role("link", name="Edit configuration").click()
    # Grouped fields with help text, generated from the schema; values from the active version.
    mmr = page.locator('input[name="rjf§rules§mmr_lambda"]')
    mmr.wait_for()
    assert page.get_by_text("Business rules").count() >= 1
    assert mmr.input_value() == "1"
    mmr.fill("0.7")
    page.fill("input[name=note]", "more diverse")
    shot(page, "config-form")
    page.locator("input[name=_save], button[name=_save]").first.click()
    page.wait_for_selector("text=Saved draft v2")
    draft = RecommenderConfig.objects.for_tenant(shop).get(version=2)
    assert draft.data["rules"]["mmr_lambda"] == 0.7
    assert not draft.is_active  # saving does not activate
    assert '  "rules": {' in page.locator("pre").first.inner_text()  # indentation kept

    page.get_by_role("link", name="Preview").click()
    assert "mmr_lambda" in page.locator("textarea[name=draft]").input_value()
    page.fill("input[name=user]", demo.busy_user)
    page.get_by_role("button", name="Preview").first.click()
    page.locator("#active-list").wait_for()
    # Titles and categories beside the ids.
    first = page.locator("#active-list table.served-list tr").nth(1)
    item = Item.objects.for_tenant(shop).get(external_id=first.locator(".item-id").inner_text())
    assert first.locator(".item-title").inner_text() == item.title
    assert first.locator(".item-categories").inner_text() == ", ".join(item.categories)
    shot(page, "preview")

    page.goto(f"{page.live_url}/admin/recommender/recommenderconfig/{draft.pk}/change/")
    page.get_by_role("link", name="Activate").click()
    assert "rules.mmr_lambda" in page.locator("#changes").inner_text()
    shot(page, "activate")
    page.get_by_role("button", name="Activate v2").click()
    page.wait_for_selector("text=is active")
    draft.refresh_from_db()
    assert draft.is_active

    page.get_by_role("link", name="Roll back").click()
    page.get_by_role("button", name="Activate v1").click()
    page.wait_for_selector("text=is active")
    assert RecommenderConfig.objects.for_tenant(shop).get(is_active=True).version == 1

    page.goto(
        f"{page.live_url}/admin/recommender/recommenderconfig/diff/?a="
        f"{RecommenderConfig.objects.for_tenant(shop).get(version=1).pk}&b={draft.pk}"
    )
    assert "rules.mmr_lambda" in page.locator("#changes").inner_text()
    shot(page, "diff")


def test_issue_a_key_with_chosen_scopes_and_revoke_it(
    console: Any, shop: Tenant, shot: Callable[[Any, str], Path]
) -> None:
    page = console
    page.goto(f"{page.live_url}/admin/tenants/tenant/{shop.pk}/change/")
    page.get_by_role("link", name="Issue API key").click()
    page.fill("input[name=name]", "storefront")
    page.locator("input[name=scopes][value=ingest]").uncheck()
    page.get_by_role("button", name="Issue key").click()
    raw = page.locator("#raw-key").inner_text()
    assert raw.startswith("rsk_")
    key = ApiKey.objects.get(tenant=shop, name="storefront")
    assert key.scopes == ["recommend"]
    page.get_by_role("link", name="Open the key's page").click()
    page.get_by_role("link", name="Revoke").click()
    shot(page, "revoke-key")
    page.get_by_role("button", name="Revoke key").click()
    page.wait_for_selector("text=Revoked key")
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_import_a_file_and_watch_its_progress(
    console: Any, shop: Tenant, celery_worker: Any, tmp_path: Path, shot: Callable[[Any, str], Path]
) -> None:
    page = console
    upload = tmp_path / "items.csv"
    upload.write_text("id,title\nnew-1,Rain jacket\nnew-2,Hiking boot\n", encoding="utf-8")
    page.goto(f"{page.live_url}/admin/tenants/tenant/{shop.pk}/change/")
    page.get_by_role("link", name="Import a file").click()
    page.select_option("select[name=kind]", "import_items")
    page.set_input_files("input[name=file]", str(upload))
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url("**/recommender/job/**")
    shot(page, "import-progress")
    # The page refreshes itself while the job runs.
    page.wait_for_selector("text=succeeded", timeout=60_000)
    job = Job.objects.for_tenant(shop).get(kind="import_items")
    assert job.status == "succeeded"
    assert Item.objects.for_tenant(shop).filter(external_id="new-2").exists()
