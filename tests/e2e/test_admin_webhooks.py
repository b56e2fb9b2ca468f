"""An admin subscribes a system to case events, sees its secret once and its delivery log."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.server import login


def test_admin_subscribes_sees_deliveries_and_unsubscribes(page, world):
    login(page, world, "admin")
    page.goto(world.url("/admin/webhooks"))

    page.get_by_role("button", name="创建").click()  # nothing filled in: errors, nothing stored
    expect(page.locator(".field-errors")).to_have_count(2)
    expect(page.get_by_test_id("subscriptions")).to_contain_text("暂无订阅")

    page.locator("input[name=url]").fill("http://127.0.0.1:9/cim-receiver")
    page.locator("input[value='case.started']").check()
    page.get_by_role("button", name="创建").click()
    expect(page.get_by_test_id("new-secret")).to_contain_text("whsec_")
    expect(page.get_by_test_id("subscriptions")).to_contain_text("http://127.0.0.1:9/cim-receiver")

    page.reload()  # the secret is shown once only
    expect(page.get_by_test_id("new-secret")).to_have_count(0)

    case_number = world.start_case("ent.a", "琶洲 Webhook 测试项目")
    page.get_by_role("link", name="投递记录").click()
    deliveries = page.get_by_test_id("deliveries")
    expect(deliveries).to_contain_text("case.started")
    expect(deliveries).to_contain_text(case_number)

    page.goto(world.url("/admin/webhooks"))
    page.get_by_role("button", name="删除").click()
    expect(page.get_by_test_id("subscriptions")).to_contain_text("暂无订阅")
