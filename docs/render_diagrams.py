"""Render every processes/*.bpmn to docs/diagrams/<key>.png with bpmn-js in headless Chromium.

Run after `make run` (or `npm ci && python3 engine/web/build_assets.py`):
    .venv/bin/python docs/render_diagrams.py
"""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "engine" / "web" / "static" / "vendor" / "bpmn-js"
OUT = ROOT / "docs" / "diagrams"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<style>{css}</style><style>html,body{{margin:0;background:#fff}} #canvas{{width:2400px;height:1200px}}
.djs-palette{{display:none}}</style></head>
<body><div id="canvas"></div><script>{js}</script></body></html>"""


def render() -> list[Path]:
    css = (VENDOR / "diagram-js.css").read_text() + (VENDOR / "bpmn-js.css").read_text()
    page_html = PAGE.format(css=css, js=(VENDOR / "bpmn-viewer.js").read_text())
    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 2400, "height": 1200}, device_scale_factor=1)
        for bpmn in sorted((ROOT / "processes").glob("*.bpmn")):
            page.set_content(page_html)
            box = page.evaluate(
                """async (xml) => {
                    const viewer = new BpmnJS({ container: '#canvas' });
                    await viewer.importXML(xml);
                    const canvas = viewer.get('canvas');
                    canvas.zoom('fit-viewport');
                    const vb = canvas.viewbox();
                    return { w: Math.ceil(vb.inner.width * vb.scale) + 40, h: Math.ceil(vb.inner.height * vb.scale) + 40 };
                }""",
                bpmn.read_text(encoding="utf-8"),
            )
            target = OUT / f"{bpmn.stem}.png"
            page.screenshot(
                path=str(target),
                clip={"x": 0, "y": 0, "width": min(2400, box["w"]), "height": min(1200, box["h"])},
            )
            written.append(target)
        browser.close()
    return written


if __name__ == "__main__":
    print(json.dumps([str(p.relative_to(ROOT)) for p in render()], indent=1))
