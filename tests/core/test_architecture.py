"""The folders of genprep/ are its parts, and the imports between them follow
../shared/guides/architecture.md: the bank imports no other part; the learner
tools, the exports and the site read the bank but not each other; only the CLI
sees everything."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "genprep"

# part -> the parts it may import (itself and the shared top-level helpers always allowed)
ALLOWED = {
    "bank": set(),
    "learner": {"bank"},
    "exports": {"bank"},
    "site": {"bank"},
}
SHARED = {"datasets", "shutdown", "__init__"}  # small helpers at the top, used by several parts


def part_of(module: str) -> str | None:
    """`genprep.bank.loader` -> `bank`; top-level modules are not a part."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 2 and pieces[0] == "genprep" else None


def genprep_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    return {n for n in names if n.startswith("genprep.")}


def arrows_against_the_picture(package: Path = PACKAGE) -> list[str]:
    wrong = []
    for part, allowed in ALLOWED.items():
        for path in sorted((package / part).rglob("*.py")):
            for name in sorted(genprep_imports(path)):
                target = name.split(".")[1]
                if target in (part, *allowed) or target in SHARED:
                    continue
                wrong.append(f"{path.relative_to(package.parent)} imports {name}")
    return wrong


def test_each_part_imports_only_what_the_architecture_allows():
    assert arrows_against_the_picture() == []


def test_every_module_lives_in_a_part_or_is_a_named_shared_helper():
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top <= SHARED | {"cli", "__main__"}, f"put {sorted(top - SHARED - {'cli', '__main__'})} into a part"
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == set(ALLOWED)


def test_the_check_sees_a_wrong_arrow(tmp_path):
    """A bank module importing the site is reported (the test above can fail)."""
    (tmp_path / "genprep" / "bank").mkdir(parents=True)
    (tmp_path / "genprep" / "bank" / "bad.py").write_text("from genprep.site import generate\n", encoding="utf-8")
    assert arrows_against_the_picture(tmp_path / "genprep") == ["genprep/bank/bad.py imports genprep.site",
                                                               "genprep/bank/bad.py imports genprep.site.generate"]
