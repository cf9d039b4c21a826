"""The built site in headless Chromium: formulas, language tabs, search, filters, offline."""
from __future__ import annotations

import os
from urllib.parse import urlparse

import pytest


def _local_only(page):
    foreign = [u for u in page.requests if urlparse(u).hostname not in ("127.0.0.1", None) and not u.startswith("data:")]
    assert foreign == [], f"requests left the site: {foreign[:5]}"


def test_formulas_are_typeset(page, site_url):
    page.goto(f"{site_url}/q/kl-normal/")
    page.wait_for_selector("mjx-container", state="attached", timeout=15000)  # some sit in the hidden answer
    text = page.inner_text("article")
    assert "$$" not in text and "\\frac" not in text
    assert page.locator("mjx-container").count() >= 3
    _local_only(page)
    assert page.console_errors == []


def test_language_tab_switches_and_persists(page, site_url):
    page.goto(f"{site_url}/q/kl-normal/")
    page.get_by_text("English", exact=True).first.click()
    head = page.locator(".tabbed-block:visible").first.locator(".gp-answer-head")
    assert head.text_content().strip() == "Answer"
    page.goto(f"{site_url}/q/stable-softmax/")
    page.wait_for_selector(".tabbed-set")
    head = page.locator(".tabbed-set").first.locator(".tabbed-block:visible").first.locator(".gp-answer-head")
    assert head.text_content().strip() == "Answer", "the English tab should stay selected on the next page"
    _local_only(page)


def _search(page, site_url, query):
    page.goto(f"{site_url}/")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    page.fill(".md-search__input", query)
    page.locator(".md-search__input").press("End")  # Material searches on key events
    page.wait_for_selector(".md-search-result__item", timeout=15000)
    return page.locator(".md-search-result__item a").evaluate_all("els => els.map(e => e.href)")


def test_search_finds_chinese_and_english(page, site_url):
    links = _search(page, site_url, "变分自编码器")
    assert any("/q/vae-how-it-works/" in link for link in links), links
    links = _search(page, site_url, "softmax")
    assert any("/q/stable-softmax/" in link for link in links), links
    links = _search(page, site_url, "gradients")  # no stemming: an inflected English word is found
    assert any("/q/" in link for link in links), links
    _local_only(page)


def test_topic_filters(page, site_url):
    page.goto(f"{site_url}/topics/foundations/")
    page.wait_for_selector(".gp-filters select")
    rows = page.locator(".gp-questions tbody tr")
    total = rows.count()
    page.select_option(".gp-filters select >> nth=0", "coding")
    visible = [r for r in rows.all() if r.is_visible()]
    assert 0 < len(visible) <= total
    assert all("coding" in r.inner_text() for r in visible)
    _local_only(page)


PHONE = {"width": 390, "height": 844}


def _overflow(page) -> dict:
    """Sideways overflow of the page, and display formulas that are cut off instead of scrolling in their box."""
    return page.evaluate("""() => {
        const page = document.documentElement.scrollWidth - window.innerWidth;
        const cut = [...document.querySelectorAll('mjx-container[display="true"]')].filter(m => {
            const s = getComputedStyle(m);
            return m.scrollWidth > m.clientWidth + 1 && !['auto', 'scroll'].includes(s.overflowX);
        }).length;
        return {page, cut};
    }""")




@pytest.mark.skipif(not (os.environ.get("CI") or os.environ.get("GENPREP_SLOW")),
                    reason="typesets every formula of the bank (~40 s); runs in CI and `./dev test` (GENPREP_SLOW=1)")
def test_every_formula_typesets_without_errors_and_fits_a_phone(page, site_url):
    """The printable topic pages hold every question's answer: together they cover every formula. On a
    390 px screen none of them may scroll sideways (long formulas scroll inside their own box)."""
    from _sitebuild import ROOT

    from genprep.bank.loader import load_bank
    page.set_viewport_size(PHONE)
    errors, wide = {}, {}
    for topic in load_bank(ROOT).topics:
        page.goto(f"{site_url}/topics/print-{topic.id}/")
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
        page.evaluate("MathJax.startup.promise")
        bad = page.locator("mjx-merror").all_inner_texts()
        raw = page.evaluate("""() => [...document.querySelectorAll('article p, article li')]
                                 .map(e => e.innerText).filter(t => t.includes('$$'))""")
        if bad or raw:
            errors[topic.id] = (bad[:3], raw[:2])
        if (result := _overflow(page))["page"] > 1 or result["cut"]:
            wide[topic.id] = result
    assert errors == {}, f"TeX errors or raw $$ on: {errors}"
    assert wide == {}, f"printable pages wider than a 390 px phone (px too wide, formulas cut off): {wide}"
    assert page.console_errors == []
    _local_only(page)


def test_figures_load(page, site_url):
    page.goto(f"{site_url}/q/sinusoidal-positional-encoding/")
    page.locator(".gp-reveal-button").first.click()  # figures belong to the answer in self-test mode
    img = page.locator(".gp-figure img").first
    img.wait_for()
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 100", img.element_handle())
    _local_only(page)


def test_dark_mode_toggle(page, site_url):
    page.goto(f"{site_url}/")
    before = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
    page.locator("label.md-header__button[for^='__palette']").first.click()
    after = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
    assert {before, after} == {"default", "slate"}


# The page-weight budget of a question page: its HTML at most 150 KB, everything it
# loads (MathJax, theme, fonts, the search index for the whole bank) at most 8 MB,
# uncompressed, as served by `mkdocs serve` or a static server without gzip.
HTML_BUDGET = 150_000
TOTAL_BUDGET = 8_000_000


def test_question_page_weight_budget(page, site_url, built_site):
    html = (built_site / "q" / "kl-normal" / "index.html").stat().st_size
    assert html <= HTML_BUDGET, f"question page HTML is {html} bytes (budget {HTML_BUDGET})"
    sizes = {}
    page.on("response", lambda r: sizes.__setitem__(r.url, len(r.body())) if r.ok else None)
    page.goto(f"{site_url}/q/kl-normal/")
    page.wait_for_selector("mjx-container", state="attached")
    page.wait_for_load_state("networkidle")
    total = sum(sizes.values())
    largest = sorted(sizes.items(), key=lambda kv: -kv[1])[:3]
    assert total <= TOTAL_BUDGET, f"a question page loads {total} bytes (budget {TOTAL_BUDGET}); largest: {largest}"



@pytest.mark.skipif(not (os.environ.get("CI") or os.environ.get("GENPREP_SLOW")),
                    reason="loads about 30 pages on a phone-sized screen (~20 s); runs in CI and `./dev test`")
def test_nothing_is_wider_than_a_phone(page, site_url):
    """At 390 px no page scrolls sideways: long formulas and tables scroll inside their own box. The topic pages
    hold every table; the printable pages (every answer) are checked with the formulas above."""
    from _sitebuild import ROOT

    from genprep.bank.loader import load_bank
    page.set_viewport_size(PHONE)
    bank = load_bank(ROOT)
    paths = ["", "topics/", "glossary/", "practice/"]
    paths += [f"topics/{t.id}/" for t in bank.topics]
    longest = sorted(bank.questions.values(), key=lambda q: -max(len(q.formula or ""), len(q.title.en)))[:8]
    paths += [f"q/{q.id}/" for q in longest]
    wide = {}
    for path in paths:
        page.goto(f"{site_url}/{path}")
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
        page.evaluate("MathJax.startup.promise")
        result = _overflow(page)
        if result["page"] > 1 or result["cut"]:
            wide[path] = result
    assert wide == {}, f"pages wider than a 390 px phone (px too wide, formulas cut off): {wide}"


def test_a_tag_opens_its_topic_filtered_and_the_filter_stays_in_the_url(page, site_url):
    page.goto(f"{site_url}/q/layer-norm/")
    page.locator("a.gp-tag", has_text="normalization").first.click()
    page.wait_for_selector(".gp-filters select")
    assert "tag=normalization" in page.url and "/topics/transformer/" in page.url
    visible = [r.inner_text() for r in page.locator(".gp-questions tbody tr").all() if r.is_visible()]
    assert visible and all("normalization" in r for r in visible)
    page.select_option(".gp-filters select >> nth=1", "easy")
    assert "difficulty=easy" in page.url and "tag=normalization" in page.url
    page.reload()
    page.wait_for_selector(".gp-filters select")
    assert page.locator(".gp-filters select >> nth=1").input_value() == "easy"
    assert all("easy" in r.inner_text() for r in page.locator(".gp-questions tbody tr").all() if r.is_visible())
    _local_only(page)


def test_self_test_hides_the_answer_until_asked_and_reading_mode_is_remembered(page, site_url):
    page.goto(f"{site_url}/q/fid-formula/")  # a formula question with hints
    page.wait_for_selector(".gp-selftest-bar")
    tab = page.locator(".tabbed-block:visible").first
    assert tab.locator("details.tip").count() >= 1 and tab.locator("details.tip").first.is_visible()  # hints first
    assert not tab.locator(".gp-answer-head").is_visible()
    assert not page.locator(".gp-formula").is_visible()  # the headline formula belongs to the answer
    tab.locator(".gp-reveal-button").click()
    assert tab.locator(".gp-answer-head").is_visible() and page.locator(".gp-formula").is_visible()
    page.get_by_text("English", exact=True).first.click()
    assert page.locator(".tabbed-block:visible").first.locator(".gp-answer-head").is_visible()  # both languages
    page.goto(f"{site_url}/q/layer-norm/")
    page.wait_for_selector(".gp-selftest-bar")
    assert not page.locator(".tabbed-block:visible").first.locator(".gp-answer-head").is_visible()
    page.locator(".gp-selftest-bar input").check()  # reading mode
    assert page.locator(".tabbed-block:visible").first.locator(".gp-answer-head").is_visible()
    page.reload()
    page.wait_for_selector(".gp-selftest-bar")
    assert page.locator(".tabbed-block:visible").first.locator(".gp-answer-head").is_visible()
    page.locator(".gp-selftest-bar input").uncheck()
    page.emulate_media(media="print")  # printing shows everything, whatever the mode
    assert page.locator(".tabbed-block").first.locator(".gp-answer-head").is_visible()
    _local_only(page)
    assert page.console_errors == []

