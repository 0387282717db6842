"""Layer rules: engine/, storage/ and lpr/ never import Textual; screens never import storage.

Checked twice: statically (every import statement in the source) and at run time (importing every
module of those layers in a fresh interpreter leaves ``textual`` out of ``sys.modules``).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "imtui"
CORE = ("engine", "storage", "lpr")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            names.add("." * node.level + (node.module or ""))
    return names


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


def test_core_layers_never_import_textual_in_source() -> None:
    offenders = [
        f"{p.relative_to(SRC)}: {name}"
        for package in CORE
        for p in _modules(package)
        for name in _imports(p)
        if name.split(".")[0] in ("textual", "rich", "textual_image")
    ]
    assert offenders == []


def test_screens_never_import_storage() -> None:
    offenders = [
        f"{p.relative_to(SRC)}: {name}"
        for p in _modules("screens")
        for name in _imports(p)
        if name.startswith("imtui.storage") or name.lstrip(".").startswith("storage")
    ]
    assert offenders == []


def test_core_layers_never_import_textual_at_run_time() -> None:
    modules = [
        "imtui." + ".".join(p.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        for package in CORE
        for p in _modules(package)
        if "migrations" not in p.parts
    ]
    code = (
        "import sys\n"
        f"for m in {modules!r}: __import__(m)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert len(modules) >= 10
    assert result.stdout.strip() == ""


def test_the_check_would_catch_an_offender(tmp_path) -> None:  # noqa: ANN001
    bad = tmp_path / "bad.py"
    bad.write_text("from textual.widgets import Static\nimport rich\n")
    assert {"textual.widgets", "rich"} <= _imports(bad)
