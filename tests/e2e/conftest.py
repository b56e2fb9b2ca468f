"""Browser tests: the real app served by werkzeug in a thread, driven by headless Chromium.

Chromium is /usr/bin/chromium (never downloaded). When it cannot start the tests skip, unless
PAZHOU_REQUIRE_BROWSER=1, in which case they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, serve

REQUIRE_BROWSER = os.environ.get("PAZHOU_REQUIRE_BROWSER") == "1"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


VENDOR = Path(__file__).resolve().parents[2] / "engine" / "web" / "static" / "vendor"


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    if not (VENDOR / "bpmn-js" / "bpmn-modeler.js").is_file():
        pytest.fail("bpmn-js is not built: run `npm ci && python3 engine/web/build_assets.py`")
    with serve(tmp_path_factory.mktemp("e2e")) as running:
        yield running


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is a dev dependency
        if REQUIRE_BROWSER:
            pytest.fail(f"playwright is not installed: {exc}")
        pytest.skip("playwright is not installed")
    manager = sync_playwright().start()
    try:
        chromium = manager.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
    except Exception as exc:
        manager.stop()
        if REQUIRE_BROWSER:
            pytest.fail(f"Chromium could not start ({CHROMIUM}): {exc}")
        pytest.skip(f"Chromium could not start ({CHROMIUM}): {exc}")
    yield chromium
    chromium.close()
    manager.stop()


@pytest.fixture
def page(browser, world):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
