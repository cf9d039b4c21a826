"""`genprep progress` on a workspace with a solved, a failing, an untouched and a missing task."""
from __future__ import annotations

import pytest
from _checkout import CODING, TASK_TEST, write

from genprep.bank.loader import load_bank
from genprep.cli import main
from genprep.learner.practice import write_stub


@pytest.fixture(autouse=True)
def _english(monkeypatch):
    monkeypatch.setenv("GENPREP_LANG", "en")


def add_task(root, task):
    write(root / "questions" / "foundations" / f"{task}.yaml", CODING.replace("good-task", task))
    write(root / "tests" / "tasks" / f"test_{task.replace('-', '_')}.py", TASK_TEST)
    for name in ("a", "b", "c"):
        write(root / "tests" / "wrong" / task.replace("-", "_") / f"{name}.py", "def double(x):\n    return x\n")


def test_progress_table(checkout, tmp_path, capsys):
    for task in ("task-b", "task-c", "task-d"):
        add_task(checkout, task)
    mine = tmp_path / "mine"
    write(mine / "good_task.py", "def double(x):\n    return 2 * x\n")          # solved
    write(mine / "task_b.py", "def double(x):\n    return 3 * x\n")             # failing
    write_stub(load_bank(checkout), "task-c", mine)                              # not attempted
    # task-d has no file: not started
    assert main(["progress", "--root", str(checkout), "--solutions", str(mine), "-v"]) == 0
    out = capsys.readouterr().out
    assert "solved         good-task" in out
    assert "failing        task-b" in out
    assert "not attempted  task-c" in out
    assert "not started    task-d" in out
    total = [line for line in out.splitlines() if line.startswith("total")][0].split()
    assert total[1:] == ["1", "1", "1", "1"]
    # --last reads the stored run without running pytest again
    (mine / "task_b.py").write_text("def double(x):\n    return 2 * x\n", encoding="utf-8")
    assert main(["progress", "--root", str(checkout), "--solutions", str(mine), "--last", "-v"]) == 0
    assert "failing        task-b" in capsys.readouterr().out


def test_progress_without_pytest_names_the_extra(checkout, tmp_path, capsys, monkeypatch):
    import importlib.util
    mine = tmp_path / "mine"
    mine.mkdir()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pytest" else real(name, *a))
    assert main(["progress", "--root", str(checkout), "--solutions", str(mine)]) == 1
    err = capsys.readouterr().err
    assert "need pytest" in err and "[test]" in err


def test_progress_without_a_folder(checkout, tmp_path, capsys):
    assert main(["progress", "--root", str(checkout), "--solutions", str(tmp_path / "none")]) == 1
    assert "genprep practice" in capsys.readouterr().err


def test_progress_table_in_chinese_and_in_both(checkout, tmp_path, capsys, monkeypatch):
    mine = tmp_path / "mine"
    write(mine / "good_task.py", "def double(x):\n    return 2 * x\n")
    assert main(["progress", "--root", str(checkout), "--solutions", str(mine), "-v", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "已解决" in out and "未开始" in out and "合计" in out and "已解决  good-task" in out
    assert "solved" not in out and "total" not in out
    monkeypatch.setenv("GENPREP_LANG", "both")
    assert main(["progress", "--root", str(checkout), "--solutions", str(mine), "--last", "-v"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["主题", "已解决"] and lines[1].split()[:2] == ["topic", "solved"]
    assert any(line.split()[:3] == ["已解决", "solved", "good-task"] for line in lines)
    assert [line for line in lines if line.startswith("合计 total")][0].split()[2:] == ["1", "0", "0", "0"]


def test_progress_refuses_an_unknown_language_in_the_environment(checkout, tmp_path, capsys, monkeypatch):
    (tmp_path / "mine").mkdir()
    monkeypatch.setenv("GENPREP_LANG", "fr")
    assert main(["progress", "--root", str(checkout), "--solutions", str(tmp_path / "mine"), "--last"]) == 2
    assert "GENPREP_LANG='fr'" in capsys.readouterr().err


@pytest.mark.parametrize("chosen, present, absent", [
    ("zh", ["把张量乘以二", "返回 2x。", "需要定义：double", "检查答案："], ["Double a tensor", "Define:"]),
    ("en", ["Double a tensor", "Return 2x.", "Define: double"], ["把张量乘以二", "需要定义"]),
    ("both", ["把张量乘以二", "返回 2x。", "Double a tensor", "Return 2x.", "需要定义 · Define: double"], []),
])
def test_practice_stub_in_each_language(checkout, tmp_path, capsys, chosen, present, absent):
    import ast
    assert main(["practice", "good-task", "--root", str(checkout), "--dir", str(tmp_path / chosen),
                 "--lang", chosen]) == 0
    text = (tmp_path / chosen / "good_task.py").read_text(encoding="utf-8")
    ast.parse(text)
    doc = text.split('"""')[1]
    assert all(p in doc for p in present), doc
    assert not any(a in doc for a in absent), doc
    assert "$" not in doc  # plain text, no Markdown
    if chosen == "both":
        assert doc.index("把张量乘以二") < doc.index("Double a tensor")
    assert 'raise NotImplementedError("write double")' in text
    printed = capsys.readouterr().out
    assert ("已写入" in printed) == (chosen != "en") and ("wrote" in printed) == (chosen != "zh")
