"""The real bank: coverage of the source questions and the task contract, counts, parity, references."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from genprep.loader import check_bank

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "spec"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def bank():
    bank, problems = check_bank(ROOT)
    assert problems == [], "the bank has problems; run `genprep validate`:\n" + "\n".join(p.format(ROOT) for p in problems[:20])
    return bank


def _spec(name: str) -> str:
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"{path} not found (the shared specs sit beside the checkout)")
    return path.read_text(encoding="utf-8")


def source_rows() -> list[tuple[str, list[str], str]]:
    """(row number, suggested ids, errors text) for every numbered row of source-questions.md."""
    rows = []
    for line in _spec("source-questions.md").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].isdigit():
            ids = [i for c in cells[2:3] for i in re.findall(r"`([a-z0-9-]+)`", c)]
            rows.append((cells[0], ids, cells[3] if len(cells) > 3 else ""))
    return rows


def contract_tasks(spec: str = "coding-tasks.md") -> list[str]:
    return re.findall(r"^\| `([a-z0-9-]+)` \|", _spec(spec), flags=re.M)


def test_every_source_question_exists(bank):
    rows = source_rows()
    assert len(rows) >= 60
    missing = [(n, i) for n, ids, _ in rows for i in ids if i not in bank.questions]
    assert missing == [], f"source questions without a question in the bank: {missing}"


def test_every_source_error_is_a_pitfall(bank):
    # Rows whose notes/errors column records mistakes must carry pitfalls.
    for number, ids, errors in source_rows():
        if re.search(r"wrong|error|bug|incomplete|nonsense|not a|does not exist|false|spurious|broken|weak", errors, re.I):
            for qid in ids:
                assert bank.questions[qid].pitfalls, f"row {number}: {qid} records no pitfalls"


@pytest.mark.parametrize("spec, at_least", [("coding-tasks.md", 36), ("coding-tasks-2.md", 51)])
def test_every_contract_task_is_a_coding_question(bank, spec, at_least):
    tasks = contract_tasks(spec)
    assert len(tasks) >= at_least
    missing = [t for t in tasks if t not in bank.tasks]
    assert missing == [], f"tasks of {spec} without a coding question: {missing}"


def test_every_task_has_known_wrong_variants(bank):
    from genprep import layout
    first_wave = set(contract_tasks("coding-tasks.md"))
    for task in bank.tasks:
        at_least = 3 if task in first_wave else 4
        found = len(layout.wrong_variants(ROOT, task))
        assert found >= at_least, f"{task} has {found} known-wrong variants; it needs at least {at_least}"


def test_counts_and_difficulty_spread(bank):
    assert len(bank.questions) >= 200
    for t in bank.topics:
        levels = {q.difficulty for q in bank.in_topic(t.id)}
        assert levels == {"easy", "medium", "hard"}, f"topic {t.id} has only {sorted(levels)}"


def test_both_languages_really_are_both_languages(bank):
    for q in bank.questions.values():
        for field in ("title", "answer"):
            text = getattr(q, field)
            assert CJK.search(text.zh), f"{q.id}: {field}.zh has no Chinese"
            cjk_share = len(CJK.findall(text.en)) / max(1, len(text.en))
            assert cjk_share < 0.02, f"{q.id}: {field}.en looks Chinese"
        ratio = len(q.answer.zh) / max(1, len(q.answer.en))
        assert 0.2 < ratio < 1.5, f"{q.id}: the zh and en answers differ a lot in length (ratio {ratio:.2f}); is one incomplete?"


def test_formula_questions_name_a_verifying_task(bank):
    for q in bank.questions.values():
        if q.type == "formula":
            assert q.verified_by in bank.tasks


MADE_UP = re.compile(r"Feynman-Varianz|Beglia|Lavrychev|Natural Language Generation with Transformers", re.I)


def test_no_made_up_references(bank):
    for q in bank.questions.values():
        for r in q.references:
            assert not MADE_UP.search(f"{r.title} {r.authors}"), f"{q.id}: {r.title}"
            assert r.arxiv != "1406.2866", f"{q.id}: the GAN paper is arXiv:1406.2661"
            if r.title.lower().startswith("variational autoencoders") and "Kingma" in r.authors:
                pytest.fail(f"{q.id}: Kingma & Welling's VAE is the paper Auto-Encoding Variational Bayes (1312.6114)")


def test_non_trivial_questions_cite_something(bank):
    lacking = [q.id for q in bank.questions.values() if q.difficulty != "easy" and not q.references]
    assert lacking == [], f"medium/hard questions without a reference: {lacking}"


def test_question_files_point_editors_at_the_schema(bank):
    from genprep.tidy import MODELINE
    for q in bank.questions.values():
        first = q.path.read_text(encoding="utf-8").split("\n", 1)[0]
        assert first == MODELINE, f"{q.path.name}: run `python -m genprep.tidy {q.path}`"
