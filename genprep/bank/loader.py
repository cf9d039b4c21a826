"""Load questions/ into a `Bank`, reporting every problem with file, line and field.

Two passes: each file is checked on its own (`_question_from`), then the
relations between files (ids, topics, related, verified_by, tasks).
"""
from __future__ import annotations

import ast
import multiprocessing
import os
import re
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from genprep.bank import first_use, latex, layout, numbers, untrusted
from genprep.bank.errors import BankError, Problem
from genprep.bank.model import (
    Area,
    Bank,
    ComputedNumber,
    FollowUp,
    GlossaryEntry,
    Pitfall,
    Question,
    Reference,
    Solution,
    Subject,
    Text,
    Topic,
)
from genprep.bank.schema import (
    ANSWER_LENGTH_RATIO,
    AREA_KEYS,
    CJK_SHARE_IN_ENGLISH,
    FIELDS_BY_NAME,
    FOLLOW_UP_KEYS,
    GLOSSARY_KEYS,
    INLINE_FOLLOW_UP_MARKERS,
    NUMBER_KEYS,
    PITFALL_KEYS,
    PLACEHOLDER_FORMULA,
    PLACEHOLDER_TEXTS,
    QUESTION_FIELDS,
    REFERENCE_KEYS,
    REFERENCE_LOCATORS,
    REQUIRED_BY_TYPE,
    SOLUTION_KEYS,
    SUBJECT_KEYS,
    TOPIC_KEYS,
)
from genprep.bank.strictyaml import Document, read
from genprep.bank.tidy import MODELINE

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
ARXIV = re.compile(r"^(\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$")
DOI = re.compile(r"^10\.\d{4,9}/\S+$")
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Checker:
    """Collects problems for one document."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.problems: list[Problem] = []

    def add(self, path: tuple, message: str) -> None:
        field = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in path).replace(".[", "[")
        self.problems.append(Problem(self.doc.path, self.doc.line(*path), field, message))

    def text(self, value: object, path: tuple) -> Text | None:
        if not isinstance(value, dict):
            self.add(path, "must be a mapping with both languages: {zh: ..., en: ...}")
            return None
        ok = True
        for key in value:
            if key not in ("zh", "en"):
                self.add(path + (key,), f"unknown language key {key!r}; only 'zh' and 'en' are allowed")
                ok = False
        for lang in ("zh", "en"):
            if lang not in value:
                name = "Chinese" if lang == "zh" else "English"
                self.add(path, f"the {name} text ('{lang}') is missing; every text needs both zh and en")
                ok = False
            elif not isinstance(value[lang], str):
                self.add(path + (lang,), f"must be text, not {type(value[lang]).__name__}; quote it")
                ok = False
            elif not value[lang].strip():
                self.add(path + (lang,), "is empty; write the text in this language")
                ok = False
            else:
                for msg in untrusted.markdown_problems(value[lang]):
                    self.add(path + (lang,), msg)
                    ok = False
        return Text(value["zh"].strip(), value["en"].strip()) if ok else None

    def string(self, value: object, path: tuple) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.add(path, "must be non-empty text")
            return None
        return value.strip()

    def slug(self, value: object, path: tuple) -> str | None:
        if not isinstance(value, str) or not SLUG.match(value):
            self.add(path, f"{value!r} is not a slug: use lower-case letters, digits and single hyphens (e.g. kl-normal)")
            return None
        return value

    def slugs(self, value: object, path: tuple) -> tuple[str, ...]:
        if not isinstance(value, list):
            self.add(path, "must be a list, e.g. [a, b]")
            return ()
        out = [v for i, v in enumerate(value) if self.slug(v, path + (i,))]
        if len(set(out)) != len(out):
            twice = sorted({v for v in out if out.count(v) > 1})
            self.add(path, f"lists {', '.join(twice)} twice")
        return tuple(out)

    def texts(self, value: object, path: tuple) -> tuple[Text, ...]:
        if not isinstance(value, list):
            self.add(path, "must be a list of {zh, en} entries")
            return ()
        return tuple(t for i, v in enumerate(value) if (t := self.text(v, path + (i,))))

    def keys(self, value: dict, allowed: tuple[str, ...], path: tuple, what: str) -> None:
        for key in value:
            if key not in allowed:
                self.add(path + (key,), f"unknown key {key!r} in {what}; allowed: {', '.join(allowed)}")


def _question_from(doc: Document, topics: set[str]) -> tuple[Question | None, list[Problem]]:
    c = _Checker(doc)
    data = doc.data
    if not isinstance(data, dict):
        c.add((), "must be a mapping of fields (id: ..., type: ..., ...)")
        return None, c.problems
    for key in data:
        if key not in FIELDS_BY_NAME:
            c.add((key,), f"unknown field {key!r}: fix the typo, or add it to genprep/bank/schema.py "
                          f"(known fields: {', '.join(FIELDS_BY_NAME)})")
    for spec in QUESTION_FIELDS:
        if spec.required and spec.name not in data:
            c.add((), f"the required field {spec.name!r} is missing ({spec.doc})")
    get = data.get
    qid = c.slug(get("id"), ("id",)) if "id" in data else None
    if qid and qid != doc.path.stem:
        c.add(("id",), f"id {qid!r} does not match the file name {doc.path.name!r}; rename one so they agree")
    qtype = get("type")
    if "type" in data and qtype not in FIELDS_BY_NAME["type"].choices:
        c.add(("type",), f"{qtype!r} is not a question type; use one of: concept, formula, coding")
        qtype = None
    topic = get("topic")
    if "topic" in data:
        if topic not in topics:
            c.add(("topic",), f"unknown topic {topic!r}; use one of the ids in questions/topics.yaml")
        elif doc.path.parent.name != topic:
            c.add(("topic",), f"topic is {topic!r} but the file is in questions/{doc.path.parent.name}/; "
                              f"move it to questions/{topic}/")
    difficulty = get("difficulty")
    if "difficulty" in data and difficulty not in FIELDS_BY_NAME["difficulty"].choices:
        c.add(("difficulty",), f"{difficulty!r} is not a difficulty; use easy, medium or hard")
    title = c.text(get("title"), ("title",)) if "title" in data else None
    answer = c.text(get("answer"), ("answer",)) if "answer" in data else None
    tags = c.slugs(get("tags"), ("tags",)) if "tags" in data else ()
    related = c.slugs(get("related"), ("related",)) if "related" in data else ()
    hints = c.texts(get("hints"), ("hints",)) if "hints" in data else ()
    syllabus = c.slugs(get("syllabus"), ("syllabus",)) if "syllabus" in data else ()

    for spec in QUESTION_FIELDS:
        if spec.only_for and spec.name in data and qtype and qtype not in spec.only_for:
            c.add((spec.name,), f"only {' / '.join(spec.only_for)} questions have {spec.name!r}; remove it or change the type")
    if qtype:
        for name in REQUIRED_BY_TYPE[qtype]:
            if name not in data:
                c.add((), f"a {qtype} question needs the field {name!r} ({FIELDS_BY_NAME[name].doc})")

    formula = None
    if "formula" in data:
        formula = c.string(get("formula"), ("formula",))
        if formula:
            for msg in latex.problems(formula, display=False):
                c.add(("formula",), msg)
    # Every text the site typesets: a broken formula anywhere shows as raw LaTeX on a page.
    texts_with_math: list[tuple[tuple, object]] = [(("title",), get("title")), (("answer",), get("answer"))]
    for field in ("hints", "pitfalls"):
        items = get(field)
        if isinstance(items, list):
            texts_with_math += [((field, i), item) for i, item in enumerate(items)]
    asked = get("follow_ups")
    if isinstance(asked, list):
        texts_with_math += [(("follow_ups", i, part), item.get(part)) for i, item in enumerate(asked)
                            if isinstance(item, dict) for part in ("question", "answer")]
    for where, value in texts_with_math:
        for lang in ("zh", "en"):
            text = value.get(lang) if isinstance(value, dict) else None
            for msg in latex.markdown_problems(text) if isinstance(text, str) else ():
                c.add(where + (lang,), msg)
    verified_by = c.slug(get("verified_by"), ("verified_by",)) if "verified_by" in data else None
    task = c.slug(get("task"), ("task",)) if "task" in data else None
    if task and qid and task != qid:
        c.add(("task",), f"a coding question's id must equal its task: id is {qid!r}, task is {task!r}")

    solution = None
    if "solution" in data:
        value = get("solution")
        if not isinstance(value, dict):
            c.add(("solution",), "must be a mapping {module: losses, names: [softmax]}")
        else:
            c.keys(value, SOLUTION_KEYS, ("solution",), "solution")
            module, names = value.get("module"), value.get("names")
            if not isinstance(module, str) or not IDENT.match(module):
                c.add(("solution", "module"), "must be the module file name in solutions/ without .py, e.g. losses")
            elif not isinstance(names, list) or not names or not all(isinstance(n, str) and IDENT.match(n) for n in names):
                c.add(("solution", "names"), "must be a non-empty list of Python names, e.g. [softmax]")
            else:
                solution = Solution(module, tuple(names))

    pitfalls: list[Pitfall] = []
    if "pitfalls" in data:
        value = get("pitfalls")
        if not isinstance(value, list):
            c.add(("pitfalls",), "must be a list of {zh, en} entries")
        else:
            for i, item in enumerate(value):
                path = ("pitfalls", i)
                if isinstance(item, dict):
                    c.keys(item, PITFALL_KEYS, path, "a pitfall")
                    text = c.text({k: v for k, v in item.items() if k in ("zh", "en")}, path)
                    variant = item.get("wrong_variant")
                    if variant is not None and (not isinstance(variant, str) or variant.count("/") != 1):
                        c.add(path + ("wrong_variant",), "must look like '<task-id>/<variant-name>'")
                        variant = None
                    if text:
                        pitfalls.append(Pitfall(text, variant))
                else:
                    c.text(item, path)

    references: list[Reference] = []
    if "references" in data:
        value = get("references")
        if not isinstance(value, list):
            c.add(("references",), "must be a list of {title, authors, year, arxiv | doi | url}")
        else:
            for i, item in enumerate(value):
                ref = _reference(c, item, ("references", i))
                if ref:
                    references.append(ref)

    follow_ups = _follow_ups(c, get("follow_ups")) if "follow_ups" in data else []
    computed = _numbers(c, get("numbers")) if "numbers" in data else []

    if not (qid and qtype and topic and difficulty and title and answer):
        return None, c.problems
    question = Question(
        id=qid, type=qtype, topic=topic, difficulty=difficulty, title=title, answer=answer,
        path=doc.path, tags=tags, formula=formula, verified_by=verified_by, task=task,
        solution=solution, pitfalls=tuple(pitfalls), hints=hints, related=related,
        references=tuple(references), follow_ups=tuple(follow_ups), syllabus=syllabus,
        numbers=tuple(computed), lines=doc.lines,
    )
    _content_rules(c, question, has_references="references" in data)
    # With problems, the question stays out of the bank but is still checked against the other files.
    return question, c.problems


def _follow_ups(c: _Checker, value: object) -> list[FollowUp]:
    if not isinstance(value, list):
        c.add(("follow_ups",), "must be a list of {question: {zh, en}, answer: {zh, en}, see?: id}")
        return []
    found = []
    for i, item in enumerate(value):
        path = ("follow_ups", i)
        if not isinstance(item, dict):
            c.add(path, "a follow-up is a mapping {question: {zh, en}, answer: {zh, en}, see?: id}")
            continue
        c.keys(item, FOLLOW_UP_KEYS, path, "a follow-up")
        if "answer" not in item:
            c.add(path, "a follow-up needs its answer (a few sentences in both languages); "
                        "a follow-up that needs more becomes a question of its own, named in `see`")
        question = c.text(item.get("question"), path + ("question",))
        answer = c.text(item.get("answer"), path + ("answer",)) if "answer" in item else None
        see = c.slug(item.get("see"), path + ("see",)) if "see" in item else None
        if question and answer:
            found.append(FollowUp(question, answer, see))
    return found


def _numbers(c: _Checker, value: object) -> list[ComputedNumber]:
    if not isinstance(value, list):
        c.add(("numbers",), "must be a list of {what, expr, shows}")
        return []
    found = []
    for i, item in enumerate(value):
        path = ("numbers", i)
        if not isinstance(item, dict):
            c.add(path, "a computed number is a mapping {what, expr, shows}")
            continue
        c.keys(item, NUMBER_KEYS, path, "a computed number")
        what = c.string(item.get("what"), path + ("what",))
        expr = c.string(item.get("expr"), path + ("expr",))
        shows = item.get("shows")
        if isinstance(shows, (int, float)) and not isinstance(shows, bool):
            c.add(path + ("shows",), f"quote the number as the texts write it: shows: \"{shows}\"")
            continue
        shows = c.string(shows, path + ("shows",))
        if not (what and expr and shows):
            continue
        try:
            wrong = numbers.check(expr, shows)
        except numbers.NumberError as exc:
            c.add(path + ("expr",), f"{expr!r} {exc}")
            continue
        if wrong:
            c.add(path, wrong)
        else:
            found.append(ComputedNumber(what, expr, shows))
    return found


CJK = re.compile(r"[\u4e00-\u9fff]")


def _content_rules(c: _Checker, q: Question, has_references: bool) -> None:
    """What a question must be, beyond its format: bilingual for real, cited, no scaffold left."""
    if q.difficulty != "easy" and not q.references and not (has_references and c.problems):
        c.add(("references",) if has_references else (),
              f"a {q.difficulty} question needs at least one reference (a paper or page that backs the answer: "
              "{title, authors, year, arxiv | doi | url})")
    for field in ("title", "answer"):
        text: Text = getattr(q, field)
        if not CJK.search(text.zh):
            c.add((field, "zh"), "has no Chinese: write the Chinese text here (English terms may appear in parentheses)")
        if len(CJK.findall(text.en)) > CJK_SHARE_IN_ENGLISH * max(1, len(text.en)):
            c.add((field, "en"), "looks Chinese: write the English text here")
    low, high = ANSWER_LENGTH_RATIO
    ratio = len(q.answer.zh) / max(1, len(q.answer.en))
    if not low < ratio < high:
        c.add(("answer",), f"the Chinese answer is {ratio:.2f}× the length of the English one (expected between "
                           f"{low} and {high}); is one of them incomplete?")
    scaffold: list[tuple[tuple, Text, dict[str, str]]] = [(("answer",), q.answer, PLACEHOLDER_TEXTS["answer"])]
    scaffold += [(("pitfalls", i), p.text, PLACEHOLDER_TEXTS["pitfall"]) for i, p in enumerate(q.pitfalls)]
    scaffold += [(("hints", i), h, PLACEHOLDER_TEXTS["hint"]) for i, h in enumerate(q.hints)]
    scaffold += [(("follow_ups", i, "question"), f.question, PLACEHOLDER_TEXTS["follow_up_question"])
                 for i, f in enumerate(q.follow_ups)]
    scaffold += [(("follow_ups", i, "answer"), f.answer, PLACEHOLDER_TEXTS["follow_up_answer"])
                 for i, f in enumerate(q.follow_ups)]
    for where, text, placeholder in scaffold:
        for lang in ("zh", "en"):
            if placeholder[lang] in text.get(lang):
                c.add(where + (lang,), "still holds the placeholder written by `genprep new`; replace it with real text")
    if q.formula and q.formula.strip() == PLACEHOLDER_FORMULA:
        c.add(("formula",), "still the placeholder written by `genprep new`; write the real formula")
    for lang in ("zh", "en"):
        if any(marker in q.answer.get(lang) for marker in INLINE_FOLLOW_UP_MARKERS):
            c.add(("answer", lang), "lists follow-ups inside the answer; move each to `follow_ups` "
                                    "(question and answer in both languages) so the site can reveal them one by one")
    for i, fu in enumerate(q.follow_ups):
        for part in ("question", "answer"):
            said: Text = getattr(fu, part)
            if not CJK.search(said.zh):
                c.add(("follow_ups", i, part, "zh"), "has no Chinese: write the Chinese text here")
            if len(CJK.findall(said.en)) > CJK_SHARE_IN_ENGLISH * max(1, len(said.en)):
                c.add(("follow_ups", i, part, "en"), "looks Chinese: write the English text here")
    for i, number in enumerate(q.numbers):
        for lang in ("zh", "en"):
            if not any(number.shows in text for _, text in _texts(q, lang)):
                c.add(("numbers", i, "shows"), f"{number.shows!r} does not appear in the {lang} texts; "
                                               "write it as the texts do (e.g. 1,024 vs 1024)")


def _reference(c: _Checker, item: object, path: tuple) -> Reference | None:
    if not isinstance(item, dict):
        c.add(path, "a reference is a mapping {title, authors, year, arxiv | doi | url}")
        return None
    c.keys(item, REFERENCE_KEYS, path, "a reference")
    title = c.string(item.get("title"), path + ("title",))
    authors = c.string(item.get("authors"), path + ("authors",))
    year = item.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 1700 <= year <= 2100:
        c.add(path + ("year",), "must be the publication year as a number, e.g. 2017")
        year = None
    arxiv, doi, url = (item.get(k) for k in REFERENCE_LOCATORS)
    if arxiv is None and doi is None and url is None:
        c.add(path, "needs a checkable locator: arxiv, doi or url")
    if arxiv is not None and not (isinstance(arxiv, str) and ARXIV.match(arxiv)):
        c.add(path + ("arxiv",), f"{arxiv!r} is not an arXiv id; quote it, e.g. \"1706.03762\"")
        arxiv = None
    if doi is not None and not (isinstance(doi, str) and DOI.match(doi)):
        c.add(path + ("doi",), f"{doi!r} is not a DOI (10.xxxx/...)")
        doi = None
    if url is not None and not (isinstance(url, str) and url.startswith("https://")):
        c.add(path + ("url",), "must be an https:// address")
        url = None
    if title and authors and year and (arxiv or doi or url):
        return Reference(title, authors, year, arxiv, doi, url)
    return None


def _topics(root: Path, problems: list[Problem]) -> list[Topic]:
    path = root / "questions" / "topics.yaml"
    doc, found = read(path)
    problems += found
    if doc is None:
        return []
    c = _Checker(doc)
    topics: list[Topic] = []
    if not isinstance(doc.data, list):
        c.add((), "must be a list of topics {id, title, summary}")
    else:
        for i, item in enumerate(doc.data):
            if not isinstance(item, dict):
                c.add((i,), "a topic is a mapping {id, title, summary}")
                continue
            c.keys(item, TOPIC_KEYS, (i,), "a topic")
            tid = c.slug(item.get("id"), (i, "id"))
            title = c.text(item.get("title"), (i, "title"))
            summary = c.text(item.get("summary"), (i, "summary"))
            if tid and any(t.id == tid for t in topics):
                c.add((i, "id"), f"topic {tid!r} is declared twice")
            elif tid and title and summary:
                topics.append(Topic(tid, title, summary))
    problems += c.problems
    return topics


def _glossary(root: Path, problems: list[Problem]) -> list[GlossaryEntry]:
    path = root / "questions" / "glossary.yaml"
    if not path.exists():
        return []
    doc, found = read(path)
    problems += found
    if doc is None:
        return []
    c = _Checker(doc)
    entries: list[GlossaryEntry] = []
    seen: dict[str, int] = {}
    if not isinstance(doc.data, list):
        c.add((), "must be a list of {en, zh, note?} entries")
    else:
        for i, item in enumerate(doc.data):
            if not isinstance(item, dict):
                c.add((i,), "a glossary entry is a mapping {en, zh, note?}")
                continue
            c.keys(item, GLOSSARY_KEYS, (i,), "a glossary entry")
            en = c.string(item.get("en"), (i, "en"))
            zh = c.string(item.get("zh"), (i, "zh"))
            note = item.get("note", "")
            avoid = item.get("avoid", [])
            if not isinstance(avoid, list) or not all(isinstance(a, str) and a.strip() for a in avoid):
                c.add((i, "avoid"), "must be a list of the Chinese renderings not to use")
                avoid = []
            if en and en.lower() in seen:
                c.add((i, "en"), f"{en!r} is already in the glossary (entry {seen[en.lower()]}); merge them")
            elif en and zh:
                seen[en.lower()] = i
                entries.append(GlossaryEntry(en, zh, note if isinstance(note, str) else "", tuple(avoid)))
    problems += c.problems
    return entries


SYLLABUS_FILE = Path("questions") / "syllabus.yaml"


def _did_you_mean(word: str, known) -> str:
    import difflib
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _syllabus(root: Path, problems: list[Problem]) -> tuple[list[Area], dict[str, int]]:
    """The areas and subjects of questions/syllabus.yaml (none if the file is absent), and each subject's line."""
    path = root / SYLLABUS_FILE
    if not path.exists():
        return [], {}
    doc, found = read(path)
    problems += found
    if doc is None:
        return [], {}
    c = _Checker(doc)
    areas: list[Area] = []
    lines: dict[str, int] = {}
    if not isinstance(doc.data, list):
        c.add((), "must be a list of areas {id, title, subjects: [{id, title, covers}]}")
    else:
        for i, item in enumerate(doc.data):
            if not isinstance(item, dict):
                c.add((i,), "an area is a mapping {id, title, subjects}")
                continue
            c.keys(item, AREA_KEYS, (i,), "an area")
            aid = c.slug(item.get("id"), (i, "id"))
            title = c.text(item.get("title"), (i, "title"))
            subjects = []
            if not isinstance(item.get("subjects"), list) or not item.get("subjects"):
                c.add((i, "subjects"), "must be a non-empty list of {id, title, covers}")
            else:
                for j, sub in enumerate(item["subjects"]):
                    where = (i, "subjects", j)
                    if not isinstance(sub, dict):
                        c.add(where, "a subject is a mapping {id, title, covers}")
                        continue
                    c.keys(sub, SUBJECT_KEYS, where, "a subject")
                    sid = c.slug(sub.get("id"), where + ("id",))
                    stitle = c.text(sub.get("title"), where + ("title",))
                    covers = c.text(sub.get("covers"), where + ("covers",))
                    if sid in lines:
                        c.add(where + ("id",), f"subject {sid!r} is declared twice")
                    elif sid and stitle and covers:
                        lines[sid] = doc.line(*where)
                        subjects.append(Subject(sid, stitle, covers))
            if aid and title and subjects:
                areas.append(Area(aid, title, tuple(subjects)))
    problems += c.problems
    return areas, lines


def _defined_names(path: Path) -> set[str] | None:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _relations(bank: Bank, problems: list[Problem], check_code: bool, flawed: list[Question],
               syllabus_lines: dict[str, int]) -> None:
    """Checks across files: references between questions, and each task's files.
    `flawed`: questions left out of the bank for problems of their own; they are checked too."""
    every = {**{q.id: q for q in flawed}, **bank.questions}
    tasks = {q.task: q for q in every.values() if q.task}
    avoided = [(a, g) for g in bank.glossary for a in g.avoid]
    subjects = {s.id: s for area in bank.syllabus for s in area.subjects}
    taught = {s for q in bank.questions.values() for s in q.syllabus}
    for area in bank.syllabus:
        for subject in area.subjects:
            line = syllabus_lines.get(subject.id, 0)
            if subject.id not in taught:
                problems.append(Problem(bank.root / SYLLABUS_FILE, line, subject.id,
                                        "no question teaches this subject: name it in the `syllabus` field of the "
                                        "questions whose answers teach it"))
            for bad, entry in avoided:
                if bad in subject.title.zh + subject.covers.zh:
                    problems.append(Problem(bank.root / SYLLABUS_FILE, line, subject.id,
                                            f"uses '{bad}'; the glossary translates '{entry.en}' as '{entry.zh}'"))
    abbreviated = first_use.abbreviated_terms(bank.glossary)
    for q in every.values():
        for path, text in _chinese_texts(q):
            for bad, entry in avoided:
                if bad in text:
                    problems.append(Problem(q.path, q.line(*path), ".".join(map(str, path)),
                                            f"uses '{bad}'; the glossary translates '{entry.en}' as '{entry.zh}'"))
        for path, term in first_use.first_uses_without_english(_chinese_texts(q), abbreviated):
            problems.append(Problem(q.path, q.line(*path), ".".join(map(str, path)),
                                    f"first use of '{term.zh}' without its English: write "
                                    f"{term.zh}（{term.abbreviation}） or {term.zh}（{term.words}, {term.abbreviation}） "
                                    f"(the glossary's rule: the English term in parentheses on first use; "
                                    f"if the words here mean something else, reword them)"))
        for rel in q.related:
            if rel == q.id:
                problems.append(Problem(q.path, q.line("related"), "related", "a question cannot be related to itself"))
            elif rel not in every:
                problems.append(Problem(q.path, q.line("related"), "related",
                                        f"no question has the id {rel!r}; fix the id or add that question"))
        for i, fu in enumerate(q.follow_ups):
            if fu.see and fu.see not in every:
                problems.append(Problem(q.path, q.line("follow_ups", i, "see"), f"follow_ups[{i}].see",
                                        f"no question has the id {fu.see!r}; fix the id or add that question"))
        if bank.syllabus:
            for named in q.syllabus:
                if named not in subjects:
                    problems.append(Problem(q.path, q.line("syllabus"), "syllabus",
                                            f"no syllabus subject {named!r}; use an id from questions/syllabus.yaml"
                                            + _did_you_mean(named, subjects)))
        if q.verified_by and q.verified_by not in tasks:
            problems.append(Problem(q.path, q.line("verified_by"), "verified_by",
                                    f"no coding task {q.verified_by!r}; name a task that exists (genprep list --type coding)"))
        elif q.verified_by and q.verified_by not in q.related and q.id not in tasks[q.verified_by].related:
            # The link says "these tests compute this formula"; it must be one a reader can follow both ways.
            problems.append(Problem(q.path, q.line("verified_by"), "verified_by",
                                    f"{q.verified_by!r} is not related to this question: name the task whose tests "
                                    f"compute this formula and list it in `related` too"))
        for i, pit in enumerate(q.pitfalls):
            if pit.wrong_variant:
                task_id = pit.wrong_variant.split("/")[0]
                if task_id not in tasks:
                    problems.append(Problem(q.path, q.line("pitfalls", i, "wrong_variant"), f"pitfalls[{i}].wrong_variant",
                                            f"no coding task {task_id!r}"))
                elif check_code and not layout.wrong_variant_file(bank.root, pit.wrong_variant).is_file():
                    missing = layout.wrong_variant_file(bank.root, pit.wrong_variant).relative_to(bank.root)
                    problems.append(Problem(q.path, q.line("pitfalls", i, "wrong_variant"), f"pitfalls[{i}].wrong_variant",
                                            f"{missing} does not exist; add the known-wrong file or fix the name"))
        for i, ref in enumerate(q.references):
            if KNOWN_FABRICATIONS.search(f"{ref.title} {ref.authors}") or ref.arxiv in KNOWN_WRONG_ARXIV:
                problems.append(Problem(q.path, q.line("references", i), f"references[{i}]",
                                        "is a reference known to be made up or misattributed; cite the real paper"))
        if check_code and q.task and q.solution:
            _task_files(bank.root, q, problems)


# References that circulate in study material but do not exist (or point at the wrong paper).
KNOWN_FABRICATIONS = re.compile(r"Feynman-Varianz|Beglia|Lavrychev|Natural Language Generation with Transformers", re.I)
KNOWN_WRONG_ARXIV = {"1406.2866"}  # cited as the GAN paper, which is 1406.2661


def _texts(q: Question, lang: str):
    """(field path, text) of every text of a question in one language."""
    yield ("title", lang), q.title.get(lang)
    yield ("answer", lang), q.answer.get(lang)
    for i, p in enumerate(q.pitfalls):
        yield ("pitfalls", i, lang), p.text.get(lang)
    for i, h in enumerate(q.hints):
        yield ("hints", i, lang), h.get(lang)
    for i, f in enumerate(q.follow_ups):
        yield ("follow_ups", i, "question", lang), f.question.get(lang)
        yield ("follow_ups", i, "answer", lang), f.answer.get(lang)


def _chinese_texts(q: Question):
    return _texts(q, "zh")


def _task_files(root: Path, q: Question, problems: list[Problem]) -> None:
    assert q.solution and q.task
    ref = layout.reference_file(root, q.solution.module)
    names = _defined_names(ref) if ref.is_file() else None
    if names is None:
        problems.append(Problem(q.path, q.line("solution", "module"), "solution.module",
                                f"solutions/{q.solution.module}.py is missing or does not parse"))
    else:
        for name in q.solution.names:
            if name not in names:
                problems.append(Problem(q.path, q.line("solution", "names"), "solution.names",
                                        f"solutions/{q.solution.module}.py does not define {name!r}"))
    if not layout.test_file(root, q.task).is_file():
        problems.append(Problem(q.path, q.line("task"), "task",
                                f"the task has no tests: add {layout.test_file(root, q.task).relative_to(root)}"))
    if len(layout.wrong_variants(root, q.task)) < 3:
        problems.append(Problem(q.path, q.line("task"), "task",
                                f"a task needs at least 3 known-wrong variants in "
                                f"{layout.wrong_dir(root, q.task).relative_to(root)}/"))


PARALLEL_FROM = 1000  # question files; below this, starting processes costs more than it saves


def _read_question(path: Path, topic_ids: set[str]) -> tuple[Path, Question | None, list[Problem]]:
    """The question in one file (None if too broken to check further) and the file's problems."""
    doc, problems = read(path)
    if doc is None:
        return path, None, problems
    with path.open(encoding="utf-8-sig", errors="replace") as f:
        if f.readline().rstrip("\r\n") != MODELINE:
            problems.append(Problem(path, 1, "", "the first line must point editors at the schema; run "
                                                 f"`python -m genprep.bank.tidy {path.name}` (it adds: {MODELINE})"))
    q, found = _question_from(doc, topic_ids)
    return path, q, problems + found


def _read_questions(paths: list[Path], topic_ids: set[str]) -> list[tuple[Path, Question | None, list[Problem]]]:
    """Each file checked on its own, in order; a large bank is read by one process per core
    (forked, so only from a single-threaded process: `mkdocs serve` reads in one)."""
    jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if (len(paths) < PARALLEL_FROM or jobs < 2 or threading.active_count() > 1
            or "fork" not in multiprocessing.get_all_start_methods()):
        return [_read_question(path, topic_ids) for path in paths]
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(_read_question, paths, [topic_ids] * len(paths), chunksize=200))


def check_bank(root: Path, check_code: bool | None = None,
               only: set[str] | None = None) -> tuple[Bank | None, list[Problem]]:
    """Load the bank under `root`; returns (bank, every problem found).

    The bank holds the questions without problems of their own, even when other
    files have problems (None only when topics.yaml is missing); questions with
    problems are still checked against the others.
    `only` loads just the questions with these ids (file names), no glossary,
    and skips the checks between files: the pytest plugin needs only the coding tasks.

    `check_code` also checks each task's reference, tests and known-wrong
    variants; by default it is on when `root` has a solutions/ folder.
    """
    root = root.resolve()
    problems: list[Problem] = []
    qdir = root / "questions"
    if not (qdir / "topics.yaml").is_file():
        return None, [Problem(qdir / "topics.yaml", 0, "",
                              "not found: is this a genprep checkout? (run from the folder with questions/, or pass it)")]
    topics = _topics(root, problems)
    glossary = _glossary(root, problems) if only is None else []
    syllabus, syllabus_lines = _syllabus(root, problems) if only is None else ([], {})
    topic_ids = {t.id for t in topics}
    questions: dict[str, Question] = {}
    question_files: list[Path] = []
    for path in sorted(qdir.rglob("*")):
        if path.is_dir() or path.parent == qdir:
            if path.parent == qdir and path.is_file() and path.name not in ("topics.yaml", "glossary.yaml",
                                                                            "syllabus.yaml", "README.md"):
                problems.append(Problem(path, 0, "", "questions live in questions/<topic>/<id>.yaml; "
                                                     "move this file into its topic folder"))
            continue
        if path.suffix == ".yml":
            problems.append(Problem(path, 0, "", "use the extension .yaml"))
            continue
        if path.suffix != ".yaml" or (only is not None and path.stem not in only):
            continue
        question_files.append(path)
    flawed: list[Question] = []
    for path, q, found in _read_questions(question_files, topic_ids):
        problems += found
        if q is None:
            continue
        taken = questions.get(q.id) or next((f for f in flawed if f.id == q.id), None)
        if taken:
            other = taken.path.relative_to(root)
            problems.append(Problem(path, q.line("id"), "id", f"the id {q.id!r} is already used by {other}; ids are unique"))
            continue
        # A question with problems of its own stays out of the bank, but is still checked against
        # the other files, so one run reports everything rather than more after the first fixes.
        if found:
            flawed.append(q)
        else:
            questions[q.id] = q
    bank = Bank(root=root, topics=topics, questions=questions, glossary=glossary, syllabus=syllabus)
    if check_code is None:
        check_code = (root / "solutions").is_dir()
    if only is None:
        _relations(bank, problems, check_code, flawed, syllabus_lines)
    # One report, in reading order: by file, then line.
    problems.sort(key=lambda p: (str(p.path), p.line))
    return bank, problems


def load_bank(root: Path | None = None, check_code: bool | None = None) -> Bank:
    """The bank, or `BankError` listing every problem."""
    found_root = root or layout.find_root()
    if found_root is None:
        raise BankError([Problem(Path("questions/topics.yaml"), 0, "", "not found: run inside a genprep checkout or pass its folder")])
    bank, problems = check_bank(found_root, check_code)
    if bank is None or problems:
        raise BankError(problems, found_root)
    return bank
