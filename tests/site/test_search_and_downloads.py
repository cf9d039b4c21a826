"""What the build writes for search, downloads and the sitemap; the pieces behind them, unit by unit."""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from _sitebuild import ROOT

from genprep.bank.loader import load_bank
from genprep.bank.markdown_text import plain_text
from genprep.site import downloads, search_index

SITE_URL = "https://genprep.github.io/genprep/"
LATEX_COMMAND = re.compile(r"\\(?:[a-zA-Z]{2,}|[()\[\]])")  # \frac, \mathbb, \( … — never in the index


# --- the index: plain text, no LaTeX, both languages ---------------------------------------------------

def test_index_text_has_no_latex_and_keeps_readable_symbols():
    html = (r'<p>KL 是 \(\frac{1}{2}\sigma^2 &lt; \beta\)，见 <code>kl_normal</code>。</p>'
            r'<p>Docstring $$\tfrac12\Big(\log\frac{a}{b}\Big)$$ and $\mathbb E_x$.</p>')
    text = search_index.plain(html)
    assert not LATEX_COMMAND.search(text), text
    assert "<" in text and "σ" in text and "β" in text and "1/2" in text  # &lt; unescaped, symbols kept
    assert "<p>" not in text and "kl_normal" in text


def test_clean_index_titles_each_question_in_both_languages():
    bank = load_bank(ROOT)
    q = bank.questions["kl-normal"]
    data = {"docs": [{"location": "q/kl-normal/", "title": "<span>x</span>", "text": r"\(a\)"},
                     {"location": "q/kl-normal/#refs", "title": "参考文献\u200b · References", "text": ""}]}
    cleaned = search_index.clean_index(data, search_index.question_titles(bank))
    assert cleaned["docs"][0]["title"] == plain_text(f"{q.title.zh} · {q.title.en}")
    assert cleaned["docs"][0]["text"] == "a"
    assert cleaned["docs"][1]["title"] == "参考文献\u200b · References"  # word breaks kept for ranking


def test_jieba_learns_the_banks_terms():
    jieba = pytest.importorskip("jieba")
    words = search_index.jieba_words(load_bank(ROOT))
    assert "朗之万" in words and "交叉熵" in words and "散度" in words
    assert all(re.fullmatch(r"[\u3400-\u9fff]{2,}", w) for w in words)
    assert search_index.load_jieba_words(words)
    assert jieba.lcut("朗之万方程") == ["朗之万", "方程"], jieba.lcut("朗之万方程")  # not 朗/之/万
    assert jieba.lcut("交叉熵损失") == ["交叉熵", "损失"], jieba.lcut("交叉熵损失")


def test_built_index_is_plain_text_without_latex(built_site):
    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    bad = [(d["location"], LATEX_COMMAND.search(d["text"] + d["title"]).group(0)) for d in index["docs"]
           if LATEX_COMMAND.search(d["text"] + d["title"])]
    assert bad == [], f"LaTeX left in the search index: {bad[:5]}"
    titles = {d["location"]: d["title"] for d in index["docs"]}
    assert "Implement" in titles["q/kl-normal/"] and "散度" in titles["q/kl-normal/"]
    assert not any("<" in d["text"] and ">" in d["text"] and "<p>" in d["text"] for d in index["docs"])


# --- weight: the mistakes are split, no page carries the whole bank's formulas ---------------------------

MAX_FORMULAS = 250  # the single mistakes page had 1,241 and took 8 s to typeset; print pages are exempt


def test_mistakes_are_one_page_per_topic_and_no_reading_page_is_formula_heavy(built_site):
    bank = load_bank(ROOT)
    with_pitfalls = [t.id for t in bank.topics if any(q.pitfalls for q in bank.in_topic(t.id))]
    assert with_pitfalls
    index = (built_site / "mistakes" / "index.html").read_text(encoding="utf-8")
    for topic in with_pitfalls:
        assert (built_site / "mistakes" / topic / "index.html").is_file(), topic
        assert f'href="{topic}/"' in index, f"the mistakes index does not link to {topic}"
    heavy = {}
    for page in built_site.rglob("index.html"):
        rel = page.relative_to(built_site).as_posix()
        if rel.startswith("topics/print-"):
            continue  # a whole topic for printing, on purpose
        n = page.read_text(encoding="utf-8").count('class="arithmatex"')
        if n > MAX_FORMULAS:
            heavy[rel] = n
    assert heavy == {}, f"pages with more than {MAX_FORMULAS} formulas (slow to typeset): {heavy}"


# --- the sitemap and the Anki deck -----------------------------------------------------------------------

def test_sitemap_has_absolute_addresses(built_site):
    sitemap = (built_site / "sitemap.xml").read_text(encoding="utf-8")
    locs = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    assert len(locs) > 50
    assert all(loc.startswith(SITE_URL) for loc in locs), [loc for loc in locs if not loc.startswith(SITE_URL)][:3]
    assert f"{SITE_URL}q/kl-normal/" in locs


def test_practice_page_offers_the_anki_deck(built_site):
    page = (built_site / "practice" / "index.html").read_text(encoding="utf-8")
    if not downloads.anki_available():
        assert "genprep anki" in page and "gp-anki-download" not in page
        return
    link = re.search(r'class="md-button gp-anki-download" href="([^"]+)"', page)
    assert link, "the practice page has no download link for the Anki deck"
    deck = (built_site / "practice" / link.group(1)).resolve()
    assert deck.is_file(), f"the link points to {deck}, which the build did not write"
    with zipfile.ZipFile(deck) as z:  # an .apkg is a zip holding the collection
        assert any(name.startswith("collection.anki2") for name in z.namelist()), z.namelist()
    assert deck.stat().st_size > 10_000


def test_without_genanki_the_page_says_how_to_get_the_deck():
    text = downloads.anki_section(False)
    assert "genprep anki" in text and "pip install" in text and "href" not in text
    linked = downloads.anki_section(True, "../")
    assert f'href="../{downloads.ANKI_FILE}"' in linked


def test_a_failed_deck_build_stops_the_site_build_with_the_reason(tmp_path):
    build = downloads.AnkiBuild(tmp_path / "not-a-checkout")
    with pytest.raises(SystemExit) as info:
        build.finish(tmp_path / "site")
    message = str(info.value)
    assert "genprep anki" in message and "genanki" in message
    assert not (tmp_path / "site" / downloads.ANKI_FILE).exists()
    assert not build.dir.exists()  # its temporary folder is gone


def test_theme_override_is_where_mkdocs_yml_says():
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    folder = re.search(r"custom_dir:\s*(\S+)", text).group(1)
    main = Path(ROOT / folder / "main.html").read_text(encoding="utf-8")
    assert "assets/head.js" in main and "genprepConfig" in main
    assert f"site_url: {SITE_URL}" in text


# --- figures: drawn by another process during the build, at the paths the pages already link to ----------

def test_planned_figures_are_where_render_draws_them(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from test_figures import _tiny_figure

    from genprep.site import figures
    root = tmp_path / "repo"
    (root / "solutions").mkdir(parents=True)
    (root / "solutions" / "losses.py").write_text("x = 1\n", encoding="utf-8")
    fake = figures.Figure("probe", "q", figures.T("图", "figure"), _tiny_figure)
    monkeypatch.setattr(figures, "FIGURES", (fake,))
    cache = tmp_path / "cache"
    plan = figures.planned(root, {"q", "other"}, cache)
    assert list(plan) == ["q"] and not plan["q"][0][1].exists()  # planning draws nothing
    drawn = figures.render(root, {"q"}, cache)
    assert [p for _f, p in drawn["q"]] == [p for _f, p in plan["q"]] and plan["q"][0][1].is_file()


def test_a_failed_background_job_stops_the_build_with_its_output():
    import sys
    job = downloads.Background([sys.executable, "-c", "import sys; print('figure x: no such solution'); sys.exit(3)"],
                               "drawing the site's figures", "Fix the figure's code.")
    with pytest.raises(SystemExit) as info:
        job.finish()
    message = str(info.value)
    assert "drawing the site's figures failed (exit status 3)" in message
    assert "no such solution" in message and "Fix the figure's code." in message
