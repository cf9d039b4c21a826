"""The real bank: coverage of the source questions and the task contract, counts, parity, references."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from genprep.bank.loader import check_bank

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "spec"


@pytest.fixture(scope="module")
def bank():
    # Every content rule (both languages, references, the schema modeline, formulas verified by a related
    # task, placeholders, LaTeX) is a rule of `genprep validate`: a valid bank satisfies them all.
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
    from genprep.bank import layout
    first_wave = set(contract_tasks("coding-tasks.md"))
    for task in bank.tasks:
        at_least = 3 if task in first_wave else 4
        found = len(layout.wrong_variants(ROOT, task))
        assert found >= at_least, f"{task} has {found} known-wrong variants; it needs at least {at_least}"


def test_counts_and_difficulty_spread(bank):
    # A policy of this bank, not a validity rule: `genprep validate` accepts a new topic's first questions.
    assert len(bank.questions) >= 250
    for t in bank.topics:
        levels = {q.difficulty for q in bank.in_topic(t.id)}
        assert levels == {"easy", "medium", "hard"}, f"topic {t.id} has only {sorted(levels)}"


def test_the_syllabus_has_every_area_and_subject_of_the_spec(bank):
    """questions/syllabus.yaml mirrors shared/spec/syllabus.md: one area per '## N.' heading, one subject per bullet,
    in order (the English title is the bullet's lead or its first words)."""
    spec_areas: list[tuple[str, list[str]]] = []
    for line in _spec("syllabus.md").splitlines():
        if m := re.match(r"## \d+\. (.+)", line):
            spec_areas.append((m.group(1).strip(), []))
        elif line.startswith("- ") and spec_areas:
            spec_areas[-1][1].append(line[2:])
    assert [a.title.en for a in bank.syllabus] == [name for name, _ in spec_areas]
    for area, (_, bullets) in zip(bank.syllabus, spec_areas):
        assert len(area.subjects) == len(bullets), f"{area.id}: {len(area.subjects)} subjects, spec has {len(bullets)}"
        for subject, bullet in zip(area.subjects, bullets):
            words = re.findall(r"[A-Za-z0-9]+", subject.title.en.lower())
            assert any(w in bullet.lower() for w in words), f"{subject.id} does not match the bullet {bullet[:60]!r}"
