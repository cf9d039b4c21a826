"""`genprep new`: write a question file with every field in place and placeholders where the author
writes; `genprep validate` names each placeholder still left, so an untouched scaffold never passes."""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

from genprep.bank.loader import SLUG, check_bank
from genprep.bank.schema import DIFFICULTIES, PLACEHOLDER_FORMULA, PLACEHOLDER_TASK, PLACEHOLDER_TEXTS, QUESTION_TYPES

# Editors with the YAML language server complete and check fields with this.
from genprep.bank.tidy import MODELINE as _MODELINE

MODELINE = _MODELINE + "\n"


class ScaffoldError(Exception):
    """The file cannot be written; the message says what to change."""


def _ask(label: str, choices: tuple[str, ...] | None = None) -> str:
    if not sys.stdin.isatty():
        raise ScaffoldError(f"missing --{label.replace(' ', '-')} (no terminal to ask on)")
    shown = f" ({'/'.join(choices)})" if choices else ""
    return input(f"{label}{shown}: ").strip()


def scaffold(root: Path, args) -> Path:
    bank, _ = check_bank(root, check_code=False)
    if bank is None:
        raise ScaffoldError("questions/topics.yaml is missing or broken; run `genprep validate`")
    topics = tuple(t.id for t in bank.topics)
    qid = args.id or _ask("id")
    if not SLUG.match(qid or ""):
        raise ScaffoldError(f"id {qid!r} is not a slug: lower-case letters, digits and single hyphens")
    taken = sorted((root / "questions").glob(f"*/{qid}.yaml"))
    if taken:
        raise ScaffoldError(f"the id {qid!r} is taken by {taken[0].relative_to(root)}")
    topic = args.topic or _ask("topic", topics)
    if topic not in topics:
        raise ScaffoldError(f"unknown topic {topic!r}; choose one of: {', '.join(topics)}")
    qtype = args.type or _ask("type", QUESTION_TYPES)
    if qtype not in QUESTION_TYPES:
        raise ScaffoldError(f"unknown type {qtype!r}; choose one of: {', '.join(QUESTION_TYPES)}")
    if qtype == "coding":
        raise ScaffoldError("a coding question comes with a task (reference, tests, stub, wrong variants); "
                            "see CONTRIBUTING.md, section 'Add a coding task'")
    difficulty = args.difficulty or _ask("difficulty", DIFFICULTIES)
    if difficulty not in DIFFICULTIES:
        raise ScaffoldError(f"unknown difficulty {difficulty!r}; choose one of: {', '.join(DIFFICULTIES)}")
    title_zh = args.title_zh or _ask("title zh")
    title_en = args.title_en or _ask("title en")
    if not title_zh or not title_en:
        raise ScaffoldError("both titles are needed: --title-zh and --title-en")
    data: dict = {
        "id": qid, "type": qtype, "topic": topic, "difficulty": difficulty, "tags": [],
        "title": {"zh": title_zh, "en": title_en},
        "answer": {"zh": f"**核心思想**：{PLACEHOLDER_TEXTS['answer']['zh']}\n",
                   "en": f"**Core idea**: {PLACEHOLDER_TEXTS['answer']['en']}\n"},
    }
    if qtype == "formula":
        data["formula"] = PLACEHOLDER_FORMULA
        data["verified_by"] = PLACEHOLDER_TASK
    data["pitfalls"] = [dict(PLACEHOLDER_TEXTS["pitfall"])]
    data["hints"] = [dict(PLACEHOLDER_TEXTS["hint"])]
    data["follow_ups"] = [{"question": dict(PLACEHOLDER_TEXTS["follow_up_question"]),
                           "answer": dict(PLACEHOLDER_TEXTS["follow_up_answer"])}]
    data["syllabus"] = []
    data["references"] = []
    path = root / "questions" / topic / f"{qid}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = MODELINE + "# Scaffolded by `genprep new`: replace every (parenthesised) placeholder; `genprep validate` lists them.\n"
    if qtype == "formula":
        text += "# formula / verified_by are placeholders: set the real formula and the task whose tests compute it.\n"
    text += yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(text, encoding="utf-8")
    return path
