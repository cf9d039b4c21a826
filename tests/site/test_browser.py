"""The built site in headless Chromium: formulas, language tabs, search, filters, offline."""
from __future__ import annotations

from urllib.parse import urlparse


def _local_only(page):
    foreign = [u for u in page.requests if urlparse(u).hostname not in ("127.0.0.1", None) and not u.startswith("data:")]
    assert foreign == [], f"requests left the site: {foreign[:5]}"


def test_formulas_are_typeset(page, site_url):
    page.goto(f"{site_url}/q/kl-normal/")
    page.wait_for_selector("mjx-container", timeout=15000)
    text = page.inner_text("article")
    assert "$$" not in text and "\\frac" not in text
    assert page.locator("mjx-container").count() >= 3
    _local_only(page)
    assert page.console_errors == []


def test_language_tab_switches_and_persists(page, site_url):
    page.goto(f"{site_url}/q/kl-normal/")
    page.get_by_text("English", exact=True).first.click()
    assert page.locator(".tabbed-block:visible").first.inner_text().startswith("Answer")
    page.goto(f"{site_url}/q/stable-softmax/")
    page.wait_for_selector(".tabbed-set")
    visible = page.locator(".tabbed-set").first.locator(".tabbed-block:visible").first.inner_text()
    assert visible.startswith("Answer"), "the English tab should stay selected on the next page"
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
