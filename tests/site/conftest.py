"""A strict build of the real site, shared by the site tests, and a local server for the browser."""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest
from _sitebuild import ROOT, build


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    pytest.importorskip("mkdocs", reason="the site tests need the site extras: pip install -e '.[site]'")
    out = tmp_path_factory.mktemp("site") / "_site"
    result = build(ROOT, out)
    assert result.returncode == 0, f"strict site build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return out


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site_url(built_site) -> str:
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _browser_missing(reason: str):
    if os.environ.get("GENPREP_REQUIRE_BROWSER"):
        pytest.fail(f"{reason} (GENPREP_REQUIRE_BROWSER is set, so this is an error)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _browser_missing("browser tests need Playwright: pip install -e '.[browser]'")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        _browser_missing("browser tests need Chromium: apt-get install chromium fonts-noto-cjk")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page(browser, site_url):
    """A fresh browser context; records every request and console error."""
    context = browser.new_context()
    page = context.new_page()
    page.requests = []
    page.console_errors = []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    yield page
    context.close()
