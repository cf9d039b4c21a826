"""The strict build: every question has a page, nothing loads from the internet."""
from __future__ import annotations

import json
import re
import shutil

from _sitebuild import ROOT, build

from genprep.bank.loader import load_bank

EXTERNAL_LOAD = re.compile(r"""<(?:script|link|img|iframe|source)\b[^>]*?\b(?:src|href)=["'](?:https?:)?//""", re.I)


def test_every_question_and_topic_has_a_page(built_site):
    bank = load_bank(ROOT)
    for q in bank.questions.values():
        assert (built_site / "q" / q.id / "index.html").is_file(), q.id
    for t in bank.topics:
        assert (built_site / "topics" / t.id / "index.html").is_file(), t.id
    assert (built_site / "mistakes" / "index.html").is_file()


def test_nothing_is_loaded_from_another_origin(built_site):
    offenders = []
    for page in built_site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        offenders += [f"{page.relative_to(built_site)}: {m.group(0)}" for m in EXTERNAL_LOAD.finditer(text)
                      if 'rel="canonical"' not in m.group(0)]  # the published address (site_url), never fetched
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text, page
    assert offenders == []
    assert (built_site / "assets" / "mathjax" / "tex-chtml.js").is_file()


def test_search_index_holds_both_languages(built_site):
    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    # jieba's segmentation marks word boundaries with zero-width spaces
    text = " ".join(doc["text"] + " " + doc["title"] for doc in index["docs"]).replace("\u200b", "")
    assert "变分自编码器" in text and "reparameterization" in text


def test_a_broken_question_file_stops_the_build(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "questions", repo / "questions")
    shutil.copytree(ROOT / "site", repo / "site", ignore=shutil.ignore_patterns("bank"))
    shutil.copy(ROOT / "mkdocs.yml", repo / "mkdocs.yml")
    for folder in ("genprep", "solutions", "tests"):
        shutil.copytree(ROOT / folder, repo / folder)
    bad = repo / "questions" / "vae" / "vae-how-it-works.yaml"
    bad.write_text(bad.read_text(encoding="utf-8").replace("difficulty: easy", "difficulty: easy\ndifficulty: hard"),
                   encoding="utf-8")
    out = tmp_path / "out"
    result = build(repo, out)
    assert result.returncode != 0
    assert "duplicate key 'difficulty'" in result.stdout + result.stderr
    assert not (out / "index.html").exists()  # never a partial site


_NOT_TEXT = re.compile(r'<(span|div) class="arithmatex">.*?</\1>|<pre\b.*?</pre>|<code\b.*?</code>|<script\b.*?</script>', re.S)


def test_every_formula_is_handed_to_mathjax(built_site):
    """No `$` is left in a page's text outside formulas and code: each one was recognized as math."""
    leftovers = []
    for page in sorted((built_site / "q").glob("*/index.html")):
        article = page.read_text(encoding="utf-8").split("<article", 1)[-1].split("</article>", 1)[0]
        text = _NOT_TEXT.sub("", article)
        if "$" in text:
            i = text.index("$")
            leftovers.append(f"{page.parent.name}: …{text[max(0, i - 60):i + 60]}…")
    assert leftovers == [], "raw $ left (a formula MathJax will not see):\n" + "\n".join(leftovers[:10])


def test_printable_topic_pages_hold_every_question(built_site):
    bank = load_bank(ROOT)
    for t in bank.topics:
        page = (built_site / "topics" / f"print-{t.id}" / "index.html").read_text(encoding="utf-8")
        for q in bank.in_topic(t.id):
            assert f"/q/{q.id}/" in page, f"print-{t.id} lacks {q.id}"


_HREF = re.compile(r'(?:href|src)="([^"#?:]+)(?:[#?][^"]*)?"')


def test_every_relative_link_resolves(built_site):
    """Including the links inside question content copied into the printable topic pages."""
    broken = []
    for page in built_site.rglob("*.html"):
        for target in _HREF.findall(page.read_text(encoding="utf-8")):
            if target.startswith(("/", "data")):
                continue
            resolved = (page.parent / target).resolve()
            if not (resolved.is_file() or (resolved / "index.html").is_file()):
                broken.append(f"{page.relative_to(built_site)} -> {target}")
    assert broken == [], broken[:10]


def test_practice_anchor_matches_the_configured_slugify():
    from pymdownx.slugs import slugify

    from genprep.site.generate import PRACTICE_ANCHOR, PRACTICE_HEADING
    assert slugify(case="lower")(PRACTICE_HEADING, "-") == PRACTICE_ANCHOR


def test_page_titles_are_yaml_strings_in_plain_text():
    import yaml

    from genprep.site.generate import front_matter, pages
    tricky = 'The "$\\beta$-VAE": why \\ and `*`?'
    head = yaml.safe_load(front_matter(tricky).strip("-\n"))
    assert head == {"title": 'The "β-VAE": why \\ and *?'}
    for path, text in pages(load_bank(ROOT)).items():
        title = yaml.safe_load(text.split("---\n")[1])["title"]
        assert "$" not in title and "\\" not in title and not any(ord(c) < 32 for c in title), f"{path}: {title!r}"


def test_question_pages_say_where_they_stand_in_their_topic():
    from genprep.site.generate import pages, question_url
    bank = load_bank(ROOT)
    generated = pages(bank)
    for topic in bank.topics:
        qs = bank.in_topic(topic.id)
        for i, q in enumerate(qs):
            nav = generated[question_url(q)].split('class="gp-prevnext"')[1]
            assert f"{i + 1} / {len(qs)}" in nav, f"{q.id}: no position {i + 1} / {len(qs)} in {nav[:200]!r}"


def test_every_page_has_balanced_html(built_site):
    """A question's content must not close an element it did not open: on the printable pages, which put every
    question in a <section>, one stray </div> pushes the rest of the page out of the article and sideways."""
    from html.parser import HTMLParser

    void = {"br", "img", "hr", "input", "meta", "link", "wbr", "source", "area", "col", "embed", "path"}

    class Balance(HTMLParser):
        def __init__(self):
            super().__init__()
            self.stack, self.stray = [], []

        def handle_starttag(self, tag, attrs):
            if tag not in void:
                self.stack.append(tag)

        def handle_endtag(self, tag):
            if tag in void:
                return
            if self.stack and self.stack[-1] == tag:
                self.stack.pop()
            else:
                self.stray.append((tag, self.getpos()[0]))

    bad = {}
    for page in [*built_site.glob("q/*/index.html"), *built_site.glob("topics/*/index.html")]:
        checker = Balance()
        checker.feed(page.read_text(encoding="utf-8"))
        if checker.stray:
            bad[str(page.relative_to(built_site))] = checker.stray[:2]
    assert bad == {}, f"closing tags without a matching opening tag: {bad}"
