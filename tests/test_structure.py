"""The house rules, checked on the source: no room outside ``dataset/`` branches on a layout's name."""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "labelscope"
DATASET = SRC / "dataset"


def _sources() -> list[Path]:
    files = [p for p in SRC.rglob("*.py") if DATASET not in p.parents]
    return files + [REPO / "app.py", *sorted((REPO / "pages").glob("*.py"))]


def _names_layout(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "layout") or (
        isinstance(node, ast.Name) and node.id == "layout")


def layout_branches(path: Path) -> list[str]:
    """``x.layout == "mask"``-style comparisons (and ``in (...)`` of names) in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = path.relative_to(REPO) if REPO in path.parents else path.name
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_names_layout(o) for o in operands) and any(
                    isinstance(o, ast.Constant) and isinstance(o.value, str)
                    or isinstance(o, (ast.Tuple, ast.List, ast.Set)) for o in operands):
                hits.append(f"{name}:{node.lineno}")
        if isinstance(node, ast.keyword) and node.arg == "layouts":
            hits.append(f"{name}:{node.lineno} (layouts=)")
    return hits


def test_detector_finds_a_layout_branch(tmp_path):
    f = tmp_path / "x.py"
    f.write_text('if manifest.layout != "mask":\n    pass\nok = layout in ("csv", "folder")\n')
    assert len(layout_branches(f)) == 2


def test_no_layout_name_branch_outside_dataset():
    hits = [h for p in _sources() for h in layout_branches(p)]
    assert not hits, f"ask manifest.schema instead of the layout's name: {hits}"
