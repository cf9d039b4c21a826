"""`genprep progress` on a workspace with a solved, a failing, an untouched and a missing task."""
from __future__ import annotations

from genprep.bank.loader import load_bank
from genprep.cli import main
from genprep.learner.practice import write_stub

from conftest import CODING, TASK_TEST, write


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
