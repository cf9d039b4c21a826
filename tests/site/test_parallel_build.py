"""Building question pages in several processes changes nothing in the site (genprep/site/parallel.py)."""
from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genprep.site import parallel

ROOT = Path(__file__).resolve().parents[2]
slow = pytest.mark.skipif(not (os.environ.get("CI") or os.environ.get("GENPREP_SLOW")),
                          reason="builds the whole site several times; runs in CI and with GENPREP_SLOW=1")

# Injects trouble into the worker processes only (their pid differs from the one that loaded this hook).
FAULT_HOOK = '''
import logging, os
MAIN = os.getpid()

def on_page_markdown(markdown, page, config, files):
    mode = os.environ.get("FAULT")
    if mode == "main-exit" and os.getpid() == MAIN and page.file.src_uri == "glossary.md":
        raise SystemExit("fault injected in the main process")
    if os.getpid() != MAIN and page.file.src_uri.startswith("q/"):
        if mode == "raise":
            raise RuntimeError("fault injected in a worker")
        if mode == "die":
            os._exit(3)
        if mode == "warn":
            logging.getLogger("mkdocs.plugins.fault").warning("worker warning for %s", page.file.src_uri)
    return markdown
'''


def build(root: Path, out: Path, jobs: int, fault: str = "", strict: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "GENPREP_SITE_JOBS": str(jobs), "FAULT": fault}
    # never -q: MkDocs' quiet mode drops warnings before --strict can count them
    args = [sys.executable, "-m", "mkdocs", "build", "-d", str(out), "--strict" if strict else "--no-strict"]
    return subprocess.run(args, cwd=root, capture_output=True, text=True, env=env)


def differences(a: Path, b: Path) -> list[str]:
    """Files that differ between two built sites. sitemap.xml.gz and the Anki deck carry time stamps, so only
    their presence is compared; sitemap.xml is compared without its dates (two builds may straddle midnight)."""
    out = []
    for path in sorted(p for p in a.rglob("*") if p.is_file()):
        rel = path.relative_to(a)
        stamped = rel.name == "sitemap.xml.gz" or rel.suffix == ".apkg"
        if stamped and (b / rel).is_file():
            continue
        if rel.name == "sitemap.xml" and (b / rel).is_file():
            if _undated(path) != _undated(b / rel):
                out.append(str(rel))
            continue
        if not ((b / rel).is_file() and filecmp.cmp(path, b / rel, shallow=False)):
            out.append(str(rel))
    out += [str(p.relative_to(b)) for p in b.rglob("*") if p.is_file() and not (a / p.relative_to(b)).exists()]
    return out


def _undated(sitemap: Path) -> str:
    return re.sub(r"<lastmod>[^<]*</lastmod>", "", sitemap.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def serial_site(tmp_path_factory) -> Path:
    pytest.importorskip("mkdocs", reason="the site tests need the site extras: pip install -e '.[site]'")
    out = tmp_path_factory.mktemp("serial") / "_site"
    result = build(ROOT, out, jobs=1)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


@pytest.fixture
def faulty_repo(tmp_path) -> Path:
    """The checkout's site inputs, with FAULT_HOOK added to mkdocs.yml."""
    repo = tmp_path / "repo"
    for folder in ("questions", "site", "genprep", "solutions", "tests"):
        shutil.copytree(ROOT / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__"))
    if (ROOT / ".cache").is_dir():  # drawn figures: the same inputs give the same pictures
        shutil.copytree(ROOT / ".cache", repo / ".cache")
    (repo / "fault_hook.py").write_text(FAULT_HOOK, encoding="utf-8")
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    hooks = "hooks:\n  - genprep/site/mkdocs_hook.py\n"
    assert hooks in config
    (repo / "mkdocs.yml").write_text(config.replace(hooks, hooks + "  - fault_hook.py\n"), encoding="utf-8")
    return repo


@slow
def test_a_parallel_build_gives_the_same_site_as_a_serial_one(serial_site, tmp_path):
    out = tmp_path / "_site"
    result = build(ROOT, out, jobs=2)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert differences(serial_site, out) == []


@slow
@pytest.mark.parametrize("fault", ["raise", "die"])
def test_pages_a_worker_fails_on_are_built_by_the_main_process(serial_site, faulty_repo, tmp_path, fault):
    out = tmp_path / "_site"
    result = build(faulty_repo, out, jobs=2, fault=fault)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert "fault injected" not in log
    if fault == "die":
        assert "a page worker stopped early; building its pages here" in log
    assert differences(serial_site, out) == []


@slow
def test_warnings_in_a_worker_reach_the_log_once_and_fail_a_strict_build(faulty_repo, tmp_path):
    result = build(faulty_repo, tmp_path / "strict", jobs=2, fault="warn")
    assert result.returncode != 0 and "worker warning for q/" in result.stdout + result.stderr

    result = build(faulty_repo, tmp_path / "lenient", jobs=2, fault="warn", strict=False)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in (result.stdout + result.stderr).splitlines() if "worker warning for q/" in line]
    assert lines and len(lines) == len(set(lines))  # each page's warning once, none lost to the worker


@slow
def test_workers_and_their_files_are_gone_when_the_main_process_fails(faulty_repo, tmp_path):
    temp = tmp_path / "temp"
    temp.mkdir()
    out = tmp_path / "_site"
    env_temp = {"TMPDIR": str(temp)}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)], cwd=faulty_repo,
                            capture_output=True, text=True,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "GENPREP_SITE_JOBS": "2",
                                 "FAULT": "main-exit", **env_temp})
    assert result.returncode != 0 and "fault injected in the main process" in result.stdout + result.stderr
    assert list(temp.glob("genprep-site-*")) == []  # the workers' message folder is removed
    still_running = [p for p in Path("/proc").glob("[0-9]*")
                     if str(out).encode() in (p / "cmdline").read_bytes()] if Path("/proc").is_dir() else []
    assert still_running == []  # no worker goes on building after the main process has stopped


@given(st.lists(st.booleans(), max_size=60), st.integers(1, 30))
def test_claims_hand_every_page_to_exactly_one_process(turns, n):
    # The main process walks the pages in order; workers take from the end; any interleaving.
    claims = parallel._Claims([f"q/{i}.md" for i in range(n)])
    main, workers = [], []
    walk = iter(claims.uris)
    for main_turn in turns + [True] * n + [False]:
        if main_turn:
            uri = next(walk, None)
            if uri is not None and claims.main_takes(uri):
                main.append(uri)
        elif (uri := claims.worker_takes()) is not None:
            workers.append(uri)
    assert sorted(main + workers) == sorted(claims.uris)
    assert main == claims.uris[:len(main)]  # the main process keeps MkDocs' order
    assert claims.worker_takes() is None


def test_jobs_setting(monkeypatch):
    monkeypatch.setenv("GENPREP_SITE_JOBS", "3")
    assert parallel.jobs_wanted("build") == (3 if hasattr(os, "fork") else 1)
    assert parallel.jobs_wanted("serve") == 1  # mkdocs serve runs threads: never fork there
    monkeypatch.setenv("GENPREP_SITE_JOBS", "1")
    assert parallel.jobs_wanted("build") == 1
    monkeypatch.setenv("GENPREP_SITE_JOBS", "many")
    with pytest.raises(SystemExit, match="GENPREP_SITE_JOBS='many' is not a number"):
        parallel.jobs_wanted("build")


def test_sitemaps_are_compared_without_their_dates(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for site, day, page in ((a, "04", "q/x/"), (b, "05", "q/x/")):
        site.mkdir()
        (site / "sitemap.xml").write_text(f"<url><loc>{page}</loc><lastmod>2026-12-{day}</lastmod></url>",
                                          encoding="utf-8")
    assert differences(a, b) == []
    (b / "sitemap.xml").write_text("<url><loc>q/y/</loc><lastmod>2026-12-05</lastmod></url>", encoding="utf-8")
    assert differences(a, b) == ["sitemap.xml"]
