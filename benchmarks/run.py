"""Benchmarks: how long a learner waits, how long the suite and the site take, how they scale.

    .venv/bin/python benchmarks/run.py            # everything (about 10 minutes)
    .venv/bin/python benchmarks/run.py latency    # one part: latency | suite | check-tests | site | weight

Prints figures only; nothing here asserts a speed (tests never time themselves).
Every figure is the median of several runs on this machine.
"""
from __future__ import annotations

import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PY = sys.executable
# Bytecode caching on, as on a learner's machine (this one sets PYTHONDONTWRITEBYTECODE,
# which makes every run recompile pytest's assertion-rewritten modules).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV.update({"NO_MKDOCS_2_WARNING": "1", "HYPOTHESIS_PROFILE": "ci"})
LATENCY_TASKS = ("stable-softmax", "scaled-dot-product-attention", "lstm-cell", "vae-model",
                 "blockwise-attention", "moe-layer", "grpo", "langevin-dynamics")


def timed(cmd: list[str], cwd: Path = ROOT, repeat: int = 3) -> tuple[float, subprocess.CompletedProcess]:
    times, last = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        last = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=ENV)
        times.append(time.perf_counter() - start)
    return statistics.median(times), last


def header() -> None:
    import torch
    try:
        import mkdocs
        mk = mkdocs.__version__
    except ImportError:
        mk = "-"
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
          f"torch {torch.__version__}, mkdocs {mk}")


def latency() -> None:
    from genprep.bank import layout
    from genprep.bank.loader import load_bank
    bank = load_bank(ROOT)
    floor, _ = timed([PY, "-c", "import torch"], repeat=5)
    print(f"\n## Learner feedback latency (median of 3)\nfloor: python -c 'import torch' = {floor:.2f} s\n")
    print("| task | pytest --solutions DIR -k task | ratio to floor |\n|---|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for task in LATENCY_TASKS:
            q = bank.tasks[task]
            # a correct learner file: the reference module itself
            shutil.copy(layout.reference_file(ROOT, q.solution.module), layout.learner_file(folder, task))
            t, proc = timed([PY, "-m", "pytest", "-q", f"--solutions={folder}",
                             "-k", layout.module_name(task)])
            status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
            print(f"| {task} ({status}) | {t:.2f} s | {t / floor:.2f}× |")


def suite() -> None:
    print("\n## Whole suite, reference mode (median of 3)\n")
    t, proc = timed([PY, "-m", "pytest", "-q", "-p", "no:randomly", "--durations=10"])
    tail = proc.stdout.splitlines()
    print(f"wall time: {t:.1f} s — {tail[-1] if tail else ''}\n\nslowest tests:")
    block = False
    for line in tail:
        if "slowest" in line:
            block = True
            continue
        if block and re.match(r"^\d+\.\d+s ", line):
            print(f"    {line}")


def check_tests() -> None:
    print("\n## genprep check-tests: every stub and known-wrong variant through the tests (one run)\n")
    t, proc = timed([PY, "-m", "genprep", "check-tests"], repeat=1)
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-300:]
    print(f"wall time: {t:.1f} s on {os.cpu_count()} cores — {last}")


def synthetic_bank(dest: Path, factor: int) -> int:
    """Copy the checkout's site inputs with every question repeated `factor` times under new ids."""
    for name in ("genprep", "solutions", "site", "tests"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    (dest / "questions").mkdir()
    for name in ("topics.yaml", "glossary.yaml"):
        shutil.copy(ROOT / "questions" / name, dest / "questions" / name)
    from genprep.bank.loader import load_bank
    bank = load_bank(ROOT)
    count = 0
    for q in bank.questions.values():
        text = q.path.read_text(encoding="utf-8")
        for k in range(factor):
            if k and q.task:
                continue  # coding questions are tied to their task id; keep one each
            new_id = q.id if k == 0 else f"{q.id}-copy{k}"
            out = dest / "questions" / q.topic / f"{new_id}.yaml"
            out.parent.mkdir(exist_ok=True)
            out.write_text(text.replace(f"id: {q.id}\n", f"id: {new_id}\n", 1), encoding="utf-8")
            count += 1
    return count


def site() -> None:
    jobs = os.environ.get("GENPREP_SITE_JOBS") or f"{len(os.sched_getaffinity(0))} (one per core)"
    print(f"\n## Site build (strict, median of 3; processes: {jobs})\n")
    print("| bank | questions | build time | per question | per added question | site size |\n"
          "|---|---:|---:|---:|---:|---:|")
    first: tuple[int, float] | None = None
    for factor in (1, 10, 30):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "repo"
            root.mkdir()
            n = synthetic_bank(root, factor)
            out = Path(tmp) / "out"
            cache = ROOT / ".cache"
            if cache.is_dir():  # reuse drawn figures: this measures page generation, not matplotlib
                shutil.copytree(cache, root / ".cache")
            # not -q: MkDocs' quiet mode drops the warnings that --strict counts
            t, proc = timed([PY, "-m", "mkdocs", "build", "--strict", "-d", str(out)], cwd=root)
            if proc.returncode != 0:
                print(f"| {factor}× | {n} | build failed: {proc.stderr[-300:]} | | | |")
                continue
            size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
            added = f"{1000 * (t - first[1]) / (n - first[0]):.1f} ms" if first else "–"
            first = first or (n, t)
            print(f"| {factor}× | {n} | {t:.1f} s | {1000 * t / n:.1f} ms | {added} | {size / 1e6:.1f} MB |")


def weight() -> None:
    print("\n## Page weight of a question page\n")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "site"
        subprocess.run([PY, "-m", "mkdocs", "build", "-q", "-d", str(out)], cwd=ROOT, env=ENV, check=True)
        page = out / "q" / "kl-normal" / "index.html"
        print(f"HTML: {page.stat().st_size / 1e3:.1f} KB")
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            print("transferred: (needs playwright and chromium)")
            return
        import functools
        import http.server
        import threading
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

        handler = functools.partial(Quiet, directory=str(out))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        sizes: dict[str, int] = {}
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=shutil.which("chromium"), args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            pg = b.new_page()
            pg.on("response", lambda r: sizes.__setitem__(r.url, len(r.body())) if r.ok else None)
            pg.goto(f"http://127.0.0.1:{server.server_address[1]}/q/kl-normal/")
            pg.wait_for_selector("mjx-container")
            pg.wait_for_timeout(1500)
            b.close()
        server.shutdown()
        total = sum(sizes.values())
        print(f"transferred (uncompressed, {len(sizes)} requests): {total / 1e6:.2f} MB")
        for url, n in sorted(sizes.items(), key=lambda kv: -kv[1])[:6]:
            print(f"    {n / 1e3:8.1f} KB  {url.split('/', 3)[-1]}")


PARTS = {"latency": latency, "suite": suite, "check-tests": check_tests, "site": site, "weight": weight}

if __name__ == "__main__":
    header()
    for name in sys.argv[1:] or PARTS:
        if name not in PARTS:
            sys.exit(f"unknown part {name!r}; choose from {', '.join(PARTS)}")
        PARTS[name]()
