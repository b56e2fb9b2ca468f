"""Copy the browser bundles installed by `npm ci` into engine/web/static/vendor/.

Run from the repository root after `npm ci`: `python3 engine/web/build_assets.py`
(or `npm run build`). No network: it only copies files out of node_modules/.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"
VENDOR = Path(__file__).resolve().parent / "static" / "vendor"

# (package, path inside the package, destination inside vendor/)
ASSETS = (
    ("bpmn-js", "dist/bpmn-modeler.production.min.js", "bpmn-js/bpmn-modeler.js"),
    ("bpmn-js", "dist/bpmn-navigated-viewer.production.min.js", "bpmn-js/bpmn-viewer.js"),
    ("bpmn-js", "dist/assets/diagram-js.css", "bpmn-js/diagram-js.css"),
    ("bpmn-js", "dist/assets/bpmn-js.css", "bpmn-js/bpmn-js.css"),
    ("bpmn-js", "dist/assets/bpmn-font", "bpmn-js/bpmn-font"),
    ("dmn-js", "dist/dmn-modeler.production.min.js", "dmn-js/dmn-modeler.js"),
    ("dmn-js", "dist/assets", "dmn-js/assets"),
)


def build(node_modules: Path = NODE_MODULES, vendor: Path = VENDOR) -> list[Path]:
    """Copy every asset; raises FileNotFoundError naming the package when npm ci was not run."""
    written = []
    for package, source, target in ASSETS:
        src = node_modules / package / source
        if not src.exists():
            raise FileNotFoundError(f"{src} is missing: run `npm ci` first ({package})")
        dst = vendor / target
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)
        written.append(dst)
    return written


def main() -> int:
    try:
        written = build()
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 1
    for path in written:
        print(f"copied {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
