"""Learner stubs, derived from the reference source (never a hand-kept copy).

A stub keeps each required name's signature and docstring from solutions/
and replaces the body with `raise NotImplementedError`, so the contract a
learner sees is exactly the one the tests check.
"""
from __future__ import annotations

import ast
from pathlib import Path

from genprep.bank import layout
from genprep.bank.model import Bank, Question

HEADER = '''"""{title}

genprep practice stub for the task `{task}` ({title_zh}).
Define: {names}. You may add helpers of your own and import torch and the
standard library (not solutions/).

Read the question:  genprep show {task}
Check your answer:  pytest --solutions {folder} -k {module}
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

'''


class PracticeError(Exception):
    """A stub cannot be written; the message says why and what to do."""


def _head_lines(node: ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef) -> tuple[int, int]:
    """1-based line span from the first decorator to the end of the docstring (or the signature)."""
    start = min([d.lineno for d in node.decorator_list] + [node.lineno])
    first = node.body[0]
    has_doc = ast.get_docstring(node, clean=False) is not None
    end = (first.end_lineno or first.lineno) if has_doc else first.lineno - 1
    return start, end


def _stub_of(node: ast.AST, lines: list[str]) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        start, end = _head_lines(node)
        body_indent = " " * (node.col_offset + 4)
        return lines[start - 1:end] + [f'{body_indent}raise NotImplementedError("write {node.name}")']
    assert isinstance(node, ast.ClassDef)
    start, end = _head_lines(node)
    out = lines[start - 1:end]
    methods = [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for method in methods:
        out.append("")
        out += _stub_of(method, lines)
    if not methods:
        out.append(" " * (node.col_offset + 4) + "pass")
    return out


def stub_source(bank: Bank, question: Question, folder: str = "my_solutions") -> str:
    assert question.task and question.solution
    ref = layout.reference_file(bank.root, question.solution.module)
    source = ref.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))}
    parts = [HEADER.format(title=question.title.en, title_zh=question.title.zh, task=question.task,
                           names=", ".join(question.solution.names), folder=folder,
                           module=layout.module_name(question.task))]
    for name in question.solution.names:
        if name not in defs:
            raise PracticeError(f"solutions/{question.solution.module}.py does not define {name}")
        parts.append("\n".join(_stub_of(defs[name], lines)) + "\n\n")
    return "\n".join(parts).rstrip() + "\n"


def write_stub(bank: Bank, task: str, folder: Path) -> Path:
    """Write the stub for `task` into `folder`; refuses to overwrite."""
    if task not in bank.tasks:
        close = sorted(t for t in bank.tasks if task.replace("_", "-") in t or t in task)
        suggestion = f" Did you mean: {', '.join(close)}?" if close else ""
        raise PracticeError(f"no coding task {task!r}.{suggestion} See all tasks with: genprep list --type coding")
    path = layout.learner_file(folder, task)
    if path.exists():
        raise PracticeError(f"{path} already exists; not overwriting your work. "
                            f"Delete or rename it to start over.")
    text = stub_source(bank, bank.tasks[task], folder=str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
