"""Thin MkDocs hook: adds the generated pages, the topic navigation, the home
page's counts and the offline MathJax assets, and lets other processes build
question pages. The logic lives in generate.py and parallel.py."""
from __future__ import annotations

import logging
import re
import shutil
import sys
from pathlib import Path

from jinja2 import ChoiceLoader, DictLoader, Environment
from mkdocs.structure.files import File, Files

from genprep.bank import layout
from genprep.bank.errors import BankError
from genprep.bank.loader import load_bank
from genprep.bank.model import Bank
from genprep.bank.untrusted import html_problems
from genprep.shutdown import freeze_heap_at_exit
from genprep.site import downloads, parallel, search_index, study
from genprep.site import figures as figure_registry
from genprep.site.generate import counts_table, pages

log = logging.getLogger("mkdocs.plugins.genprep")
COUNTS_MARKER = "<!-- genprep:counts -->"
_bank: Bank = None  # type: ignore[assignment]  # loaded in on_config
_command: str | None = None  # build, serve, gh-deploy
_workers: parallel.PageWorkers | None = None  # question pages built by other processes
_search = None  # the search plugin's index while the pages' entries are computed as they render
_env: Environment | None = None  # the theme's templates, once MkDocs has set them up
_anki: downloads.AnkiBuild | None = None  # the Anki deck, built by another process during the build
_figures: downloads.Background | None = None  # figures missing from the cache, drawn during the build
_files: Files | None = None


def on_startup(command, dirty):
    global _command
    _command = command


def _root(config) -> Path:
    return Path(config["config_file_path"]).resolve().parent


def _mathjax_dir() -> Path:
    try:
        import mathjax  # from the PyPI package django-static-mathjax (no Django needed)
    except ImportError as exc:
        raise SystemExit(f"genprep: the site needs MathJax from PyPI for offline formulas: "
                         f"{layout.install_hint('site')} (or: pip install django-static-mathjax)") from exc
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
    search_index.load_jieba_words(search_index.jieba_words(_bank))  # the bank's terms are words in search
    global _anki
    if _anki is not None:
        _anki.close()
    _anki = downloads.AnkiBuild(_root(config)) if _command in ("build", "gh-deploy") and downloads.anki_available() \
        else None
    return config


def on_files(files: Files, config) -> Files:
    global _figures
    # Figures not yet in the cache are drawn by another process while the pages build (drawing them all
    # takes longer than building every page); they are copied into the site at the end (on_post_build).
    drawn = figure_registry.planned(_root(config), set(_bank.questions))
    missing = sorted({q for q, items in drawn.items() for _fig, path in items if not path.is_file()})
    if _figures is not None:
        _figures.close()
    _figures = downloads.Background([sys.executable, "-m", "genprep.site.figures", str(_root(config)), *missing],
                                    "drawing the site's figures") if missing else None
    for items in drawn.values():
        for fig, path in items:
            files.append(_LateFile.generated(config, f"assets/figures/{fig.name}.png", abs_src_path=str(path))
                         if not path.is_file() else
                         File.generated(config, f"assets/figures/{fig.name}.png", abs_src_path=str(path)))
    global _files
    _files = files
    generated = pages(_bank, drawn)
    files.append(File.generated(config, study.DATA, content=study.data(_bank)))  # the quiz's question list
    # Question pages last: with several processes, the main one renders all other pages first.
    for rel, text in sorted(generated.items(), key=lambda kv: kv[0].startswith("q/")):
        files.append(File.generated(config, rel, content=text))
    base = _mathjax_dir()
    for part in MATHJAX_PARTS:
        src = base / part
        found = [src] if src.is_file() else sorted(p for p in src.rglob("*") if p.is_file()) if src.is_dir() else []
        for path in found:
            rel = path.relative_to(base).as_posix()
            files.append(File.generated(config, f"assets/mathjax/{rel}", abs_src_path=str(path)))
    return files


class _LateFile(File):
    """A figure still being drawn: MkDocs links to it as usual, on_post_build copies it once it exists."""

    def copy_file(self, dirty: bool = False) -> None:
        pass


def _copy_late_figures(files: Files, site_dir: Path) -> None:
    global _figures
    if _figures is not None:
        figures, _figures = _figures, None
        figures.finish()
    for f in files:
        if isinstance(f, _LateFile) and f.abs_src_path:
            dest = Path(f.abs_dest_path)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f.abs_src_path, dest)


def on_nav(nav, config, files):
    """Start the processes that build question pages alongside this one (see parallel.py)."""
    global _workers, _search
    _workers, _search = None, None
    jobs = parallel.jobs_wanted(_command)
    questions = {f.src_uri for f in files.documentation_pages() if f.src_uri.startswith("q/")}
    if jobs < 2 or len(questions) < parallel.MIN_PAGES:
        return nav
    try:  # MkDocs' own page routines, so that a worker builds a page exactly as MkDocs would
        from mkdocs.commands.build import _build_page, _populate_page
    except ImportError:  # pragma: no cover - a MkDocs without them: build in one process
        return nav
    _search = parallel.search_index_of(config)
    if _search is not None:
        _index_from_precomputed_entries(_search)
        try:  # load the Chinese dictionary once, before the workers start, instead of in each
            import jieba
            jieba.initialize()
        except ImportError:
            pass
    _workers = parallel.PageWorkers(config, files, nav, [f.src_uri for f in files.documentation_pages()
                                                         if f.src_uri in questions])
    _workers.start(jobs, _populate_page, _build_page)
    return nav


def _index_from_precomputed_entries(index) -> None:
    """Let the search plugin take a page's entries computed while it rendered, when there are any."""
    index_page = index.add_entry_from_context

    def add_entry_from_context(page):
        entries = getattr(page, "genprep_search_entries", None)
        if entries is None:
            index_page(page)
        else:
            index.entries.extend(entries)

    index.add_entry_from_context = add_entry_from_context


def _main_process_workers() -> parallel.PageWorkers | None:
    return _workers if _workers is not None and not _workers.in_worker else None


def on_pre_page(page, config, files):
    workers = _main_process_workers()
    if workers is not None and not workers.main_takes(page.file.src_uri):
        def render(config, files):
            done = workers.result(page.file.src_uri)
            if done is None:  # the worker failed on this page: render it here, errors and all
                type(page).render(page, config, files)
                return
            workers.apply(page, done)
            page.genprep_prerendered = True
            # the worker fills the template too; keep the real one in case it fails
            page.genprep_template = page.meta.get("template", "main.html")
            page.meta["template"] = parallel.PREBUILT_TEMPLATE

        page.render = render
    return page


def on_env(env, config, files):
    global _env
    workers = _main_process_workers()
    if workers is not None:
        env.loader = ChoiceLoader([DictLoader({parallel.PREBUILT_TEMPLATE: ""}), env.loader])
        logging.getLogger("mkdocs.commands.build").addFilter(workers.quiet_skipped_pages)
    _env = env
    return env


def on_page_context(context, page, config, nav):
    if page.meta.get("title"):  # the search index shows it instead of the heading (spans for each language)
        _page_titles[page.url] = str(page.meta["title"])
    if getattr(page, "genprep_template", None):
        page.genprep_context = context  # to fill the real template if the worker's page never comes
    return context


def _stop_workers() -> None:
    global _workers, _search
    workers = _main_process_workers()
    if workers is not None:
        workers.close()
        logging.getLogger("mkdocs.commands.build").removeFilter(workers.quiet_skipped_pages)
    _workers, _search = None, None


def on_build_error(error):
    global _anki, _figures
    _stop_workers()
    if _figures is not None:
        _figures.close()
        _figures = None
    if _anki is not None:
        _anki.close()
        _anki = None


def on_post_build(config):
    freeze_heap_at_exit()  # shutdown would sweep every page object (half a second for a large bank)
    _stop_workers()
    global _anki
    if _files is not None:
        _copy_late_figures(_files, Path(config["site_dir"]))
    search_index.rewrite(Path(config["site_dir"]), _bank, _page_titles)
    if _anki is not None:
        anki, _anki = _anki, None
        anki.finish(Path(config["site_dir"]))


def on_page_markdown(markdown: str, page, config, files) -> str:
    if COUNTS_MARKER in markdown:
        markdown = markdown.replace(COUNTS_MARKER, counts_table(_bank))
    if downloads.ANKI_MARKER in markdown:  # `mkdocs serve` builds no deck: it says how to get one
        base = "../" * page.url.count("/")
        markdown = markdown.replace(downloads.ANKI_MARKER, downloads.anki_section(
            _command in ("build", "gh-deploy") and downloads.anki_available(), base))
    return markdown


def on_page_content(html: str, page, config, files) -> str:
    if not getattr(page, "genprep_prerendered", False):  # a worker has checked and indexed it already
        problems = html_problems(html)
        if problems:
            raise SystemExit(f"genprep: unsafe HTML in {page.file.src_uri}: {'; '.join(problems[:5])}. "
                             "Question text may only use Markdown (see genprep/untrusted.py).")
        if _search is not None:  # index it now, while other processes render theirs
            page.content = html
            page.genprep_search_entries = parallel.search_entries(_search, page)
    if page.file.src_uri.startswith("q/"):
        _rendered[page.file.src_uri[2:-3]] = html  # reused by the printable topic pages
    return html


_rendered: dict[str, str] = {}
_page_titles: dict[str, str] = {}  # page URL -> its front matter title
_SLOT = re.compile(r'<div class="gp-print-slot" data-question="([a-z0-9-]+)"></div>')
_SIBLING = re.compile(r'href="\.\./(?!\.)')  # ../other-question/ from /q/x/ is ../../q/other-question/ here


def on_post_page(output: str, page, config) -> str:
    """Fill a printable topic page's slots with the questions' rendered content.

    Every page's content is rendered (on_page_content) before any page is
    written (on_post_page), so all questions are available here.
    """
    if getattr(page, "genprep_template", None):  # filled with the empty template here
        assert _workers is not None and _env is not None
        if _workers.has_written(page.file.src_uri):
            return ""  # MkDocs writes nothing (and its note saying so is filtered out)
        return _env.get_template(page.genprep_template).render(page.genprep_context)  # the worker failed on it
    if not page.file.src_uri.startswith("topics/print-"):
        return output

    def fill(match: re.Match) -> str:
        body = _rendered.get(match.group(1), "")
        body = body.replace("<h1", "<h2").replace("</h1>", "</h2>")
        body = _SIBLING.sub('href="../../q/', body)
        return f'<section class="gp-print-question">{body}</section>'

    return _SLOT.sub(fill, output)
