"""Plain data classes for what the bank holds. No I/O, no validation here."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Text:
    """The same text in both languages."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Pitfall:
    text: Text
    wrong_variant: str | None = None  # "<task-id>/<variant>": the known-wrong file that encodes it


@dataclass(frozen=True)
class Reference:
    title: str
    authors: str
    year: int
    arxiv: str | None = None
    doi: str | None = None
    url: str | None = None

    @property
    def link(self) -> str:
        if self.arxiv:
            return f"https://arxiv.org/abs/{self.arxiv}"
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return self.url or ""

    @property
    def locator(self) -> str:
        if self.arxiv:
            return f"arXiv:{self.arxiv}"
        if self.doi:
            return f"doi:{self.doi}"
        return self.url or ""


@dataclass(frozen=True)
class FollowUp:
    """A question an interviewer asks next, answered in a few sentences."""

    question: Text
    answer: Text
    see: str | None = None  # id of a question that answers it at length


@dataclass(frozen=True)
class ComputedNumber:
    """A number shown in a question, with the arithmetic that produces it (recomputed by `genprep validate`)."""

    what: str  # what the number is, e.g. "KV cache of Llama-2-70B at 4k tokens, GiB"
    expr: str  # Python arithmetic, e.g. "2 * 80 * 8 * 128 * 2 * 4096 / 2**30"
    shows: str  # the number as the texts write it, e.g. "1.25"


@dataclass(frozen=True)
class Solution:
    module: str  # file in solutions/, without .py
    names: tuple[str, ...]  # what a learner's file must define


@dataclass
class Question:
    id: str
    type: str
    topic: str
    difficulty: str
    title: Text
    answer: Text
    path: Path
    tags: tuple[str, ...] = ()
    formula: str | None = None
    verified_by: str | None = None
    task: str | None = None
    solution: Solution | None = None
    pitfalls: tuple[Pitfall, ...] = ()
    hints: tuple[Text, ...] = ()
    related: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    syllabus: tuple[str, ...] = ()  # ids of the syllabus subjects this question teaches
    numbers: tuple[ComputedNumber, ...] = ()
    lines: dict = field(default_factory=dict, repr=False, compare=False)  # field path -> line

    def line(self, *path: object) -> int:
        key = tuple(path)
        while key and key not in self.lines:
            key = key[:-1]
        return self.lines.get(key, 1)


@dataclass(frozen=True)
class Topic:
    id: str
    title: Text
    summary: Text


@dataclass(frozen=True)
class Subject:
    """One line of the syllabus: what interviews ask, taught by the questions that name it."""

    id: str
    title: Text
    covers: Text


@dataclass(frozen=True)
class Area:
    id: str
    title: Text
    subjects: tuple[Subject, ...]


@dataclass(frozen=True)
class GlossaryEntry:
    en: str
    zh: str
    note: str = ""
    avoid: tuple[str, ...] = ()  # other Chinese renderings the bank must not use


@dataclass
class Bank:
    root: Path
    topics: list[Topic]
    questions: dict[str, Question]
    glossary: list[GlossaryEntry] = field(default_factory=list)
    syllabus: list[Area] = field(default_factory=list)

    def in_topic(self, topic: str) -> list[Question]:
        order = {"easy": 0, "medium": 1, "hard": 2}
        qs = [q for q in self.questions.values() if q.topic == topic]
        return sorted(qs, key=lambda q: (order[q.difficulty], q.type, q.id))

    @property
    def tasks(self) -> dict[str, Question]:
        """Coding questions by task id."""
        return {q.task: q for q in self.questions.values() if q.task}

    def teaching(self, subject_id: str) -> list[Question]:
        """The questions that teach a syllabus subject, easiest first."""
        order = {"easy": 0, "medium": 1, "hard": 2}
        qs = [q for q in self.questions.values() if subject_id in q.syllabus]
        return sorted(qs, key=lambda q: (order[q.difficulty], q.topic, q.id))

    def topic(self, topic_id: str) -> Topic:
        return next(t for t in self.topics if t.id == topic_id)
