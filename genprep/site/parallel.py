"""Build the question pages on every core.

MkDocs builds its pages one after another on one core: first it renders
every page's Markdown, then it puts every page into the theme's template.
With thousands of questions that is nearly all of a build. Just before the
first step (`on_nav`), `PageWorkers.start` forks worker processes. Workers
take question pages one at a time from the end of the list while the main
process goes through all pages from the start, so the work splits evenly
whatever each page costs (`_Claims`). A worker does both steps for its pages
with MkDocs' own routines (so every plugin event and Markdown extension runs
as usual) and reports after each step:

1. the rendered pages (HTML, table of contents, title, anchors) and their
   search entries, which the main process puts on its own page objects
   instead of rendering them again (`result` / `apply`);
2. which finished HTML files it has written, which the main process then
   leaves alone instead of filling the template again (`has_written`).

Nothing is lost on the way: warnings a worker logs are logged again by the
main process (so `--strict` counts them), and a page a worker failed on is
left to the main process, which builds it itself and reports the error as
MkDocs always does. If a worker dies, the main process builds its pages.

Used by `mkdocs build` on systems with `os.fork` and more than one core;
`GENPREP_SITE_JOBS=1` turns it off, `GENPREP_SITE_JOBS=N` sets the number of
processes. `mkdocs serve` always builds in one process (it runs threads, and
forking a threaded process is unsafe).
"""
from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import pickle
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("mkdocs.plugins.genprep")

MIN_PAGES = 100  # below this, forking costs more than it saves
MAX_JOBS = 8
PREBUILT_TEMPLATE = "genprep-prebuilt.html"  # an empty template for pages a worker has built


@dataclass
class Rendered:
    """What MkDocs' Page.render and the page events leave on a page."""

    content: str
    toc: object
    title: str | None
    present_anchor_ids: set | None
    links_to_anchors: dict[str, dict[str, str]] | None  # keyed by the linked file's src_uri
    search_entries: list | None


def jobs_wanted(command: str | None) -> int:
    """How many processes should build pages (1 = MkDocs' usual single process)."""
    setting = os.environ.get("GENPREP_SITE_JOBS", "").strip()
    if setting:
        try:
            wanted = int(setting)
        except ValueError:
            raise SystemExit(f"genprep: GENPREP_SITE_JOBS={setting!r} is not a number; "
                             "give the number of processes (1 builds the site in one process)") from None
    else:
        wanted = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        if sys.platform == "darwin":  # fork is unreliable under macOS system frameworks
            wanted = 1
    if command not in ("build", "gh-deploy") or not hasattr(os, "fork"):
        return 1
    return max(1, min(wanted, MAX_JOBS))


def search_index_of(config):
    """The Material search plugin's index object, if that plugin is on."""
    for plugin in config.plugins.values():
        index = getattr(plugin, "search_index", None)
        if index is not None and hasattr(index, "add_entry_from_context") and hasattr(index, "entries"):
            return index
    return None


def search_entries(index, page) -> list:
    """The entries `index` would add for `page`, computed on a fresh index of the same kind."""
    fresh = type(index)(**index.config)
    fresh.add_entry_from_context(page)
    return fresh.entries


class _Records(logging.Handler):
    """Keeps a worker's log records, to be logged again by the main process."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


class _Worker:
    """One worker process as the main process sees it.

    Each message is a pickle file; the pipe only says that the next file is
    complete, so a worker never waits for the main process to read.
    """

    def __init__(self, pid: int, read_end: int, folder: Path):
        self.pid, self.folder = pid, folder
        self.pipe = os.fdopen(read_end, "rb")

    def receive(self, step: str):
        """The worker's message after `step`, or None if it died before sending it."""
        try:
            if self.pipe.read(1) != step[:1].encode():
                return None
            with open(self.folder / f"{step}.pickle", "rb") as f:
                return pickle.load(f)
        except Exception:
            return None

    def finish(self, kill: bool = False) -> None:
        self.pipe.close()
        try:
            if kill:
                os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def _send(out, folder: Path, step: str, message) -> None:
    with open(folder / f"{step}.pickle", "wb") as f:
        pickle.dump(message, f, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(step[:1].encode())
    out.flush()


class _Claims:
    """The question pages, taken one at a time from both ends of one list: the main
    process from the front (in MkDocs' order), workers from the back. They meet
    wherever the work happens to balance, whatever each page costs."""

    def __init__(self, uris: list[str]):
        self.uris = uris
        self.position = {uri: i for i, uri in enumerate(uris)}
        self.bounds = multiprocessing.Array("i", [0, len(uris)])  # [front, back): still free; shared after fork

    def __contains__(self, uri: str) -> bool:
        return uri in self.position

    def main_takes(self, uri: str) -> bool:
        """Claim `uri` for the main process, unless a worker has it already."""
        i = self.position[uri]
        with self.bounds.get_lock():
            if i < self.bounds[1]:
                self.bounds[0] = max(self.bounds[0], i + 1)
                return True
            return False

    def worker_takes(self) -> str | None:
        """The next page for a worker, or None when none is left."""
        with self.bounds.get_lock():
            front, back = self.bounds[0], self.bounds[1]
            if back <= front:
                return None
            self.bounds[1] = back - 1
            return self.uris[back - 1]


class PageWorkers:
    """Worker processes that build question pages, and what they sent back."""

    def __init__(self, config, files, nav, pages: list[str]):
        self.config, self.files, self.nav = config, files, nav
        self.claims = _Claims(pages)
        self.workers: list[_Worker] = []
        self.in_worker = False
        self.rendered: dict[str, Rendered] | None = None
        self.built: set[str] | None = None  # pages whose HTML file a worker has written
        self.folder = Path(tempfile.mkdtemp(prefix="genprep-site-"))

    # -- the main process -------------------------------------------------

    def start(self, jobs: int, populate, build) -> None:
        """Fork jobs − 1 workers; they start taking pages at once."""
        atexit.register(self.close)  # however the build ends (SystemExit skips on_build_error)
        for i in range(jobs - 1):
            folder = self.folder / str(i)
            folder.mkdir()
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # the worker: build, send, and never return into MkDocs
                status = 1
                try:
                    self.in_worker = True
                    os.close(read_end)
                    for worker in self.workers:  # the pipes of workers started before this one
                        worker.pipe.close()
                    with os.fdopen(write_end, "wb") as out:
                        self._work(populate, build, out, folder)
                    status = 0
                finally:
                    os._exit(status)
            os.close(write_end)
            self.workers.append(_Worker(pid, read_end, folder))

    def main_takes(self, uri: str) -> bool:
        """Whether the main process builds page `uri` itself (every page but those a worker took)."""
        return uri not in self.claims or self.claims.main_takes(uri)

    def result(self, uri: str) -> Rendered | None:
        """The worker's rendering of page `uri`, or None when the main process must render it."""
        if self.rendered is None:
            self.rendered = {}
            for worker in self.workers:
                message = worker.receive("rendered")
                if message is None:
                    log.info("genprep: a page worker stopped early; building its pages here")
                    continue
                done, records = message
                _log_again(records)
                self.rendered.update(done)
        return self.rendered.get(uri)

    def has_written(self, uri: str) -> bool:
        """Whether a worker has written the finished HTML file of page `uri`."""
        if self.built is None:
            self.built = set()
            for worker in self.workers:
                message = worker.receive("built") if self.rendered is not None else None
                worker.finish(kill=message is None)
                if message is not None:
                    done, records = message
                    _log_again(records)
                    self.built.update(done)
        return uri in self.built

    def quiet_skipped_pages(self, record: logging.LogRecord) -> bool:
        """A logging filter: drop MkDocs' note that it wrote nothing for a page, when a worker wrote it."""
        prefix = "Page skipped: '"
        message = record.getMessage()
        if self.built and message.startswith(prefix):
            return message[len(prefix):].split("'", 1)[0] not in self.built
        return True

    def close(self) -> None:
        """Stop workers that are still running (the build failed before it needed them)
        and remove their messages."""
        if self.built is None:
            for worker in self.workers:
                worker.finish(kill=True)
            self.built = set()
        shutil.rmtree(self.folder, ignore_errors=True)

    def apply(self, page, rendered: Rendered) -> None:
        """Put a worker's rendering on the main process's page, as Page.render would have."""
        page.content = rendered.content
        page.toc = rendered.toc
        page._title_from_render = rendered.title
        page.present_anchor_ids = rendered.present_anchor_ids
        if rendered.links_to_anchors is not None:
            page.links_to_anchors = {self.files.get_file_from_path(uri): v for uri, v in rendered.links_to_anchors.items()}
        page.genprep_search_entries = rendered.search_entries

    # -- a worker ---------------------------------------------------------

    def _work(self, populate, build, out, folder: Path) -> None:
        from mkdocs.structure.files import InclusionLevel
        from mkdocs.structure.pages import Page

        config, files = self.config, self.files
        mkdocs_log = logging.getLogger("mkdocs")
        for handler in list(mkdocs_log.handlers):  # the main process prints and counts them
            mkdocs_log.removeHandler(handler)
        mkdocs_log.propagate = False

        rendered: dict[str, Rendered] = {}
        pages = []
        records: list = []
        while (uri := self.claims.worker_takes()) is not None:
            file = files.get_file_from_path(uri)
            page = file.page or Page(None, file, config)
            if _quietly(lambda: populate(page, config, files), records):
                pages.append(page)
                links = page.links_to_anchors
                rendered[uri] = Rendered(
                    content=page.content or "", toc=page.toc, title=page._title_from_render,
                    present_anchor_ids=page.present_anchor_ids,
                    links_to_anchors=None if links is None else {f.src_uri: v for f, v in links.items()},
                    search_entries=getattr(page, "genprep_search_entries", None))
        _send(out, folder, "rendered", (rendered, records))

        # The template step, as MkDocs does it after all pages are rendered. Pages of the
        # main process in the navigation need their front matter (icons, status) here.
        for item in self.nav.pages:
            if item.markdown is None:
                item.read_source(config)
        env = config.plugins.on_env(config.theme.get_env(), config=config, files=files)
        doc_files = files.documentation_pages(inclusion=InclusionLevel.is_included)
        records = []
        written = [page.file.src_uri for page in pages
                   if _quietly(lambda: build(page, config, doc_files, self.nav, env), records)]
        _send(out, folder, "built", (written, records))


def _quietly(step, records: list) -> bool:
    """Run one page's step; keep its log records if it succeeded (on failure the
    main process redoes the page and reports the error itself)."""
    mkdocs_log = logging.getLogger("mkdocs")
    handler = _Records()
    mkdocs_log.addHandler(handler)
    try:
        step()
    except (Exception, SystemExit):
        return False
    finally:
        mkdocs_log.removeHandler(handler)
    records += handler.records
    return True


def _log_again(records) -> None:
    for name, level, message in records:
        logging.getLogger(name).log(level, "%s", message)
