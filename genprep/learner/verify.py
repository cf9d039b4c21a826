"""Prove the task tests can fail: every untouched stub and every known-wrong
variant must be rejected by the tests that pass on the references.

Runs pytest in learner mode in subprocesses: one run over a folder of all
stubs, then one run per "round" of variants (round k holds the k-th variant
of every task), one run per core at a time. Each run stops a task at its first
failing test (`--stop-task-on-failure`): one rejection is all the proof needed.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from genprep.bank import layout
from genprep.bank.model import Bank
from genprep.learner.practice import stub_source


class VerifyError(Exception):
    """pytest could not run at all; the message holds its output."""


@dataclass
class Verdict:
    task: str
    candidate: str  # "stub" or the variant's file name
    ok: bool
    detail: str


def _run(root: Path, folder: Path, tasks: list[str], timeout: float) -> dict:
    report = folder / "report.json"
    cmd = [sys.executable, "-m", "pytest", "-q",
           "-p", "genprep.learner.pytest_plugin", "-p", "no:randomly", "--solutions", str(folder),
           "--genprep-report", str(report), "--task-timeout", str(timeout), "--stop-task-on-failure", "-o", "addopts=",
           *[str(layout.test_file(root, t).relative_to(root)) for t in tasks]]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if not report.exists():  # once more: a run that could not even write its report is worth a second try
        proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if not report.exists():
        raise VerifyError(f"pytest did not run (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(report.read_text(encoding="utf-8"))["tasks"]


def verify(bank: Bank, tasks: list[str] | None = None, timeout: float = 60.0, workers: int | None = None,
           progress: Callable[[str], None] | None = None) -> list[Verdict]:
    """Run every stub and known-wrong variant of `tasks` (default: all) through the tests.

    `progress` is called with a line of text as each run finishes.
    """
    root = bank.root
    tasks = sorted(tasks or bank.tasks)
    workers = workers or max(1, os.cpu_count() or 1)
    verdicts: list[Verdict] = []
    work = Path(tempfile.mkdtemp(prefix="genprep-verify-"))
    try:
        rounds: list[tuple[Path, dict[str, str]]] = []  # (folder, task -> candidate name)
        stub_dir = work / "stubs"
        stub_dir.mkdir()
        for t in tasks:
            layout.learner_file(stub_dir, t).write_text(stub_source(bank, bank.tasks[t]), encoding="utf-8")
        rounds.append((stub_dir, {t: "stub" for t in tasks}))
        variants = {t: layout.wrong_variants(root, t) for t in tasks}
        for k in range(max((len(v) for v in variants.values()), default=0)):
            folder = work / f"round{k}"
            folder.mkdir()
            names = {}
            for t, files in variants.items():
                if k < len(files):
                    shutil.copy(files[k], layout.learner_file(folder, t))
                    names[t] = files[k].stem
            rounds.append((folder, names))
        total = sum(len(names) for _, names in rounds)
        started = time.monotonic()
        results = []
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_run, root, folder, sorted(names), timeout): (folder, names) for folder, names in rounds}
            for future in as_completed(futures):
                folder, names = futures[future]
                results.append((futures[future], future.result()))
                if progress:
                    done = sum(len(n) for (_, n), _ in results)
                    kind = "untouched stub" if folder == stub_dir else "known-wrong variant"
                    progress(f"  [{len(results)}/{len(rounds)}] {len(names)} {kind}{'s' * (len(names) != 1)} run "
                             f"({done} of {total} candidates, {time.monotonic() - started:.0f} s)")
        for (folder, names), outcome in results:
            for t, candidate in sorted(names.items()):
                r = outcome.get(t, {})
                if not any(r.get(k) for k in ("passed", "failed", "not_attempted", "timed_out")):
                    # Nothing ran for this candidate (its tests did not even start, e.g. the machine stalled):
                    # run it once more on its own before judging it.
                    alone = work / f"again-{t}-{candidate}"
                    alone.mkdir()
                    shutil.copy(layout.learner_file(folder, t), layout.learner_file(alone, t))
                    r = _run(root, alone, [t], timeout).get(t, {})
                if candidate == "stub":
                    ok = r.get("not_attempted", 0) > 0 and r.get("status") != "solved"
                    detail = "reported as not attempted" if ok else f"stub was not reported as not attempted: {r}"
                else:
                    ok = r.get("failed", 0) + r.get("timed_out", 0) > 0 and r.get("not_attempted", 0) == 0
                    first = (r.get("failures") or ["(no failure recorded)"])[0]
                    detail = (f"rejected — {first}" if ok else
                              f"NOT rejected: {r.get('passed', 0)} tests passed, none failed" if r.get("passed") else
                              f"NOT judged: no test of the task ran ({r or 'no outcome'}); run "
                              f"`pytest --solutions <folder> -k {layout.module_name(t)}` with this file to see why")
                verdicts.append(Verdict(t, candidate, ok, detail))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return sorted(verdicts, key=lambda v: (v.task, v.candidate != "stub", v.candidate))
