"""The study pages: the study plan, the list of every question, the quiz, the follow-ups on a question page,
and the question data the browser's study script (site/assets/study.js) works from.

The learner's state (known / review / unseen per question) lives only in the reader's browser: the pages
carry the question ids that a progress bar or a state badge counts (`data-questions`, `data-question`), and
study.js fills them in from local storage.
"""
from __future__ import annotations

import html
import json

from genprep.bank.markdown_text import normalize
from genprep.bank.model import Bank, Question

# Generated files (relative to the docs folder).
PLAN = "plan.md"
QUESTIONS = "questions.md"
QUIZ = "quiz.md"
DATA = "assets/questions.json"
DATA_VERSION = 1

PLAN_INTRO = ("按面试考点逐项学习：每个考点下是讲解它的题目，从易到难。",
              "The subjects interviews ask about, in study order: under each subject, the questions that teach it, easiest first.")
NO_SYLLABUS = ("题库还没有考点大纲（questions/syllabus.yaml）。", "The bank has no syllabus yet (questions/syllabus.yaml).")
LIST_INTRO = ("按主题、类型、难度、标签和你的进度筛选；筛选条件保存在网址里。",
              "Filter by topic, type, difficulty, tag and your progress; the filters stay in the address.")
QUIZ_INTRO = ("从筛选出的题目中随机抽一道：先自己回答，再看答案，标记会了或再复习，然后下一题。",
              "A random question from your filter: answer it yourself, reveal the answer, mark it known or for review, "
              "then go to the next.")

FOLLOW_UP_WORDS = {
    "zh": {"head": "追问", "item": "追问", "answer": "答案", "see": "详见"},
    "en": {"head": "Follow-ups", "item": "Follow-up", "answer": "Answer", "see": "In depth"},
}


def bi(zh: str, en: str) -> str:
    """A UI label in both languages, as the English mode (site/assets/lang.js) writes them: "zh · en" in
    Chinese mode, "en" in English mode."""
    return (f'<span class="gp-bi"><span class="gp-zh" lang="zh">{zh} · {en}</span>'
            f'<span class="gp-en" lang="en">{en}</span></span>')


def _md_inline(text: str) -> str:
    from genprep.site.generate import md_inline  # generate imports this module
    return md_inline(text)


def _by_lang(zh: str, en: str, zh_lang: str = "zh") -> str:
    from genprep.site.generate import by_lang
    return by_lang(zh, en, zh_lang)


def _title(q: Question) -> str:
    """A question's title as link text: "zh · en" in Chinese mode, the English title in English mode."""
    zh, en = _md_inline(q.title.zh), _md_inline(q.title.en)
    return _by_lang(f"{zh} · {en}", en)


def progress(ids: list[str], cls: str = "") -> str:
    """A progress bar over these questions; study.js draws it from the learner's state."""
    extra = f" {cls}" if cls else ""
    return f'<div class="gp-progress{extra}" data-questions="{" ".join(ids)}"></div>'


def state_badge(qid: str) -> str:
    return f'<span class="gp-qstate" data-question="{qid}"></span>'


def state_bar(q: Question) -> str:
    """Where study.js puts the known / review / unseen buttons (and, in quiz mode, the quiz bar)."""
    return f'<div class="gp-state" data-question="{q.id}"></div>\n'


def follow_ups(bank: Bank, q: Question, lang: str) -> str:
    """The follow-ups in one language: each question shown, its answer folded (revealed one at a time; all open
    in reading mode and in print), with a link to the question that treats it at length."""
    if not q.follow_ups:
        return ""
    w = FOLLOW_UP_WORDS[lang]
    parts = [f"**{w['head']}**\n{{: .gp-followups-head }}\n"]
    for i, fu in enumerate(q.follow_ups, 1):
        sep = "：" if lang == "zh" else ": "
        parts.append(f"**{w['item']} {i}**{sep}{fu.question.get(lang).strip()}\n{{: .gp-fu-q }}\n")
        body = normalize(fu.answer.get(lang))
        if fu.see and fu.see in bank.questions:
            other = bank.questions[fu.see]
            body += f"\n\n{w['see']} → [{_md_inline(other.title.get(lang))}]({other.id}.md)\n"
        indented = "\n".join(("    " + line) if line.strip() else "" for line in body.strip("\n").split("\n"))
        parts.append(f'??? success gp-fu-answer "{w["answer"]} {i}"\n\n{indented}\n')
    return "\n".join(parts)


def data(bank: Bank) -> str:
    """Every question in a few fields, for the quiz (assets/questions.json)."""
    questions = [{"id": q.id, "title": {"zh": q.title.zh, "en": q.title.en}, "topic": q.topic, "type": q.type,
                  "difficulty": q.difficulty, "tags": list(q.tags), "url": f"q/{q.id}/"}
                 for t in bank.topics for q in bank.in_topic(t.id)]
    topics = [{"id": t.id, "title": {"zh": t.title.zh, "en": t.title.en}} for t in bank.topics]
    return json.dumps({"version": DATA_VERSION, "topics": topics, "questions": questions},
                      ensure_ascii=False, separators=(",", ":"))


def _type_badge(q: Question) -> str:
    from genprep.site.generate import DIFF_NAMES, TYPE_NAMES
    t, d = TYPE_NAMES[q.type], DIFF_NAMES[q.difficulty]
    return (f'<span class="gp-badge gp-type-{q.type}">{t[0]} · {t[1]}</span> '
            f'<span class="gp-badge gp-{q.difficulty}">{d[0]} · {d[1]}</span>')


def _export_box() -> str:
    return '<div class="gp-export"></div>\n'


def plan_page(bank: Bank) -> str:
    """The syllabus as a study plan: areas, their subjects (title and what it covers, both languages), and under
    each subject the questions that teach it, easiest first, with the learner's progress."""
    out = ['---\ntitle: 学习计划 · Study plan\nsearch:\n  exclude: true\n---\n# 学习计划 · Study plan\n',
           f'<p class="gp-en-title">{bi(*PLAN_INTRO)}</p>\n',
           f'{bi("你的进度只保存在这个浏览器里。", "Your progress is kept in this browser only.")} '
           f'[{bi("全部题目", "All questions")}](questions.md) · [{bi("测验", "Quiz")}](quiz.md)\n',
           _export_box()]
    every = sorted({q.id for area in bank.syllabus for s in area.subjects for q in bank.teaching(s.id)})
    out.append(progress(every, "gp-progress-total") + "\n")
    if not bank.syllabus:
        out.append(f"{bi(*NO_SYLLABUS)}\n")
    toc = []
    for n, area in enumerate(bank.syllabus, 1):
        toc.append(f"{n}. [{area.title.zh} · {area.title.en}](#area-{area.id})")
    out.append("\n".join(toc) + "\n")
    for n, area in enumerate(bank.syllabus, 1):
        area_ids = sorted({q.id for s in area.subjects for q in bank.teaching(s.id)})
        out.append(f"## {n}. {area.title.zh} · {area.title.en} {{ #area-{area.id} }}\n")
        out.append(progress(area_ids) + "\n")
        for subject in area.subjects:
            qs = bank.teaching(subject.id)
            out.append(f"### {subject.title.zh} · {subject.title.en} {{ #{subject.id} .gp-subject }}\n")
            out.append(f"{subject.covers.zh}\n{{: .gp-covers .gp-zh lang=zh }}\n")
            out.append(f"{subject.covers.en}\n{{: .gp-covers lang=en }}\n")
            if not qs:
                out.append(f'{bi("还没有题目讲解这个考点。", "No question teaches this subject yet.")}\n{{: .gp-no-questions }}\n')
                continue
            out.append(progress([q.id for q in qs], "gp-progress-small") + "\n")
            items = [f"- {state_badge(q.id)} [{_title(q)}](q/{q.id}.md) "
                     f"{_type_badge(q)}" for q in qs]
            out.append('<div class="gp-plan-questions" markdown>\n\n' + "\n".join(items) + "\n\n</div>\n")
    return "\n".join(out)


def questions_page(bank: Bank) -> str:
    """Every question in one table; study.js adds the filters (topic, type, difficulty, tag, state, text),
    keeps them in the URL and counts the rows shown."""
    from genprep.site.generate import DIFF_NAMES, TYPE_NAMES
    rows = []
    for topic in bank.topics:
        for q in bank.in_topic(topic.id):
            t, d = TYPE_NAMES[q.type], DIFF_NAMES[q.difficulty]
            row = (f'<span class="gp-row" data-id="{q.id}" data-topic="{q.topic}" data-type="{q.type}" '
                   f'data-difficulty="{q.difficulty}" data-tags="{html.escape(" ".join(q.tags))}"></span>')
            tags = " ".join(f"`{tag}`" for tag in q.tags)
            title = _by_lang(_md_inline(q.title.zh), _md_inline(q.title.en))
            rows.append(f"| {row}[{title}](q/{q.id}.md){_by_lang('<br>' + _md_inline(q.title.en), '', 'en')} | "
                        f"{_by_lang(f'{topic.title.zh}<br>{topic.title.en}', topic.title.en)} | {t[0]} · {t[1]} | "
                        f"{d[0]} · {d[1]} | {tags} | "
                        f"{state_badge(q.id)} |")
    topics = " ".join(f'<span data-topic="{t.id}" data-zh="{html.escape(t.title.zh)}" data-en="{html.escape(t.title.en)}">'
                      f"</span>" for t in bank.topics)
    return ("---\ntitle: 全部题目 · All questions\nsearch:\n  exclude: true\n---\n# 全部题目 · All questions\n\n"
            f'<p class="gp-en-title">{bi(*LIST_INTRO)}</p>\n\n'
            f'<div class="gp-topic-names" hidden>{topics}</div>\n\n'
            '<div class="gp-list-filters"></div>\n\n'
            '<div class="gp-list-count"></div>\n\n'
            '<div class="gp-questions gp-all-questions" markdown>\n\n'
            "| 题目 · Question | 主题 · Topic | 类型 · Type | 难度 · Difficulty | 标签 · Tags | 进度 · State |\n"
            "|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n</div>\n\n" + _export_box())


def quiz_page(bank: Bank) -> str:
    """The quiz: choose the filters, then study.js opens a random matching question in quiz mode."""
    keys = [("Space / Enter", "显示答案", "show the answer"), ("K", "标记为会了", "mark as known"),
            ("R", "标记为再复习", "mark for review"), ("N / →", "下一题", "next question"),
            ("?", "显示或隐藏快捷键", "show or hide the shortcuts")]
    rows = "\n".join(f"| <kbd>{k}</kbd> | {zh} · {en} |" for k, zh, en in keys)
    return ("---\ntitle: 测验 · Quiz\nsearch:\n  exclude: true\n---\n# 测验 · Quiz\n\n"
            f'<p class="gp-en-title">{bi(*QUIZ_INTRO)}</p>\n\n'
            '<div class="gp-quiz-start"></div>\n\n'
            '<div class="gp-shortcuts" markdown>\n\n'
            "| 按键 · Key | 作用 · Action |\n|---|---|\n" + rows + "\n\n</div>\n")


def pages(bank: Bank) -> dict[str, str]:
    """The study pages (Markdown); the question data (`DATA`) is added by the MkDocs hook."""
    return {PLAN: plan_page(bank), QUESTIONS: questions_page(bank), QUIZ: quiz_page(bank)}
