"""A minimal genprep checkout for the core tests (a module of its own: importing `conftest` by name would
depend on which of the test folders' conftest.py Python imported first)."""
from __future__ import annotations

import textwrap
from pathlib import Path

TOPICS = """\
- id: foundations
  title: {zh: 基础, en: Foundations}
  summary: {zh: 基础知识。, en: The basics.}
- id: vae
  title: {zh: 变分自编码器, en: VAE}
  summary: {zh: VAE 相关。, en: About VAEs.}
"""

MODELINE = "# yaml-language-server: $schema=../../schema/question.schema.json"

CODING = MODELINE + """
id: good-task
type: coding
task: good-task
solution: {module: mod, names: [double]}
topic: foundations
difficulty: easy
title: {zh: 把张量乘以二, en: Double a tensor}
answer:
  zh: 返回 $2x$。
  en: Return $2x$.
"""

FORMULA = MODELINE + """
id: good-formula
type: formula
topic: foundations
difficulty: medium
formula: y = 2x
verified_by: good-task
title: {zh: 翻倍公式, en: The doubling formula}
answer:
  zh: |
    翻倍：
    $$y = 2x$$
  en: |
    Doubling:
    $$y = 2x$$
related: [good-task]
references:
  - {title: Attention Is All You Need, authors: Vaswani et al., year: 2017, arxiv: "1706.03762"}
"""

REFERENCE = '''\
"""A toy module."""
import torch


def double(x: torch.Tensor) -> torch.Tensor:
    """Return 2 * x."""
    return 2 * x
'''

TASK_TEST = '''\
import torch

from genprep.learner.checks import expect_close


def test_doubles(impl):
    x = torch.arange(4.0)
    expect_close(impl.double(x), 2 * x, "double(arange(4))", hint="multiply by two")


def test_keeps_shape(impl):
    assert impl.double(torch.zeros(2, 3)).shape == (2, 3)
'''


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path





def make_checkout(root: Path) -> Path:
    write(root / "questions" / "topics.yaml", TOPICS)
    write(root / "questions" / "foundations" / "good-task.yaml", CODING)
    write(root / "questions" / "foundations" / "good-formula.yaml", FORMULA)
    write(root / "solutions" / "__init__.py", "")
    write(root / "solutions" / "mod.py", REFERENCE)
    write(root / "tests" / "tasks" / "test_good_task.py", TASK_TEST)
    for name, body in (("triple", "3 * x"), ("identity", "x"), ("square", "x * x")):
        write(root / "tests" / "wrong" / "good_task" / f"{name}.py",
              f'"""Known-wrong: {name}."""\n\n\ndef double(x):\n    return {body}\n')
    return root
