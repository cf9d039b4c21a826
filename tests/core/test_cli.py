"""The genprep command, called in-process through its main()."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from genprep.bank.loader import check_bank
from genprep.bank.tidy import MODELINE
from genprep.cli import main

CORPUS = Path(__file__).parent.parent / "corpus" / "invalid"


def test_validate_ok(checkout, capsys):
    assert main(["validate", str(checkout)]) == 0
    assert "ok: 2 questions" in capsys.readouterr().out


def test_validate_lists_every_problem_one_line_each(checkout, capsys):
    for name in ("unknown-key.yaml", "missing-en.yaml", "duplicate-key.yaml"):
        text = MODELINE + "\n" + (CORPUS / name).read_text(encoding="utf-8")
        (checkout / "questions" / "foundations" / name).write_text(text, encoding="utf-8")
    (checkout / "questions" / "foundations" / "unknown-key.yaml").write_text(
        (checkout / "questions" / "foundations" / "unknown-key.yaml").read_text(encoding="utf-8")
        + "related: [no-such-question]\n", encoding="utf-8")
    assert main(["validate", str(checkout)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    # All in one run, sorted by file and line: the dangling `related` of a file that also has a
    # problem of its own is reported now, not after the first fix.
    assert err[-1] == "4 problems found.", err
    assert err[:-1] == sorted(err[:-1], key=lambda line: (line.split(":")[0], int(line.split(":")[1])))
    assert any(line.startswith("questions/foundations/unknown-key.yaml:8: [titel] unknown field") for line in err)
    assert any("unknown-key.yaml" in line and "no-such-question" in line for line in err)
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
    from genprep.bank import layout
    assert layout.install_hint("anki").endswith("[anki]'")  # this checkout: an editable install
    monkeypatch.setattr(layout, "__file__", str(tmp_path / "site-packages" / "genprep" / "bank" / "layout.py"))
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


def test_new_scaffolds_a_file_whose_placeholders_validate_names(checkout):
    args = ["new", "--root", str(checkout), "--id", "my-question", "--topic", "vae", "--type", "formula",
            "--difficulty", "hard", "--title-zh", "一个问题？", "--title-en", "A question?"]
    assert main(args) == 0
    assert main(args) == 1  # the id is taken now
    bank, problems = check_bank(checkout)
    assert "my-question" not in bank.questions  # a question with problems stays out of the bank
    flagged = {p.field for p in problems if p.path.name == "my-question.yaml"}
    # An untouched scaffold passes nothing: every placeholder is named, and so is what a hard question lacks.
    assert {"answer.zh", "answer.en", "pitfalls[0].zh", "pitfalls[0].en", "hints[0].zh", "hints[0].en",
            "formula", "verified_by", "references", "follow_ups[0].question.zh", "follow_ups[0].question.en",
            "follow_ups[0].answer.zh", "follow_ups[0].answer.en"} <= flagged, flagged

    path = checkout / "questions" / "vae" / "my-question.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(formula="y = 2x", verified_by="good-task", related=["good-task"],
                answer={"zh": "翻倍：$y=2x$，对每个元素乘以二。", "en": "Doubling: $y=2x$, twice every element."},
                pitfalls=[{"zh": "把翻倍写成平方。", "en": "Writing the square instead of the double."}],
                hints=[{"zh": "乘以二。", "en": "Multiply by two."}],
                follow_ups=[{"question": {"zh": "为什么不是平方？", "en": "Why not the square?"},
                             "answer": {"zh": "平方改变了增长速度。", "en": "Squaring changes the growth rate."}}],
                references=[{"title": "Attention Is All You Need", "authors": "Vaswani et al.", "year": 2017,
                             "arxiv": "1706.03762"}])
    path.write_text(MODELINE + "\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert [p.format() for p in check_bank(checkout)[1]] == []


def test_new_without_a_terminal_names_the_missing_flag(checkout, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["new", "--root", str(checkout), "--topic", "vae"]) == 1
    assert "missing --id" in capsys.readouterr().err


def test_check_tests_details_are_cut_after_a_word_never_inside_a_number():
    from genprep.cli import _shorten
    detail = "rejected — test_x: f(x) is wrong at 3 of 4 entries; worst at index (1,): got 0.123456, expected " + "9" * 300
    short = _shorten(detail, limit=100)
    assert short.endswith(" …") and len(short) <= 102
    assert short[:-2].split()[-1] in detail.split()  # the last word kept is whole


def test_anki_decks_written_in_a_checkout_are_not_committed():
    import subprocess
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    ignored = subprocess.run(["git", "check-ignore", "-q", "genprep.apkg"], cwd=root)
    if ignored.returncode == 128:
        pytest.skip("not a git checkout")
    assert ignored.returncode == 0, "genprep anki's default output genprep.apkg is not ignored by git"


def test_plan_lists_every_syllabus_subject_with_its_questions(capsys):
    from genprep.bank.loader import load_bank
    bank = load_bank(Path(__file__).resolve().parents[2], check_code=False)
    assert main(["plan", "--lang", "en", "--questions", "--root", str(bank.root)]) == 0
    out = capsys.readouterr().out
    for area in bank.syllabus:
        assert area.title.en in out
        for subject in area.subjects:
            assert subject.title.en in out
            assert all(q.id in out for q in bank.teaching(subject.id))


def test_plan_without_a_syllabus_says_so(checkout, capsys):
    assert main(["plan", "--root", str(checkout)]) == 2
    assert "no questions/syllabus.yaml" in capsys.readouterr().err


def test_show_prints_the_follow_ups_with_their_answers(checkout, capsys):
    path = checkout / "questions" / "foundations" / "good-formula.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "follow_ups:\n  - question: {zh: 为什么是二？, en: Why two?}\n"
                    "    answer: {zh: 因为要加倍。, en: Because it doubles.}\n", encoding="utf-8")
    assert main(["show", "good-formula", "--lang", "en", "--root", str(checkout)]) == 0
    out = capsys.readouterr().out
    assert "## Follow-ups" in out and "1. Why two?" in out and "Because it doubles." in out
