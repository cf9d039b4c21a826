"""The question schema: the one place that says which fields a question has.

Everything else (the loader's checks, the JSON Schema for editors, the
contributor guide's table) is derived from `QUESTION_FIELDS`.
"""
from __future__ import annotations

from dataclasses import dataclass

QUESTION_TYPES = ("concept", "formula", "coding")
DIFFICULTIES = ("easy", "medium", "hard")
LANGUAGES = ("zh", "en")
REFERENCE_LOCATORS = ("arxiv", "doi", "url")


@dataclass(frozen=True)
class Field:
    """One top-level key of a question file.

    kind is one of: "slug", "enum", "slugs" (list of slugs), "text" (a
    {zh, en} mapping), "texts" (list of those), "latex", "pitfalls",
    "references", "solution".
    """

    name: str
    kind: str
    required: bool = True
    doc: str = ""
    choices: tuple[str, ...] = ()
    only_for: tuple[str, ...] = ()  # question types the field is allowed for; () = all


QUESTION_FIELDS: tuple[Field, ...] = (
    Field("id", "slug", doc="stable slug, equal to the file name; never reused"),
    Field("type", "enum", choices=QUESTION_TYPES, doc="concept | formula | coding"),
    Field("topic", "slug", doc="one of the ids in questions/topics.yaml"),
    Field("difficulty", "enum", choices=DIFFICULTIES, doc="easy | medium | hard"),
    Field("tags", "slugs", required=False, doc="lower-case slugs used by filters"),
    Field("title", "text", doc="the question as asked, in both languages"),
    Field("answer", "text", doc="Markdown with $inline$ and $$display$$ LaTeX"),
    Field("formula", "latex", required=False, only_for=("formula",),
          doc="the key formula in LaTeX (required for formula questions)"),
    Field("verified_by", "slug", required=False, only_for=("formula",),
          doc="the coding task whose tests check this formula (required for formula questions)"),
    Field("task", "slug", required=False, only_for=("coding",),
          doc="the coding task practised; equal to the id (required for coding questions)"),
    Field("solution", "solution", required=False, only_for=("coding",),
          doc="{module, names}: where the reference lives in solutions/ and the names a learner defines"),
    Field("pitfalls", "pitfalls", required=False,
          doc="wrong answers that circulate: {zh, en, wrong_variant?}"),
    Field("hints", "texts", required=False, doc="hints revealed one at a time"),
    Field("related", "slugs", required=False, doc="ids of related questions"),
    Field("references", "references", required=False,
          doc="{title, authors, year, arxiv | doi | url}"),
    Field("follow_ups", "follow_ups", required=False,
          doc="what an interviewer asks next, each answered: {question: {zh, en}, answer: {zh, en}, see?: id}"),
    Field("syllabus", "slugs", required=False,
          doc="ids of the subjects in questions/syllabus.yaml that this question teaches"),
    Field("numbers", "numbers", required=False,
          doc="numbers the texts show, recomputed by validate: {what, expr (Python arithmetic), shows}"),
)

FIELDS_BY_NAME = {f.name: f for f in QUESTION_FIELDS}

# What `genprep new` writes where the author must write; `validate` rejects any of it left in place.
PLACEHOLDER_TEXTS = {
    "answer": {"zh": "（先写一句话的结论，再写推导、取舍和常见追问。）",
               "en": "(One-sentence answer first, then the math, trade-offs and a likely follow-up.)"},
    "pitfall": {"zh": "（一个常见的错误说法，以及为什么错。）", "en": "(A wrong answer that circulates, and why it is wrong.)"},
    "hint": {"zh": "（第一条提示。）", "en": "(First hint.)"},
    "follow_up_question": {"zh": "（面试官接着会问什么？）", "en": "(What does the interviewer ask next?)"},
    "follow_up_answer": {"zh": "（用几句话回答这个追问。）", "en": "(Answer the follow-up in a few sentences.)"},
}
PLACEHOLDER_FORMULA = r"\text{(the formula)}"
PLACEHOLDER_TASK = "the-task-whose-tests-check-this-formula"

# Content rules the loader enforces on every question.
CJK_SHARE_IN_ENGLISH = 0.02  # an English text may quote a few Chinese characters, no more
ANSWER_LENGTH_RATIO = (0.2, 1.5)  # len(answer.zh) / len(answer.en): outside it, one side is likely incomplete

# Keys inside nested mappings.
PITFALL_KEYS = ("zh", "en", "wrong_variant")
FOLLOW_UP_KEYS = ("question", "answer", "see")
NUMBER_KEYS = ("what", "expr", "shows")
AREA_KEYS = ("id", "title", "subjects")
SUBJECT_KEYS = ("id", "title", "covers")
# A follow-up written into the answer instead of `follow_ups` (where it is answered and revealed on its own).
INLINE_FOLLOW_UP_MARKERS = ("**Likely follow-up", "**常见追问")
REFERENCE_KEYS = ("title", "authors", "year") + REFERENCE_LOCATORS
SOLUTION_KEYS = ("module", "names")
TOPIC_KEYS = ("id", "title", "summary")
GLOSSARY_KEYS = ("en", "zh", "note", "avoid")

REQUIRED_BY_TYPE = {
    "formula": ("formula", "verified_by"),
    "coding": ("task", "solution"),
    "concept": (),
}
