"""`genprep anki`: an Anki deck of the concept and formula questions.

One note per question; its GUID is derived from the question id (and the
language choice), so importing a newer deck updates the notes instead of
duplicating them. Formulas use Anki's own MathJax: \\( \\) and \\[ \\].
"""
from __future__ import annotations

import html
import re
from pathlib import Path

from genprep.bank import layout
from genprep.bank.model import Bank, Question

MODEL_ID = 1_733_904_771  # fixed forever: Anki matches note types by id
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$(?!\$)", re.S)
CSS = ".card { font-family: sans-serif; font-size: 18px; text-align: left; } .en { color: #555; } code { font-size: 90%; }"


class AnkiError(Exception):
    """The deck cannot be built; the message says what to install or change."""


def markdown_to_anki_html(text: str) -> str:
    """Markdown with $-math to HTML with Anki's MathJax delimiters."""
    import markdown

    from genprep.bank.markdown_text import normalize
    text = normalize(text)
    math: list[str] = []

    def keep(open_: str, close: str):
        def sub(m: re.Match) -> str:
            math.append(f"{open_}{html.escape(m.group(1).strip())}{close}")
            return f"\x00{len(math) - 1}\x00"
        return sub

    text = _DISPLAY.sub(keep(r"\[", r"\]"), text)
    text = _INLINE.sub(keep(r"\(", r"\)"), text)
    rendered = markdown.markdown(text, extensions=["tables", "fenced_code"])
    return re.sub("\x00(\\d+)\x00", lambda m: math[int(m.group(1))], rendered)


def _side(q: Question, lang: str, back: bool) -> str:
    langs = ("zh", "en") if lang == "both" else (lang,)
    parts = []
    for lg in langs:
        cls = "en" if (lg == "en" and lang == "both") else ""
        if back:
            body = markdown_to_anki_html(q.answer.get(lg))
            if q.pitfalls:
                head = "常见错误" if lg == "zh" else "Common mistakes"
                items = "".join(f"<li>{markdown_to_anki_html(p.text.get(lg))}</li>" for p in q.pitfalls)
                body += f"<h4>{head}</h4><ul>{items}</ul>"
            parts.append(f'<div class="{cls}">{body}</div>')
        else:
            parts.append(f'<div class="{cls}">{markdown_to_anki_html(q.title.get(lg))}</div>')
    return "<hr>".join(parts)


def select(bank: Bank, topic: str | None = None, tag: str | None = None, difficulty: str | None = None) -> list[Question]:
    qs = [q for q in bank.questions.values() if q.type in ("concept", "formula")
          and (not topic or q.topic == topic) and (not tag or tag in q.tags)
          and (not difficulty or q.difficulty == difficulty)]
    return sorted(qs, key=lambda q: (q.topic, q.id))


def build_deck(bank: Bank, out: Path, lang: str = "both", topic: str | None = None, tag: str | None = None,
               difficulty: str | None = None) -> int:
    try:
        import genanki
    except ImportError as exc:
        raise AnkiError(f"the Anki export needs genanki and markdown: {layout.install_hint('anki')}") from exc
    questions = select(bank, topic, tag, difficulty)
    if not questions:
        raise AnkiError("no concept or formula question matches these filters")
    model = genanki.Model(
        MODEL_ID, "genprep question",
        fields=[{"name": "Id"}, {"name": "Front"}, {"name": "Back"}, {"name": "Topic"}],
        templates=[{"name": "Card", "qfmt": "{{Front}}",
                    "afmt": "{{FrontSide}}<hr id=answer>{{Back}}<p><small>{{Topic}} · {{Id}}</small></p>"}],
        css=CSS)
    name = "genprep" + "".join(f"::{p}" for p in (topic, tag, difficulty) if p) + f" ({lang})"
    deck = genanki.Deck(_deck_id(name), name)  # stable: the same filters give the same deck
    for q in questions:
        deck.add_note(genanki.Note(
            model=model, guid=genanki.guid_for("genprep", q.id, lang),
            fields=[q.id, _side(q, lang, back=False), _side(q, lang, back=True),
                    f"{bank.topic(q.topic).title.zh} · {bank.topic(q.topic).title.en}"],
            tags=[q.topic, q.type, q.difficulty, *q.tags]))
    out.parent.mkdir(parents=True, exist_ok=True)
    genanki.Package(deck).write_to_file(str(out))
    return len(questions)


def _deck_id(name: str) -> int:
    import hashlib
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) + (1 << 30)
