"""Thin MkDocs hook: adds the generated pages, the topic navigation, the home
page's counts and the offline MathJax assets. All logic lives in generate.py."""
from __future__ import annotations

import logging
import re
from pathlib import Path

from mkdocs.structure.files import File, Files

from genprep.errors import BankError
from genprep.loader import load_bank
from genprep.model import Bank
from genprep.site import figures as figure_registry
from genprep.site.generate import counts_table, pages
from genprep.untrusted import html_problems

log = logging.getLogger("mkdocs.plugins.genprep")
COUNTS_MARKER = "<!-- genprep:counts -->"
_bank: Bank = None  # type: ignore[assignment]  # loaded in on_config


def _root(config) -> Path:
    return Path(config["config_file_path"]).resolve().parent


def _mathjax_dir() -> Path:
    try:
        import mathjax  # from the PyPI package django-static-mathjax (no Django needed)
    except ImportError as exc:
        raise SystemExit("genprep: the site needs MathJax from PyPI for offline formulas: "
                         "pip install 'genprep[site]' (or: pip install django-static-mathjax)") from exc
    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


# Only what tex-chtml needs at run time: the component, its fonts, and TeX
# extensions that load on demand (e.g. \boldsymbol); the menu and speech parts are off.
MATHJAX_PARTS = ("tex-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions")


def on_config(config):
    global _bank
    try:
        _bank = load_bank(_root(config))
    except BankError as exc:
        raise SystemExit(f"genprep: the question bank has problems; the site is not built:\n{exc.report()}") from None
    topics = [{"全部主题 · All topics": "topics/index.md"}] + [
        {f"{t.title.zh} · {t.title.en}": f"topics/{t.id}.md"} for t in _bank.topics]
    nav = []
    for item in config["nav"] or []:
        if isinstance(item, dict) and "Topics" in item:
            nav.append({"主题 · Topics": topics})
        else:
            nav.append(item)
    config["nav"] = nav
    return config


def on_files(files: Files, config) -> Files:
    drawn = figure_registry.render(_root(config), set(_bank.questions))
    for items in drawn.values():
        for fig, path in items:
            files.append(File.generated(config, f"assets/figures/{fig.name}.png", abs_src_path=str(path)))
    for rel, text in pages(_bank, drawn).items():
        files.append(File.generated(config, rel, content=text))
    base = _mathjax_dir()
    for part in MATHJAX_PARTS:
        src = base / part
        found = [src] if src.is_file() else sorted(p for p in src.rglob("*") if p.is_file()) if src.is_dir() else []
        for path in found:
            rel = path.relative_to(base).as_posix()
            files.append(File.generated(config, f"assets/mathjax/{rel}", abs_src_path=str(path)))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    if COUNTS_MARKER in markdown:
        markdown = markdown.replace(COUNTS_MARKER, counts_table(_bank))
    return markdown


def on_page_content(html: str, page, config, files) -> str:
    problems = html_problems(html)
    if problems:
        raise SystemExit(f"genprep: unsafe HTML in {page.file.src_uri}: {'; '.join(problems[:5])}. "
                         "Question text may only use Markdown (see genprep/untrusted.py).")
    if page.file.src_uri.startswith("q/"):
        _rendered[page.file.src_uri[2:-3]] = html  # reused by the printable topic pages
    return html


_rendered: dict[str, str] = {}
_SLOT = re.compile(r'<div class="gp-print-slot" data-question="([a-z0-9-]+)"></div>')
_SIBLING = re.compile(r'href="\.\./(?!\.)')  # ../other-question/ from /q/x/ is ../../q/other-question/ here


def on_post_page(output: str, page, config) -> str:
    """Fill a printable topic page's slots with the questions' rendered content.

    Every page's content is rendered (on_page_content) before any page is
    written (on_post_page), so all questions are available here.
    """
    if not page.file.src_uri.startswith("topics/print-"):
        return output

    def fill(match: re.Match) -> str:
        body = _rendered.get(match.group(1), "")
        body = body.replace("<h1", "<h2").replace("</h1>", "</h2>")
        body = _SIBLING.sub('href="../../q/', body)
        return f'<section class="gp-print-question">{body}</section>'

    return _SLOT.sub(fill, output)
