"""Learner stubs, derived from the reference source (never a hand-kept copy).

A stub keeps each required name's signature and docstring from solutions/
and replaces the body with `raise NotImplementedError`, so the contract a
learner sees is exactly the one the tests check. The module docstring gives
the task's title and contract (the first paragraph of the question's answer)
in the learner's language (genprep.learner.lang: Chinese, English or both).
"""
from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

from genprep.bank import layout
from genprep.bank.model import Bank, Question
from genprep.learner import lang as _lang

IMPORTS = """import math

import torch
import torch.nn as nn
import torch.nn.functional as F

"""

HEAD_ZH = """genprep 练习文件：任务 `{task}`。
需要定义：{names}。可以自己写辅助函数，可以导入 torch 和标准库（不要导入 solutions/）。

看题目：  genprep show {task}
检查答案：pytest --solutions {folder} -k {module}"""
HEAD_EN = """genprep practice stub for the task `{task}`.
Define: {names}. You may add helpers of your own and import torch and the
standard library (not solutions/).

Read the question:  genprep show {task}
Check your answer:  pytest --solutions {folder} -k {module}"""
HEAD_BOTH = """genprep 练习文件 · practice stub: `{task}`
需要定义 · Define: {names}
可以自己写辅助函数，可以导入 torch 和标准库（不要导入 solutions/）。
You may add helpers of your own and import torch and the standard library (not solutions/).

看题目 · Read the question:  genprep show {task}
检查答案 · Check your answer:  pytest --solutions {folder} -k {module}"""


class PracticeError(Exception):
    """A stub cannot be written; the message says why and what to do."""


def plain(markdown: str) -> str:
    """A Markdown paragraph as plain text for a docstring: no **, `, $ and no line breaks."""
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", markdown)
    text = text.replace("`", "").replace("$", "")
    return " ".join(text.split())


def contract(answer: str) -> str:
    """The first paragraph of a task's answer — its contract ("**要求**…" / "**Task**…") — as plain text."""
    return plain(answer.strip().split("\n\n", 1)[0])


def _fill(text: str, lang: str) -> str:
    """Wrap for a source file; a CJK character takes two columns, so Chinese lines hold half as many."""
    width = 50 if lang == "zh" else 100
    return "\n".join(textwrap.wrap(text, width=width, break_long_words=lang == "zh", break_on_hyphens=False))


def header(question: Question, folder: str, lang: str) -> str:
    """The stub's module docstring in `lang` ("zh", "en" or "both": Chinese first)."""
    assert question.task and question.solution
    fields = dict(task=question.task, names=", ".join(question.solution.names), folder=folder,
                  module=layout.module_name(question.task))
    zh = f"{question.title.zh}\n\n{_fill(contract(question.answer.zh), 'zh')}"
    en = f"{question.title.en}\n\n{_fill(contract(question.answer.en), 'en')}"
    if lang == "zh":
        parts = [zh, HEAD_ZH.format(**fields)]
    elif lang == "en":
        parts = [en, HEAD_EN.format(**fields)]
    else:
        parts = [zh, en, HEAD_BOTH.format(**fields)]
    # Plain text inside a docstring: backslashes (TeX) doubled, no closing quotes inside.
    body = "\n\n".join(parts).replace("\\", "\\\\").replace('"""', "'''")
    return f'"""{body}\n"""\n'


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


def stub_source(bank: Bank, question: Question, folder: str = "my_solutions", lang: str | None = None) -> str:
    """The stub of `question`'s task; its module docstring in `lang` (default: the language in force)."""
    assert question.task and question.solution
    ref = layout.reference_file(bank.root, question.solution.module)
    source = ref.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))}
    parts = [header(question, folder, lang or _lang.current()) + IMPORTS]
    for name in question.solution.names:
        if name not in defs:
            raise PracticeError(_lang.tr(f"solutions/{question.solution.module}.py does not define {name}",
                                         f"solutions/{question.solution.module}.py 没有定义 {name}"))
        parts.append("\n".join(_stub_of(defs[name], lines)) + "\n\n")
    return "\n".join(parts).rstrip() + "\n"


def write_stub(bank: Bank, task: str, folder: Path, lang: str | None = None) -> Path:
    """Write the stub for `task` into `folder`; refuses to overwrite."""
    tr = _lang.tr
    if task not in bank.tasks:
        close = sorted(t for t in bank.tasks if task.replace("_", "-") in t or t in task)
        en = f" Did you mean: {', '.join(close)}?" if close else ""
        zh = f"你是不是想找：{'、'.join(close)}？" if close else ""
        raise PracticeError(tr(f"no coding task {task!r}.{en} See all tasks with: genprep list --type coding",
                               f"没有编程任务 {task!r}。{zh}查看所有任务：genprep list --type coding"))
    path = layout.learner_file(folder, task)
    if path.exists():
        raise PracticeError(tr(f"{path} already exists; not overwriting your work. Delete or rename it to start over.",
                               f"{path} 已经存在；不会覆盖你写的内容。想重新开始，请删除它或改名。"))
    text = stub_source(bank, bank.tasks[task], folder=str(folder), lang=lang)
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
