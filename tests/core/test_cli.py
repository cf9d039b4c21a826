"""The genprep command, called in-process through its main()."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from genprep.cli import main
from genprep.loader import check_bank

CORPUS = Path(__file__).parent.parent / "corpus" / "invalid"


def test_validate_ok(checkout, capsys):
    assert main(["validate", str(checkout)]) == 0
    assert "ok: 2 questions" in capsys.readouterr().out


def test_validate_lists_every_problem_one_line_each(checkout, capsys):
    for name in ("unknown-key.yaml", "missing-en.yaml", "duplicate-key.yaml"):
        shutil.copy(CORPUS / name, checkout / "questions" / "foundations" / name)
    assert main(["validate", str(checkout)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "3 problems found."
    assert any(line.startswith("questions/foundations/unknown-key.yaml:7: [titel] unknown field") for line in err)
    assert "Traceback" not in "\n".join(err)


def test_validate_outside_a_checkout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="no questions/topics.yaml"):
        main(["validate"])


def test_list_filters(checkout, capsys):
    assert main(["list", "--root", str(checkout), "--type", "formula"]) == 0
    out = capsys.readouterr().out
    assert "good-formula" in out and "good-task" not in out
    assert main(["list", "--root", str(checkout), "--topic", "nope"]) == 2


def test_list_shows_the_topic(checkout, capsys):
    assert main(["list", "--root", str(checkout)]) == 0
    assert any(line.split()[:2] == ["good-task", "foundations"] for line in capsys.readouterr().out.splitlines())


def test_install_hints_name_the_extra_as_installed(monkeypatch, tmp_path):
    from genprep import layout
    assert layout.install_hint("anki").endswith("[anki]'")  # this checkout: an editable install
    monkeypatch.setattr(layout, "__file__", str(tmp_path / "site-packages" / "genprep" / "layout.py"))
    assert layout.install_hint("test") == "pip install 'genprep[test]'"


def test_show_both_languages(checkout, capsys):
    assert main(["show", "good-task", "--root", str(checkout)]) == 0
    out = capsys.readouterr().out
    assert "把张量乘以二" in out and "Double a tensor" in out and "genprep practice good-task" in out
    assert main(["show", "good-tsk", "--root", str(checkout)]) == 2


def test_practice_writes_a_stub_and_refuses_to_overwrite(checkout, tmp_path, capsys):
    folder = tmp_path / "mine"
    assert main(["practice", "good-task", "--dir", str(folder), "--root", str(checkout)]) == 0
    stub = (folder / "good_task.py").read_text(encoding="utf-8")
    assert "def double(x: torch.Tensor) -> torch.Tensor:" in stub
    assert 'raise NotImplementedError("write double")' in stub and "return 2 * x" not in stub
    compile(stub, "stub", "exec")
    assert main(["practice", "good-task", "--dir", str(folder), "--root", str(checkout)]) == 1
    assert "already exists; not overwriting" in capsys.readouterr().err
    assert main(["practice", "good_task2", "--dir", str(folder), "--root", str(checkout)]) == 1


def test_new_scaffolds_a_valid_file(checkout):
    args = ["new", "--root", str(checkout), "--id", "my-question", "--topic", "vae", "--type", "formula",
            "--difficulty", "hard", "--title-zh", "一个问题？", "--title-en", "A question?"]
    assert main(args) == 0
    bank, problems = check_bank(checkout)
    assert problems == [] and bank.questions["my-question"].topic == "vae"
    assert main(args) == 1  # the id is taken now


def test_new_without_a_terminal_names_the_missing_flag(checkout, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["new", "--root", str(checkout), "--topic", "vae"]) == 1
    assert "missing --id" in capsys.readouterr().err
