"""Read what a coding page shows straight from the source files: the reference
code of a task's names, their signatures, and the names of the task's tests."""
from __future__ import annotations

import ast
from pathlib import Path

from genprep.bank import layout
from genprep.bank.model import Bank, Question

Def = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def _defs(path: Path) -> tuple[str, dict[str, Def]]:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    return source, {n.name: n for n in tree.body
                    if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))}


def reference_code(bank: Bank, q: Question) -> str:
    """Source of the task's names in solutions/, in the order the task lists them."""
    assert q.solution
    source, defs = _defs(layout.reference_file(bank.root, q.solution.module))
    lines = source.splitlines()
    parts = []
    for name in q.solution.names:
        node = defs[name]
        start = min([d.lineno for d in node.decorator_list] + [node.lineno])
        parts.append("\n".join(lines[start - 1:node.end_lineno]))
    return "\n\n\n".join(parts)


def signatures(bank: Bank, q: Question) -> list[str]:
    """`def f(a, b=1) -> T` lines (and a class's public methods) for the contract box."""
    assert q.solution
    _, defs = _defs(layout.reference_file(bank.root, q.solution.module))
    out = []
    for name in q.solution.names:
        node = defs[name]
        if isinstance(node, ast.ClassDef):
            bases = ", ".join(ast.unparse(b) for b in node.bases)
            out.append(f"class {node.name}({bases}):")
            for m in node.body:
                if isinstance(m, ast.FunctionDef) and (not m.name.startswith("_") or m.name == "__init__"):
                    out.append(f"    def {m.name}({ast.unparse(m.args)})" + (f" -> {ast.unparse(m.returns)}" if m.returns else ""))
        else:
            returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
            out.append(f"def {node.name}({ast.unparse(node.args)}){returns}")
    return out


def test_names(bank: Bank, task: str) -> list[str]:
    path = layout.test_file(bank.root, task)
    if not path.is_file():
        return []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
