"""Screenshots of the main pages (zh) for the README: `python -m tests.e2e.screenshots`.

Run by hand after a UI change, not by the test suite; writes docs/screenshots/*.png.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, NOW, login, serve

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _shoot(page, name: str, full_page: bool = True) -> None:
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    print(f"wrote {path.relative_to(OUT.parents[1])}")


def _wait_diagram(page) -> None:
    page.wait_for_selector("[data-loaded=true]")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, serve(Path(folder)) as world:
        # Cases received 2, 9, 13 and 20 days ago, so the inbox shows every SLA colour.
        numbers = [
            world.start_case("ent.a", name, at=NOW - timedelta(days=days))
            for name, days in (
                ("琶洲数字经济总部大楼", 2),
                ("琶洲会展配套商业综合体", 9),
                ("海珠湾滨江住宅一期", 13),
                ("琶洲西区人工智能产业园", 20),
            )
        ]
        world.start_case("ent.b", "海珠建设发展滨江商务中心")
        world.complete(numbers[0], "Task_fire_review")
        world.complete(numbers[0], "Task_civil_defense_review")
        with sync_playwright() as manager:
            browser = manager.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            context = browser.new_context(locale="zh-CN", viewport=LAPTOP)
            page = context.new_page()
            page.goto(world.url("/login"))
            _shoot(page, "login", full_page=False)

            login(page, world, "fire.officer")
            _shoot(page, "officer-inbox")
            page.locator("tr[data-task-id] a[href*='/tasks/']").nth(1).click()
            page.select_option("select[name=result]", "fail")
            page.get_by_test_id("complete").click()
            _wait_diagram(page)
            _shoot(page, "task-form-errors")
            context.close()

            context = browser.new_context(locale="zh-CN", viewport=LAPTOP)
            page = context.new_page()
            login(page, world, "ent.a")
            _shoot(page, "enterprise-my-cases")
            page.goto(world.url(f"/cases/{numbers[0]}"))
            _wait_diagram(page)
            _shoot(page, "enterprise-case")
            context.close()

            context = browser.new_context(locale="zh-CN", viewport=LAPTOP)
            page = context.new_page()
            login(page, world, "analyst")
            page.goto(world.url("/modeler/web_review"))
            _wait_diagram(page)
            page.locator(".djs-element[data-element-id='Task_fire_review']").click()
            _shoot(page, "analyst-modeler")
            context.close()

            context = browser.new_context(locale="zh-CN", viewport=LAPTOP)
            page = context.new_page()
            login(page, world, "admin")
            _shoot(page, "admin-users")
            context.close()

            context = browser.new_context(
                locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True
            )
            page = context.new_page()
            login(page, world, "fire.officer")
            _shoot(page, "phone-officer-inbox")
            context.close()
            context = browser.new_context(
                locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True
            )
            page = context.new_page()
            login(page, world, "ent.a")
            page.goto(world.url(f"/cases/{numbers[0]}"))
            _wait_diagram(page)
            _shoot(page, "phone-enterprise-case")
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
