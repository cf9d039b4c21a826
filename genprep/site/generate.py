"""Generate the study site's Markdown pages from the bank.

`pages(bank)` returns {path relative to the docs folder: Markdown}. The MkDocs
hook adds them as generated files; `genprep pages --out DIR` writes them to
disk for inspection. Generated pages are never edited by hand or committed.

Both languages sit on one page in linked content tabs ("中文" / "English"):
one click switches every tab on the page and, via local storage, on later pages.
"""
from __future__ import annotations

import functools
import html
import json
import re
import textwrap
from pathlib import Path

from genprep.bank import layout
from genprep.bank.markdown_text import normalize, plain_text
from genprep.bank.model import Bank, Question
from genprep.site import code, study

LANGS = (("zh", "中文"), ("en", "English"))
TYPE_NAMES = {"concept": ("概念", "concept"), "formula": ("公式", "formula"), "coding": ("编程", "coding")}
DIFF_NAMES = {"easy": ("简单", "easy"), "medium": ("中等", "medium"), "hard": ("困难", "hard")}
WORDS = {
    "zh": {"answer": "答案", "pitfalls": "常见错误", "hint": "提示", "related": "相关问题", "refs": "参考文献",
           "next": "下一题", "prev": "上一题", "formula": "公式", "practice": "动手练习", "contract": "接口约定",
           "tests": "检查你的代码的测试", "ref_solution": "参考实现（来自 solutions/）", "rejected": "被测试拒绝的错误写法",
           "questions": "道题", "topic": "主题", "type": "类型", "difficulty": "难度", "title": "题目"},
    "en": {"answer": "Answer", "pitfalls": "Common mistakes", "hint": "Hint", "related": "Related questions",
           "refs": "References", "next": "Next", "prev": "Previous", "formula": "Formula", "practice": "Practise it",
           "contract": "Contract", "tests": "Tests that check your file", "ref_solution": "Reference solution (from solutions/)",
           "rejected": "rejected by the tests", "questions": "questions", "topic": "Topic", "type": "Type",
           "difficulty": "Difficulty", "title": "Question"},
}


PRACTICE_HEADING = "动手练习 · Practise it"
PRACTICE_ANCHOR = "动手练习--practise-it"  # pymdownx.slugs.slugify(case="lower"), as configured in mkdocs.yml


def question_url(q: Question) -> str:
    return f"q/{q.id}.md"


def topic_url(topic_id: str) -> str:
    return f"topics/{topic_id}.md"


_MATH_OR_CODE = re.compile(r"(\$[^$]+\$|`[^`]+`)")


@functools.lru_cache(maxsize=4096)  # a title appears on its page and in its neighbours' links
def md_inline(text: str) -> str:
    """A title as literal Markdown text: `*`, `_`, `|` and brackets outside $math$ and `code` are escaped."""
    parts = _MATH_OR_CODE.split(text)
    return "".join(p if i % 2 else re.sub(r"([*_\[\]\\|])", r"\\\1", p) for i, p in enumerate(parts))


def by_lang(zh: str, en: str, zh_lang: str = "zh") -> str:
    """Inline Markdown shown in one language: `zh` in Chinese mode, `en` in English mode (site/assets/lang.css).
    `zh_lang` is the `lang` of the Chinese-mode text ("zh", or "en" for English shown only in Chinese mode)."""
    return f'<span class="gp-zh" lang="{zh_lang}">{zh}</span><span class="gp-en" lang="en">{en}</span>'


def front_matter(title: str, extra: str = "") -> str:
    """A page's front matter: the title as a YAML string (any quote or backslash in it is escaped), in plain
    text, since a browser tab cannot typeset LaTeX."""
    return f"---\ntitle: {json.dumps(plain_text(title), ensure_ascii=False)}\n{extra}---\n"


def _indent(text: str, n: int = 4) -> str:
    return textwrap.indent(text, " " * n, lambda line: True).replace(" " * n + "\n", "\n")


def _tabs(render) -> str:
    """Linked tabs, one per language; `render(lang)` gives that tab's Markdown."""
    blocks = []
    for lang, label in LANGS:
        body = render(lang).strip("\n")
        blocks.append(f'=== "{label}"\n\n{_indent(body)}\n')
    return "\n".join(blocks)


def _badges(q: Question) -> str:
    t, d = TYPE_NAMES[q.type], DIFF_NAMES[q.difficulty]
    # Each tag opens its topic's question list filtered to that tag.
    tags = " ".join(f'<a class="gp-tag" href="../../topics/{q.topic}/?tag={html.escape(tag)}">{html.escape(tag)}</a>'
                    for tag in q.tags)
    return (f'<span class="gp-badge gp-type-{q.type}">{t[0]} · {t[1]}</span> '
            f'<span class="gp-badge gp-{q.difficulty}">{d[0]} · {d[1]}</span> {tags}')


def _figure_block(figures) -> str:
    """Figures drawn from the reference code, each with a caption in both languages."""
    blocks = []
    for fig, _path in figures:
        blocks.append(f'<figure class="gp-figure" markdown>\n\n![{html.escape(fig.caption.en)}](../assets/figures/{fig.name}.png)\n\n'
                      f'<figcaption><span class="gp-zh" lang="zh">{html.escape(fig.caption.zh)}<br></span>'
                      f'<span lang="en">{html.escape(fig.caption.en)}</span></figcaption>\n\n</figure>\n')
    return "\n".join(blocks)


def _question_page(bank: Bank, q: Question, prev: Question | None, nxt: Question | None,
                   figures=(), position: tuple[int, int] = (1, 1)) -> str:
    topic = bank.topic(q.topic)
    out = [front_matter(f"{q.title.zh} · {q.title.en}"),
           f"# {by_lang(md_inline(q.title.zh), md_inline(q.title.en))}\n",  # one language (lang.css)
           f"{md_inline(q.title.en)}\n{{: .gp-en-title }}\n",
           f"{_badges(q)} · [{topic.title.zh} · {topic.title.en}](../{topic_url(q.topic)})\n{{: .gp-meta }}\n",
           study.state_bar(q)]  # known / review / unseen, kept in the browser (study.js)
    if q.formula:
        # Inside an HTML block a bare "<" (x_{<t}) reads as a tag and unbalances the page: use \lt and \gt.
        tex = q.formula.replace("<", r"\lt ").replace(">", r"\gt ")
        out.append(f'<div class="gp-formula" markdown>\n\n$$\n{tex}\n$$\n\n</div>\n')

    def body(lang: str) -> str:
        # Self-test order: the hints first (each folded, opened one at a time), then the answer and the pitfalls,
        # which the page's script hides behind "show answer" (.gp-answer-head marks where they start).
        w = WORDS[lang]
        parts = [f'??? tip "{w["hint"]} {i}"\n\n{_indent(hint.get(lang))}\n' for i, hint in enumerate(q.hints, 1)]
        parts.append(f"**{w['answer']}**\n{{: .gp-answer-head }}\n\n{normalize(q.answer.get(lang))}\n")
        if q.pitfalls:
            items = []
            for p in q.pitfalls:
                line = f"- {p.text.get(lang)}"
                if p.wrong_variant:
                    line += f" <span class=\"gp-rejected\">({w['rejected']}: `{p.wrong_variant}`)</span>"
                items.append(line)
            parts.append(f"**{w['pitfalls']}**\n\n" + "\n".join(items) + "\n")
        if q.follow_ups:  # after the answer; each follow-up's answer folded on its own (study.py)
            parts.append(study.follow_ups(bank, q, lang))
        return "\n".join(parts)

    out.append(_tabs(body))
    if figures:
        out.append(_figure_block(figures))
    if q.task:
        out.append(_coding_section(bank, q))
    if q.related:
        links = []
        for rid in q.related:
            r = bank.questions[rid]
            links.append(f"- [{by_lang(f'{md_inline(r.title.zh)} · {md_inline(r.title.en)}', md_inline(r.title.en))}]({rid}.md)")
        # Not searchable: the titles are indexed on their own pages, and here they would make
        # a search for one question list every question related to it.
        out.append("## 相关问题 · Related { data-search-exclude }\n\n" + "\n".join(links) + "\n")
    if q.references:
        refs = [f"- {html.escape(r.authors)} ({r.year}). *{html.escape(r.title)}*. [{r.locator}]({r.link})"
                for r in q.references]
        out.append("## 参考文献 · References\n\n" + "\n".join(refs) + "\n")
    nav = []
    if prev:
        nav.append(f"[← {by_lang(md_inline(prev.title.zh), md_inline(prev.title.en))}]({prev.id}.md)")
    nav.append(f"{position[0]} / {position[1]}")  # where this question stands in its topic
    if nxt:
        nav.append(f"[{by_lang(md_inline(nxt.title.zh), md_inline(nxt.title.en))} →]({nxt.id}.md)")
    out.append('<div class="gp-prevnext" data-search-exclude markdown>\n\n' + " · ".join(nav) + "\n\n</div>\n")
    return "\n".join(out)


def _coding_section(bank: Bank, q: Question) -> str:
    assert q.task and q.solution
    module = layout.module_name(q.task)
    sig = "\n".join(code.signatures(bank, q))
    tests = code.test_names(bank, q.task)
    test_list = "\n".join(f"- `{t}`" for t in tests)
    return f"""## {PRACTICE_HEADING}

```bash
genprep practice {q.task}          # writes my_solutions/{module}.py
pytest --solutions my_solutions -k {module}
```

**接口约定 · Contract** (`solutions/{q.solution.module}.py`)

```python
{sig}
```

??? note "检查你的代码的测试 · Tests that check your file ({len(tests)})"

{_indent(test_list or "- (none yet)")}

??? example "参考实现 · Reference solution (solutions/{q.solution.module}.py)"

    ```python
{_indent(code.reference_code(bank, q))}
    ```
"""


def _topic_page(bank: Bank, topic_id: str) -> str:
    topic = bank.topic(topic_id)
    qs = bank.in_topic(topic_id)
    rows = []
    for q in qs:
        t, d = TYPE_NAMES[q.type], DIFF_NAMES[q.difficulty]
        tags = " ".join(f"`{tag}`" for tag in q.tags)
        title = by_lang(md_inline(q.title.zh), md_inline(q.title.en))
        rows.append(f"| [{title}](../{question_url(q)}){by_lang('<br>' + md_inline(q.title.en), '', 'en')} | {t[0]} · {t[1]} | "
                    f"{d[0]} · {d[1]} | {tags} |")
    # Not searchable: each title is indexed on its own page; here it would make the topic page a hit for it.
    table = ('<div class="gp-questions" data-search-exclude markdown>\n\n'
             "| 题目 · Question | 类型 · Type | 难度 · Difficulty | 标签 · Tags |\n|---|---|---|---|\n"
             + "\n".join(rows) + "\n\n</div>")
    counts = {d: sum(q.difficulty == d for q in qs) for d in DIFF_NAMES}
    mistakes = mistakes_url(topic_id) if any(q.pitfalls for q in qs) else "mistakes/index.md"
    return f"""---
title: {json.dumps(plain_text(f"{topic.title.zh} · {topic.title.en}"), ensure_ascii=False)}
---
# {by_lang(topic.title.zh, html.escape(topic.title.en))}

<p class="gp-en-title">{html.escape(topic.title.en)}</p>

{_tabs(lambda lang: topic.summary.get(lang))}

{len(qs)} 道题 · {len(qs)} questions — {counts['easy']} easy · {counts['medium']} medium · {counts['hard']} hard

[打印版 · Printable page](print-{topic.id}.md) · [常见错误 · Common mistakes](../{mistakes})

{study.progress([q.id for q in qs])}

<div class="gp-filters"></div>

{table}
"""


def _index_page(bank: Bank) -> str:
    rows = []
    for t in bank.topics:
        qs = bank.in_topic(t.id)
        by_type = {k: sum(q.type == k for q in qs) for k in TYPE_NAMES}
        rows.append(f"| [{t.title.zh}<br>{t.title.en}]({t.id}.md) | {len(qs)} | {by_type['concept']} | "
                    f"{by_type['formula']} | {by_type['coding']} |")
    return ("---\ntitle: 全部主题 · All topics\n---\n# 全部主题 · All topics\n\n"
            "| 主题 · Topic | 题数 · Questions | 概念 · Concept | 公式 · Formula | 编程 · Coding |\n"
            "|---|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n")


def mistakes_url(topic_id: str) -> str:
    return f"mistakes/{topic_id}.md"


def _mistakes_intro(lang: str) -> str:
    if lang == "zh":
        return ("网上流传的面试资料里有不少错误，候选人常常在面试中原样复述。这里按主题汇总了本题库收录的所有错误说法，每个主题一页；"
                "标注了测试的那些是计算错误：对应的错误实现保存在 `tests/wrong/` 中，CI 每次都证明测试会拒绝它们。")
    return ("Study material that circulates online contains many errors, and candidates repeat them in interviews. "
            "Here is every wrong answer the bank records, one page per topic. The ones marked with a test are computational: "
            "the wrong implementation is kept in `tests/wrong/` and CI proves on every change that the tests reject it.")


MISTAKES_FORMULAS_PER_PAGE = 160  # formulas (both languages) per mistakes page: typeset in about a second
_FORMULA = re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.S)


def _mistakes_pages(bank: Bank) -> dict[str, str]:
    """The common mistakes by topic, a topic in as many pages as keep each under MISTAKES_FORMULAS_PER_PAGE
    formulas (one page for the whole bank had 1,200+ and took 8 s to typeset), and an index page listing them.
    Not in the search index: every pitfall is already indexed on its question's page."""
    out: dict[str, str] = {}
    rows = []
    for t in bank.topics:
        qs = [q for q in bank.in_topic(t.id) if q.pitfalls]
        if not qs:
            continue
        sections, weights = [], []
        for q in qs:
            def items(lang, q=q):
                lines = []
                for p in q.pitfalls:
                    line = f"- {p.text.get(lang)}"
                    if p.wrong_variant:
                        task, _, variant = p.wrong_variant.partition("/")
                        file = f"tests/wrong/{layout.module_name(task)}/{layout.module_name(variant)}.py"
                        # the task's page lists, under "Practise it", the tests that reject this file
                        line += f" — *{WORDS[lang]['rejected']}*: [`{file}`](../q/{task}.md#{PRACTICE_ANCHOR})"
                    lines.append(line)
                return "\n".join(lines)
            section = f"## [{md_inline(q.title.zh)} · {md_inline(q.title.en)}](../q/{q.id}.md)\n\n{_tabs(items)}\n"
            sections.append(section)
            weights.append(len(_FORMULA.findall(section)))
        chunks: list[list[str]] = [[]]
        load = 0
        for section, weight in zip(sections, weights):
            if chunks[-1] and load + weight > MISTAKES_FORMULAS_PER_PAGE:
                chunks.append([])
                load = 0
            chunks[-1].append(section)
            load += weight
        names = [t.id if i == 0 else f"{t.id}-{i + 1}" for i in range(len(chunks))]
        n = sum(len(q.pitfalls) for q in qs)
        links = " ".join(f"[{i + 1}]({name}.md)" for i, name in enumerate(names)) if len(names) > 1 else ""
        rows.append(f"| [{t.title.zh} · {t.title.en}]({t.id}.md) {links} | {n} | {len(qs)} |")
        for i, (name, chunk) in enumerate(zip(names, chunks)):
            part = f" ({i + 1}/{len(chunks)})" if len(chunks) > 1 else ""
            pager = []
            if i > 0:
                pager.append(f"[← {i}/{len(chunks)}]({names[i - 1]}.md)")
            if i + 1 < len(chunks):
                pager.append(f"[{i + 2}/{len(chunks)} →]({names[i + 1]}.md)")
            head = [front_matter(f"常见错误：{t.title.zh} · Common mistakes: {t.title.en}{part}", "search:\n  exclude: true\n"),
                    f"# 常见错误：{t.title.zh} · Common mistakes: {t.title.en}{part}\n",
                    "[← 全部主题的常见错误 · Common mistakes in every topic](index.md) · "
                    f"[{t.title.zh} · {t.title.en}](../{topic_url(t.id)})\n"]
            tail = [" · ".join(pager) + "\n"] if pager else []
            out[f"mistakes/{name}.md"] = "\n".join(head + chunk + tail)
    index = ["---\ntitle: 常见错误 · Common mistakes\nsearch:\n  exclude: true\n---\n# 常见错误 · Common mistakes\n",
             _tabs(_mistakes_intro),
             "| 主题 · Topic | 错误说法 · Wrong answers | 题数 · Questions |\n|---|---:|---:|\n" + "\n".join(rows) + "\n"]
    out["mistakes/index.md"] = "\n".join(index)
    return out


PRINT_SLOT = '<div class="gp-print-slot" data-question="{id}"></div>'


def _print_page(bank: Bank, topic_id: str) -> str:
    """A whole topic on one page, both languages shown (no tabs), for printing or offline review.

    Each question is a slot that the MkDocs hook fills with that question's
    already-rendered page content, so no answer is rendered twice.
    """
    topic = bank.topic(topic_id)
    parts = [front_matter(f"{topic.title.zh} · {topic.title.en}（打印版 · printable）", "search:\n  exclude: true\n"),
             f"# {topic.title.zh} · {topic.title.en}\n", f"{topic.summary.zh}\n\n{topic.summary.en}\n"]
    for q in bank.in_topic(topic_id):
        parts.append(f"[{q.id}](../q/{q.id}.md)\n{{: .gp-print-id }}\n\n" + PRINT_SLOT.format(id=q.id) + "\n")
    return "\n".join(parts)


def _glossary_page(bank: Bank) -> str:
    rows = "\n".join(f"| {html.escape(g.en)} | {html.escape(g.zh)} |" for g in sorted(bank.glossary, key=lambda g: g.en.lower()))
    return ("---\ntitle: 术语表 · Glossary\n---\n# 术语表 · Glossary\n\n"
            "全书统一的中英文术语对照；中文正文第一次出现某个术语时，会在括号里给出英文。\n\n"
            "The bank's English ↔ Chinese terms; Chinese text gives the English term in parentheses on first use.\n\n"
            "| English | 中文 |\n|---|---|\n" + rows + "\n")


def pages(bank: Bank, figures: dict | None = None) -> dict[str, str]:
    """All generated pages; `figures` is {question id: [(Figure, png path)]} from figures.render."""
    figures = figures or {}
    out: dict[str, str] = {"topics/index.md": _index_page(bank), "glossary.md": _glossary_page(bank),
                           **_mistakes_pages(bank)}
    for t in bank.topics:
        out[topic_url(t.id)] = _topic_page(bank, t.id)
        qs = bank.in_topic(t.id)
        for i, q in enumerate(qs):
            prev = qs[i - 1] if i > 0 else None
            nxt = qs[i + 1] if i + 1 < len(qs) else None
            out[question_url(q)] = _question_page(bank, q, prev, nxt, figures.get(q.id, ()), (i + 1, len(qs)))
    for t in bank.topics:
        out[f"topics/print-{t.id}.md"] = _print_page(bank, t.id)
    out.update(study.pages(bank))  # study plan, all questions, quiz
    return out


def counts_table(bank: Bank) -> str:
    """Markdown table of question counts by topic and type, for the home page."""
    rows = ["| 主题 · Topic | 概念 · Concept | 公式 · Formula | 编程 · Coding | 合计 · Total | 你的进度 · Your progress |",
            "|---|---:|---:|---:|---:|---|"]
    totals = {k: 0 for k in TYPE_NAMES}
    for t in bank.topics:
        qs = bank.in_topic(t.id)
        by = {k: sum(q.type == k for q in qs) for k in TYPE_NAMES}
        for k in by:
            totals[k] += by[k]
        rows.append(f"| [{t.title.zh} · {t.title.en}](topics/{t.id}.md) | {by['concept']} | {by['formula']} | "
                    f"{by['coding']} | {len(qs)} | {study.progress([q.id for q in qs], 'gp-progress-small')} |")
    every = [q.id for t in bank.topics for q in bank.in_topic(t.id)]
    rows.append(f"| **合计 · Total** | {totals['concept']} | {totals['formula']} | {totals['coding']} | "
                f"**{sum(totals.values())}** | {study.progress(every, 'gp-progress-small')} |")
    return "\n".join(rows)


def write_pages(bank: Bank, out: Path) -> int:
    generated = pages(bank)
    for rel, text in generated.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return len(generated)
