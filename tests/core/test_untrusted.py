"""Question text cannot inject scripts: the loader rejects it, and the build-time scan would too."""
from __future__ import annotations

from pathlib import Path

import markdown
import pytest

from genprep.bank.loader import check_bank
from genprep.bank.tidy import MODELINE
from genprep.bank.untrusted import html_problems, markdown_problems

CORPUS = sorted((Path(__file__).parent.parent / "corpus" / "injection").glob("*.md"))
IDS = [c.stem for c in CORPUS]


@pytest.mark.parametrize("case", CORPUS, ids=IDS)
def test_loader_rejects_injection_with_file_line_and_field(checkout, case):
    payload = case.read_text(encoding="utf-8")
    path = checkout / "questions" / "foundations" / "injected.yaml"
    body = "\n".join("    " + line for line in payload.splitlines())
    path.write_text(MODELINE + "\nid: injected\ntype: concept\ntopic: foundations\ndifficulty: easy\n"
                    "title: {zh: 标题, en: Title}\nanswer:\n  zh: 答案\n  en: |\n" + body + "\n", encoding="utf-8")
    bank, problems = check_bank(checkout)
    mine = [p for p in problems if p.path == path]
    assert mine, f"{case.name} was accepted"
    assert all(p.field == "answer.en" and p.line >= 9 for p in mine), [p.format() for p in mine]
    assert "injected" not in bank.questions


# Rendered, these two are inert (a comment; an unknown element, not a link); the loader still rejects them.
INERT_WHEN_RENDERED = {"html-comment", "javascript-autolink"}


@pytest.mark.parametrize("case", [c for c in CORPUS if c.stem not in INERT_WHEN_RENDERED],
                         ids=[i for i in IDS if i not in INERT_WHEN_RENDERED])
def test_rendered_injection_is_caught_by_the_build_scan(case):
    # The second line of defence: even if the loader missed it, the rendered page is refused.
    html = markdown.markdown(case.read_text(encoding="utf-8"), extensions=["attr_list", "md_in_html"])
    assert html_problems(html), f"{case.name} rendered to {html!r} and passed the scan"


@pytest.mark.parametrize("text", [
    "Softmax: $a<b$ and $$x_{i}<y$$, `<script>` in code, a <br> break, H<sub>2</sub>O",
    "```python\nif a < b and c > d: print('<div>')\n```",
    "[paper](https://arxiv.org/abs/1706.03762) and [rel](../q/x.md)",
    "Use `</w>` as the end-of-word symbol",
])
def test_ordinary_text_is_accepted(text):
    assert markdown_problems(text) == []


def test_generated_content_passes_the_scan():
    html = markdown.markdown("| a | b |\n|--:|:-:|\n| 1 | 2 |", extensions=["tables"])
    assert html_problems(html) == []


def test_the_scan_reports_an_unsafe_tag_every_time_it_appears():
    # Safe tags are remembered between pages; an unsafe one must never be.
    page = '<p>ok</p><a href="https://example.org">x</a><img src=x onerror="alert(1)"><p>ok</p>'
    for _ in range(3):
        assert html_problems(page) == ["event handler onerror= on <img>"]
    assert html_problems('<p>ok</p><a href="javascript:alert(1)">x</a>') == [
        "unsafe URL 'javascript:alert(1)' in href= on <a>"]
