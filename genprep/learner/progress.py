"""`genprep progress`: where a learner stands, per topic.

Runs the task tests in learner mode (pytest's own progress line shows how far
it got), keeps the outcome in <solutions>/.genprep-last-run.json, and prints
a table: solved, failing, not attempted (untouched stub), not started (no
file). `--last` only reads the last run. Nothing leaves the machine.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from genprep.bank import layout
from genprep.bank.model import Bank

REPORT_NAME = ".genprep-last-run.json"
STATUSES = ("solved", "failing", "not attempted", "not started")


class ProgressError(Exception):
    pass


def run_tests(bank: Bank, folder: Path, quiet: bool = False) -> dict:
    missing = [m for m in ("pytest", "torch", "hypothesis") if importlib.util.find_spec(m) is None]
    if missing:
        raise ProgressError(f"genprep progress runs your tests, which need {', '.join(missing)}: "
                            f"{layout.install_hint('test')}")
    report = folder / REPORT_NAME
    tasks = [t for t in sorted(bank.tasks) if layout.learner_file(folder, t).is_file()]
    if tasks:
        files = [str(layout.test_file(bank.root, t).relative_to(bank.root)) for t in tasks]
        cmd = [sys.executable, "-m", "pytest", "-q", "--no-header",
               "-p", "genprep.learner.pytest_plugin", "-p", "no:randomly", "--tb=no",
               "--solutions", str(folder.resolve()), "--genprep-report", str(report.resolve()), *files]
        proc = subprocess.run(cmd, cwd=bank.root, stdout=subprocess.DEVNULL if quiet else None)
        if proc.returncode not in (0, 1) or not report.is_file():
            raise ProgressError(f"pytest could not run the tests (exit {proc.returncode}); run "
                                f"`pytest --solutions {folder}` to see why")
    else:
        report.write_text(json.dumps({"tasks": {}}), encoding="utf-8")
    return json.loads(report.read_text(encoding="utf-8"))


def read_last(folder: Path) -> dict:
    report = folder / REPORT_NAME
    if not report.is_file():
        raise ProgressError(f"no earlier run in {folder}; run `genprep progress` without --last")
    return json.loads(report.read_text(encoding="utf-8"))


def statuses(bank: Bank, folder: Path, report: dict) -> dict[str, str]:
    out = {}
    for task in bank.tasks:
        if not layout.learner_file(folder, task).is_file():
            out[task] = "not started"
        else:
            status = report.get("tasks", {}).get(task, {}).get("status", "not started")
            out[task] = "failing" if status == "timed out" else status
    return out


def table(bank: Bank, status: dict[str, str], verbose: bool = False) -> str:
    head = f"{'topic':<26} {'solved':>7} {'failing':>8} {'not attempted':>14} {'not started':>12}"
    lines = [head, "-" * len(head)]
    totals = dict.fromkeys(STATUSES, 0)
    for topic in bank.topics:
        tasks = sorted(t for t, q in bank.tasks.items() if q.topic == topic.id)
        if not tasks:
            continue
        counts = {s: sum(status[t] == s for t in tasks) for s in STATUSES}
        for s in STATUSES:
            totals[s] += counts[s]
        bar = "".join("█" if status[t] == "solved" else "▒" if status[t] in ("failing", "not attempted") else "·"
                      for t in tasks)
        lines.append(f"{topic.id:<26} {counts['solved']:>7} {counts['failing']:>8} {counts['not attempted']:>14} "
                     f"{counts['not started']:>12}  {bar}")
        if verbose:
            lines += [f"    {status[t]:<14} {t}" for t in tasks]
    lines.append("-" * len(head))
    lines.append(f"{'total':<26} {totals['solved']:>7} {totals['failing']:>8} {totals['not attempted']:>14} "
                 f"{totals['not started']:>12}")
    return "\n".join(lines)
