"""pytest plugin: one test suite, two uses.

`pytest` checks the reference solutions in solutions/; `pytest --solutions DIR`
runs the very same task tests against a learner's files in DIR. Tests ask for
the implementation under test through the `impl` fixture and never import
solutions/ themselves.

Options (precedence: command line > environment > ini):
  --solutions DIR      GENPREP_SOLUTIONS      ini: solutions
  --task-timeout SEC   GENPREP_TASK_TIMEOUT   ini: task_timeout   (0 disables)
  --genprep-report F   GENPREP_REPORT         ini: genprep_report (JSON outcome per task)
  --memory-limit GB    GENPREP_MEMORY_LIMIT   ini: memory_limit   (learner mode; 0 disables)
  --stop-task-on-failure   (after a task's first failure its other tests are not run; check-tests uses it)
  --lang zh|en|both    GENPREP_LANG, else the locale (zh…/en…), else both   (the learner's language)

Once a test of a task times out, the task's remaining tests are reported as not
run: the learner hears within one time limit, not one per test.

Learner code is untrusted in the sense of "may be broken": a hang is stopped
by a per-test alarm, a runaway allocation by an address-space limit, a flood
of prints is cut short in the report, and an in-place change of an input
tensor fails the test (see `_Guarded`).
"""
from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.util
import json
import os
import random
import signal
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from genprep.bank import layout
from genprep.bank.errors import BankError
from genprep.bank.loader import check_bank
from genprep.bank.model import Bank
from genprep.learner import lang as _lang
from genprep.learner.lang import label, tr
from genprep.shutdown import freeze_heap_at_exit

DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_GB = 4.0  # on top of what the test process already uses
MAX_CAPTURED = 4000  # characters of a learner's printed output kept in a failure report
MUTABLE_ARGS = {"cache"}  # arguments a task allows the implementation to change in place
TASKS_DIR = ("tests", "tasks")


class TaskTimeout(BaseException):
    """Raised inside a test that ran past the time limit.

    A BaseException so that a learner's `except Exception:` cannot swallow it.
    """


@dataclass
class TaskResult:
    task: str
    passed: int = 0
    failed: int = 0
    not_attempted: int = 0
    timed_out: int = 0
    skipped: int = 0
    not_run: int = 0  # skipped because an earlier test of the task timed out or failed (see _State.stopped)
    failures: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.not_attempted:
            return "not attempted"
        if self.timed_out:
            return "timed out"
        if self.failed:
            return "failing"
        if self.passed:
            return "solved"
        return "not started"


STATUS_ZH = {"solved": "已解决", "failing": "未通过", "not attempted": "未作答", "not started": "未开始",
             "timed out": "超时"}


def status_label(status: str, lang: str | None = None) -> str:
    """A task status (kept in English in reports) as the learner reads it: "未通过 · failing" in both."""
    return label(status, STATUS_ZH.get(status, status), lang)


def counts_text(passed: int, failed: int, not_run: int = 0, lang: str | None = None) -> str:
    """"4 passed, 1 failed, 2 not run" in the learner's language."""
    parts = [(passed, "passed", "通过"), (failed, "failed", "失败")] + ([(not_run, "not run", "未运行")] if not_run else [])
    if (lang or _lang.current()) == "zh":
        return "，".join(f"{zh} {n}" for n, en, zh in parts)
    return ", ".join(f"{n} {label(en, zh, lang)}" for n, en, zh in parts)


class _State:
    def __init__(self, config: pytest.Config):
        self.config = config
        self.solutions_dir = _option(config, "solutions", "GENPREP_SOLUTIONS", None)
        self.learner = self.solutions_dir is not None
        if self.learner:
            self.solutions_dir = Path(self.solutions_dir).expanduser().resolve()
        self.timeout = float(_option(config, "task_timeout", "GENPREP_TASK_TIMEOUT", DEFAULT_TIMEOUT))
        self.report_path = _option(config, "genprep_report", "GENPREP_REPORT", None)
        self.memory_gb = float(_option(config, "memory_limit", "GENPREP_MEMORY_LIMIT", DEFAULT_MEMORY_GB))
        # The checkout: found from where pytest was started, else from its rootdir
        # (which an option value like `--solutions ../x` can pull upwards).
        found = layout.find_root(Path(str(config.invocation_params.dir))) or layout.find_root(Path(str(config.rootpath)))
        # Installed genprep registers this plugin for every pytest run; outside a genprep
        # checkout it stays out of the way unless asked for with --solutions, and then
        # tests against the bank it was installed with.
        self.outside_checkout = found is None
        if found is None and self.learner:
            found = layout.find_root(installed=True)
        self.active = found is not None or self.learner
        self.root = found or Path(str(config.rootpath)).resolve()
        self.bank: Bank = None  # type: ignore[assignment]  # set in pytest_configure when active
        self.bank_problems: list = []
        self.previous_memory_limit: tuple[int, int] | None = None
        self.results: dict[str, TaskResult] = {}
        self.modules: dict[str, object] = {}
        self.missing: set[str] = set()
        self.stop_on_failure = bool(config.getoption("stop_task_on_failure", default=False))
        self.stopped: dict[str, str] = {}  # task -> why its remaining tests are not run
        self.shown_errors: dict[tuple[str, str, str], str] = {}  # (task, error type, where) -> first test with it
        try:
            self.lang = _lang.resolve(config.getoption("lang", default=None))
        except _lang.LangError as exc:
            raise pytest.UsageError(str(exc)) from None


def _option(config: pytest.Config, name: str, env: str, default):
    value = config.getoption(name, default=None)
    if value is None:
        value = os.environ.get(env) or None
    if value is None:
        value = config.getini(name) or None
    return default if value is None else value


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("genprep", "genprep learner mode")
    group.addoption("--solutions", dest="solutions", metavar="DIR", default=None,
                    help="run the task tests against your own files in DIR (e.g. my_solutions) instead of solutions/")
    group.addoption("--task-timeout", dest="task_timeout", metavar="SEC", default=None, type=float,
                    help=f"stop a test that runs longer than SEC seconds (default {DEFAULT_TIMEOUT:g}; 0 = no limit)")
    group.addoption("--genprep-report", dest="genprep_report", metavar="FILE", default=None,
                    help="write each task's outcome as JSON to FILE")
    group.addoption("--memory-limit", dest="memory_limit", metavar="GB", default=None, type=float,
                    help=f"in learner mode, let the tests allocate at most GB more memory "
                         f"(default {DEFAULT_MEMORY_GB:g}; 0 = no limit)")
    group.addoption("--lang", dest="lang", metavar="LANG", default=None, choices=_lang.LANGS,
                    help="language of genprep's messages and hints: zh, en or both (default: GENPREP_LANG, else the "
                         "locale — zh… gives zh, en… gives en — else both)")
    group.addoption("--stop-task-on-failure", dest="stop_task_on_failure", action="store_true", default=False,
                    help="after a task's first failing test, do not run its remaining tests (one failure is enough "
                         "to know a solution is wrong; `genprep check-tests` uses this)")
    parser.addini("solutions", "directory of learner solutions (like --solutions)", default="")
    parser.addini("task_timeout", "per-test time limit in seconds (like --task-timeout)", default="")
    parser.addini("genprep_report", "write each task's outcome as JSON here", default="")
    parser.addini("memory_limit", "learner mode: extra memory the tests may allocate, in GB", default="")


_STATE = pytest.StashKey[_State]()


def _state(config: pytest.Config) -> _State:
    return config.stash[_STATE]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    state = _State(config)
    config.stash[_STATE] = state
    if not state.active:
        return
    previous_lang = _lang.set_language(state.lang)
    config.add_cleanup(lambda: None if _lang.set_language(previous_lang) else None)
    if not state.outside_checkout and config.rootpath != state.root and hasattr(config, "_rootpath"):
        # pytest picks its rootdir before any plugin's options are known, so in
        # `--solutions /elsewhere` it takes the folder for a test path; test ids and the
        # cache belong to the checkout.
        config._rootpath = state.root
    # Registered before pytest's own plugins register theirs, so it runs after them
    # (cleanups run last-in, first-out): pytest's final garbage collection still
    # finds the objects frozen in pytest_collection_finish out of its way.
    config.add_cleanup(gc.unfreeze)
    freeze_heap_at_exit()  # shutdown would sweep everything torch created
    config.addinivalue_line("markers", "task(id): the coding task a test checks (set from the file name)")
    if state.learner and not state.solutions_dir.is_dir():
        raise pytest.UsageError(tr(
            f"--solutions {state.solutions_dir}: no such folder. Start a task with "
            f"'genprep practice <task-id>' (it creates my_solutions/), or pass the folder your files are in.",
            f"--solutions {state.solutions_dir}：没有这个文件夹。用 'genprep practice <任务 id>' 开始一个任务"
            f"（它会创建 my_solutions/），或者给出你的文件所在的文件夹。"))
    # Lenient: a broken question file elsewhere must not stop a learner's tests;
    # `genprep validate` (and the bank's own tests) report it.
    task_ids = {t for p in (state.root / TASKS_DIR[0] / TASKS_DIR[1]).glob("test_*.py") if (t := _task_of_path(p))}
    bank, state.bank_problems = check_bank(state.root, check_code=False, only=task_ids)
    if bank is None:
        raise pytest.UsageError(tr("genprep could not read its question bank; reinstall genprep or run inside a checkout.",
                                   "genprep 读不了它的题库；请重新安装 genprep，或在仓库目录里运行。") + "\n"
                                + BankError(state.bank_problems, state.root).report())
    state.bank = bank
    if str(state.root) not in sys.path:  # reference mode imports solutions.<module>
        sys.path.insert(0, str(state.root))
    _register_hypothesis_profiles()
    if state.learner and _no_test_paths_given(config):
        # `pytest --solutions DIR` from any folder (the solutions folder itself, or outside
        # the checkout with an installed genprep) runs the task tests of the bank.
        config.args[:] = [str(state.root / TASKS_DIR[0] / TASKS_DIR[1])]


def _no_test_paths_given(config: pytest.Config) -> bool:
    """True when pytest was started without naming files or folders to test (and ini's
    testpaths did not apply because pytest was not started in the checkout's root)."""
    invoked = Path(str(config.invocation_params.dir)).resolve()
    return bool(config.args) and all(Path(a.split("::")[0]).resolve() == invoked for a in config.args)


def _register_hypothesis_profiles() -> None:
    """Small, readable counterexamples and no deadline (a learner's code and CI machines may be slow);
    `ci` is also derandomized. Chosen by HYPOTHESIS_PROFILE, else `ci` under CI, else `dev`."""
    try:
        from hypothesis import HealthCheck, settings
    except ImportError:  # the task tests say what is missing when they import it
        return
    quiet = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
    settings.register_profile("dev", max_examples=40, deadline=None, suppress_health_check=quiet)
    settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=quiet,
                              derandomize=True, print_blob=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def task_of(item: pytest.Item) -> str | None:
    """The task a test belongs to: tests/tasks/test_<task>.py -> <task-id>."""
    return _task_of_path(Path(str(item.path)))


def _task_of_path(path: Path) -> str | None:
    if path.parent.name != TASKS_DIR[1] or path.parent.parent.name != TASKS_DIR[0]:
        return None
    if not path.stem.startswith("test_"):
        return None
    return path.stem[len("test_"):].replace("_", "-")


def pytest_report_header(config: pytest.Config) -> list[str]:
    state = _state(config)
    if not state.active:
        return []
    seed = "torch/random/numpy seeded with 0 before every task test"
    if state.learner:
        n = len(sorted(p.name for p in state.solutions_dir.glob("*.py")))
        limit = (tr(f"time limit per test {state.timeout:g} s", f"每个测试限时 {state.timeout:g} 秒", sep=" · ")
                 if state.timeout else tr("no time limit", "不限时", sep=" · "))
        return ["genprep: " + tr(f"testing YOUR files in {state.solutions_dir} ({n} file(s)); {seed}",
                                  f"测试你的文件：{state.solutions_dir}（{n} 个文件）；每个任务测试前 torch/random/numpy "
                                  f"都以种子 0 初始化", sep="\n         "),
                f"genprep: {limit}"]
    lines = [f"genprep: testing the reference solutions in {state.root / 'solutions'}; {seed}"]
    if state.bank_problems:
        lines.append(f"genprep: WARNING the question bank has {len(state.bank_problems)} problem(s); "
                     "run `genprep validate` to see them")
    return lines


class _NotStartedItem(pytest.Item):
    """Stands for every test of a task the learner has no file for: one skip with
    the command that starts it, without importing the task's test module."""

    def __init__(self, *, reason: str, **kwargs):
        super().__init__(**kwargs)
        self.reason = reason

    def runtest(self) -> None:
        pytest.skip(self.reason)

    def reportinfo(self):
        return self.path, 0, self.name


class _NotStartedFile(pytest.File):
    def collect(self):
        task = _task_of_path(self.path)
        state = _state(self.config)
        rel = _shown(layout.learner_file(state.solutions_dir, task))
        yield _NotStartedItem.from_parent(self, name=f"test_{layout.module_name(task)}",
                                          reason=_not_started_reason(rel, task))


def _not_started_reason(rel: str, task: str) -> str:
    return tr(f"no {rel} yet — start it with: genprep practice {task}",
              f"还没有 {rel}——用 genprep practice {task} 开始", sep=" · ")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config):
    """In learner mode only tests/tasks/ is collected: genprep's own tests (and their
    imports) are not the learner's business, and skipping them keeps feedback fast."""
    state = _state(config)
    if not (state.active and state.learner):
        return None
    tasks_dir = state.root / TASKS_DIR[0] / TASKS_DIR[1]
    path = Path(str(collection_path)).resolve()
    if path == tasks_dir or tasks_dir in path.parents or path in tasks_dir.parents:
        return None
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent):
    state = _state(parent.config)
    if not state.active:
        return None
    task = _task_of_path(Path(str(module_path)))
    if task and state.learner and task in state.bank.tasks and not layout.learner_file(state.solutions_dir, task).is_file():
        return _NotStartedFile.from_parent(parent, path=module_path)
    return None


@pytest.hookimpl(trylast=True)  # after -k/-m deselection: a deselected task is not reported as "not started"
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = _state(config)
    if not state.active:
        return
    tasks = state.bank.tasks
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        task = task_of(item)
        if task is None:
            # genprep's own tests are not the learner's business
            (drop if state.learner else keep).append(item)
            continue
        if task not in tasks:
            item.add_marker(pytest.mark.skip(reason=tr(f"{item.path.name} names no task in the bank ('{task}')",
                                                       f"{item.path.name} 对应的任务 '{task}' 不在题库里", sep=" · ")))
        item.add_marker(pytest.mark.task(task))
        state.results.setdefault(task, TaskResult(task))
        if state.learner and not layout.learner_file(state.solutions_dir, task).is_file():
            state.missing.add(task)
            rel = _shown(layout.learner_file(state.solutions_dir, task))
            item.add_marker(pytest.mark.skip(reason=_not_started_reason(rel, task)))
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    state = _state(session.config)
    if state.active:
        # Everything imported so far (torch is most of it) lives until the end: move it
        # out of the garbage collector's sight, so each collection during the tests (and
        # pytest's final one) scans only what the tests allocate.
        gc.freeze()  # undone in a cleanup registered by pytest_configure
    if state.active and state.learner and state.memory_gb > 0:
        state.previous_memory_limit = _limit_memory(state.memory_gb)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    previous = getattr(state, "previous_memory_limit", None)
    if previous is not None:  # the process may go on (pytester, IDEs): give the memory back
        import resource
        resource.setrlimit(resource.RLIMIT_AS, previous)


def _limit_memory(gb: float):
    """Cap the address space so a runaway allocation fails with an error instead of
    taking the machine down. Set after collection, when torch is already loaded.
    Returns the previous limit."""
    try:
        import resource
        with open("/proc/self/status", encoding="ascii") as f:
            size = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize"))
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = size + int(gb * 2**30)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        if soft == resource.RLIM_INFINITY or limit < soft:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
            return (soft, hard)
    except (ImportError, OSError, StopIteration, ValueError):  # not Linux: no limit, nothing else changes
        pass
    return None


class _Guarded:
    """The implementation under test, with each task function wrapped so that an
    in-place change to a tensor argument fails the test with a clear message."""

    def __init__(self, module, names: tuple[str, ...]):
        self._module = module
        self._names = set(names)

    def __getattr__(self, name):
        value = getattr(self._module, name)
        if name in self._names and callable(value) and not isinstance(value, type):
            return _guard_inputs(value, name)
        return value


def _guard_inputs(fn, name):
    import functools
    import inspect

    import torch

    from genprep.learner.checks import CheckFailed

    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return fn

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise CheckFailed(tr(f"{name} was called as the task specifies, but its signature does not accept that: "
                                 f"{exc}. Expected parameters like: {signature}",
                                 f"按任务规定的方式调用 {name}，但它的签名不接受这种调用：{exc}。"
                                 f"参数应类似：{signature}")) from None
        before = {k: v.detach().clone() for k, v in bound.arguments.items()
                  if isinstance(v, torch.Tensor) and k not in MUTABLE_ARGS}
        result = fn(*args, **kwargs)
        for k, old in before.items():
            new = bound.arguments[k].detach()
            same = new.shape == old.shape and bool(((new == old) | (new.isnan() & old.isnan())).all())
            if not same:
                raise CheckFailed(tr(f"{name} changed its input `{k}` in place. Do not write into your inputs: "
                                     f"use out-of-place operations (x = x - m instead of x -= m or x.sub_(m)), "
                                     f"or work on a .clone().",
                                     f"{name} 原地修改了输入 `{k}`。不要写入你的输入：用非原地运算"
                                     f"（x = x - m，而不是 x -= m 或 x.sub_(m)），或者在 .clone() 上操作。"))
        return result

    return wrapper


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _load_learner_module(path: Path, task: str):
    name = f"genprep_learner_{layout.module_name(task)}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


@pytest.fixture
def impl(request: pytest.FixtureRequest):
    """The implementation under test: the reference module, or the learner's file."""
    state = _state(request.config)
    task = task_of(request.node)
    if not state.active or task is None or task not in state.bank.tasks:
        pytest.fail("the `impl` fixture only works in tests/tasks/test_<task>.py files", pytrace=False)
    solution = state.bank.tasks[task].solution
    assert solution is not None
    if task not in state.modules:
        if state.learner:
            path = layout.learner_file(state.solutions_dir, task)
            failure = None  # raised after the except blocks, so the report holds no chained traceback
            try:
                with _time_limit(state.timeout):
                    state.modules[task] = _load_learner_module(path, task)
            except NotImplementedError:
                raise
            except TaskTimeout as exc:
                state.stopped[task] = tr(f"importing {_shown(path)} did not finish", f"导入 {_shown(path)} 没有结束",
                                         sep=" · ")
                failure = tr(f"importing {_shown(path)} did not finish: {exc}. The code at the top level of your "
                             f"file runs when it is imported; move demos, loops and input() calls into a function "
                             f"or under `if __name__ == \"__main__\":`.",
                             f"导入 {_shown(path)} 没有结束：{exc}。文件顶层的代码在导入时就会运行；把演示代码、循环和 "
                             f"input() 调用移进函数，或放到 `if __name__ == \"__main__\":` 下面。")
            except SyntaxError as exc:
                state.stopped[task] = tr(f"{_shown(path)} has a syntax error (reported once, above)",
                                         f"{_shown(path)} 有语法错误（只在上面报告一次）", sep=" · ")
                failure = tr(f"{_shown(path)} has a syntax error on line {exc.lineno}: {exc.msg}",
                             f"{_shown(path)} 第 {exc.lineno} 行有语法错误：{exc.msg}")
            except (Exception, SystemExit) as exc:
                state.stopped[task] = tr(f"importing {_shown(path)} failed (reported once, above)",
                                         f"导入 {_shown(path)} 失败（只在上面报告一次）", sep=" · ")
                frames = _learner_frames(exc.__traceback__, path.resolve())
                failure = (tr(f"importing {_shown(path)} failed: the code at the top level of your file raised",
                              f"导入 {_shown(path)} 失败：文件顶层的代码抛出了异常") + "\n"
                           f"{frames}{_exception_text(exc)}")
            if failure:
                pytest.fail(failure, pytrace=False)
        else:
            state.modules[task] = importlib.import_module(f"solutions.{solution.module}")
    module = state.modules[task]
    borrowed = [n for n in solution.names if getattr(getattr(module, n, None), "__module__", "").startswith("solutions")]
    if state.learner and borrowed:
        pytest.fail(tr(f"{_where(state, task)} takes {', '.join(borrowed)} from solutions/, the reference answer; "
                       f"write your own (your file may import torch and the standard library).",
                       f"{_where(state, task)} 从参考答案 solutions/ 里拿了 {', '.join(borrowed)}；请自己写"
                       f"（你的文件可以导入 torch 和标准库）。"), pytrace=False)
    missing = [n for n in solution.names if not hasattr(module, n)]
    guarded = _Guarded(module, solution.names)
    if missing:
        where = _where(state, task)
        pytest.fail(tr(f"{where} does not define {', '.join(missing)}; the task '{task}' needs: "
                       f"{', '.join(solution.names)}",
                       f"{where} 没有定义 {', '.join(missing)}；任务 '{task}' 需要：{', '.join(solution.names)}"),
                    pytrace=False)
    return guarded


@pytest.fixture(autouse=True)
def _seed_everything(request: pytest.FixtureRequest):
    if not _state(request.config).active or task_of(request.node) is None:
        yield
        return
    random.seed(0)
    try:
        import numpy
        numpy.random.seed(0)
    except ImportError:  # pragma: no cover
        pass
    import torch
    torch.manual_seed(0)
    yield


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    state = _state(item.config)
    task = task_of(item)
    if state.active and task in state.stopped:
        state.results[task].not_run += 1
        # Reported at the test's own location, not at this line of the plugin.
        raise pytest.skip.Exception(f"{label('not run', '未运行')}: {state.stopped[task]}", _use_item_location=True)


@contextlib.contextmanager
def _time_limit(limit: float):
    """Raise TaskTimeout in the main thread once `limit` seconds have passed (0: no limit)."""
    use_alarm = limit > 0 and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not use_alarm:
        yield
        return
    started = time.monotonic()

    def on_alarm(signum, frame):
        took = time.monotonic() - started
        raise TaskTimeout(tr(f"stopped after {took:.0f} s (limit {limit:g} s)", f"{took:.0f} 秒后被停止（限时 {limit:g} 秒）",
                             sep=" · "))

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    state = _state(item.config)
    # Only the task tests run code that may hang (a learner's); genprep's own tests are not limited.
    with _time_limit(state.timeout if state.active and task_of(item) is not None else 0):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    state = _state(item.config)
    task = task_of(item)
    if not state.active or task is None or task not in state.results:
        return
    result = state.results[task]
    excinfo = call.excinfo
    if report.failed and excinfo is not None:
        where = _where(state, task)
        if excinfo.errisinstance(NotImplementedError):
            report.longrepr = tr(f"not attempted: {where} still raises NotImplementedError.\n"
                                 f"Write your solution there, then run this again.",
                                 f"未作答：{where} 仍在抛出 NotImplementedError。\n在那里写下你的解答，然后再运行一次。")
            report.user_properties.append(("genprep", "not attempted"))
            result.not_attempted += 1
            if state.stop_on_failure:
                state.stopped[task] = tr(f"{item.name} of the same task found it not attempted (--stop-task-on-failure)",
                                         f"同一任务的 {item.name} 发现它未作答（--stop-task-on-failure）", sep=" · ")
            return
        if excinfo.errisinstance(TaskTimeout):
            report.longrepr = tr(f"timed out: {item.name} {excinfo.value} — your code in {where} did not finish. "
                                 "Look for an infinite loop (a while loop whose condition never changes) or a far "
                                 "slower algorithm than needed. Raise the limit with --task-timeout SEC if it is just slow.",
                                 f"超时：{item.name} {excinfo.value}——{where} 里的代码没有运行结束。检查是否有死循环"
                                 "（条件永远不变的 while 循环），或者算法比需要的慢得多。如果只是慢，可以用 "
                                 "--task-timeout SEC 放宽限时。")
            result.timed_out += 1
            state.stopped[task] = tr(f"{item.name} of the same task timed out; fix that first",
                                     f"同一任务的 {item.name} 超时了；先解决它", sep=" · ")
            return
        if state.learner:
            _trim_captured_output(report)
        text = str(excinfo.value)
        if excinfo.errisinstance(MemoryError) or "can't allocate memory" in text or "not enough memory" in text:
            report.longrepr = (tr(f"out of memory: {item.name} — your code in {where} tried to allocate more memory "
                                  f"than allowed ({state.memory_gb:g} GB above the test's own use; see --memory-limit). "
                                  f"Look for a tensor whose size grows with a loop, or an outer product / broadcast "
                                  f"that is far larger than intended.",
                                  f"内存不足：{item.name}——{where} 里的代码申请的内存超过了上限（测试自身用量之外再加 "
                                  f"{state.memory_gb:g} GB；见 --memory-limit）。检查是否有张量随循环不断变大，或者外积、"
                                  f"广播得到的张量远比预期的大。")
                               + f"\n  ({type(excinfo.value).__name__}: {text[:200]})")
            result.failed += 1
            result.failures.append(f"{item.name}: out of memory")
            if state.stop_on_failure:
                state.stopped[task] = _failed_before(item.name)
            return
        from genprep.learner.checks import CheckFailed  # torch is imported by then
        first: BaseException = excinfo.value
        while getattr(first, "exceptions", None):  # hypothesis found several failures: the first one
            first = first.exceptions[0]  # type: ignore[attr-defined]
        if isinstance(first, CheckFailed):
            report.longrepr = f"{item.nodeid}\n" + textwrap.indent(str(first), "  ")
        elif state.learner and report.when == "call" and item.config.getoption("tbstyle", "auto") == "auto":
            report.longrepr = _short_error_report(state, task, item, excinfo)
        result.failed += 1
        first_line = str(excinfo.value).splitlines()[0][:300] if str(excinfo.value) else type(excinfo.value).__name__
        result.failures.append(f"{item.name}: {first_line}")
        if state.stop_on_failure:
            state.stopped[task] = _failed_before(item.name)
    elif report.when == "call" and report.passed:
        result.passed += 1
    elif report.skipped and report.when == "setup" and task not in state.stopped:
        result.skipped += 1


def _failed_before(name: str) -> str:
    return tr(f"{name} of the same task failed (--stop-task-on-failure)",
              f"同一任务的 {name} 失败了（--stop-task-on-failure）", sep=" · ")


MAX_ERROR_LINES = 6  # of an exception's message: torch appends whole signatures and docstrings


def _exception_text(exc: BaseException) -> str:
    """`Type: message`, cut to its first lines."""
    lines = f"{type(exc).__name__}: {exc}".splitlines()
    cut = len(lines) - MAX_ERROR_LINES
    more = [f"  [{tr(f'{cut} more lines of the message cut', f'消息其余 {cut} 行已省略', sep=' · ')}]"] if cut > 0 else []
    return "\n".join(lines[:MAX_ERROR_LINES] + more)


def _learner_frames(tb, *paths: Path) -> str:
    """The frames of a traceback that lie in `paths` (the learner's file, the test), one line of code each."""
    import linecache
    import traceback
    out = []
    for frame in traceback.extract_tb(tb):
        if Path(frame.filename).resolve() in paths:
            code = (frame.line or linecache.getline(frame.filename, frame.lineno or 0)).strip()
            out.append(f"  {_shown(Path(frame.filename))}:{frame.lineno} in {frame.name}\n      {code}\n")
    return "".join(out)


def _short_error_report(state: _State, task: str, item: pytest.Item, excinfo) -> str:
    """A learner's code raised: the test's line, the learner's own frames and the message — no library
    frames, no locals, no docstrings. An error already shown for an earlier test of the task is named once."""
    exc: BaseException = excinfo.value
    while getattr(exc, "exceptions", None):  # hypothesis found several failures: show the first
        exc = exc.exceptions[0]  # type: ignore[attr-defined]
    text = _exception_text(exc)
    first_line = text.splitlines()[0]
    learner = layout.learner_file(state.solutions_dir, task).resolve()
    import traceback
    own = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == learner]
    # The same exception from the same line of the learner's file is one mistake, shown once.
    line = own[-1].lineno if own else None
    key = (task, type(exc).__name__, f"line {line}" if own else first_line)
    if key in state.shown_errors:
        earlier = state.shown_errors[key]
        en_where, zh_where = (f"line {line} of your file", f"你的文件第 {line} 行") if own else (first_line, first_line)
        return tr(f"{item.name}: the same {key[1]} ({en_where}) as in {earlier} above: {first_line}",
                  f"{item.name}：与上面 {earlier} 相同的 {key[1]}（{zh_where}）：{first_line}")
    state.shown_errors[key] = item.name
    frames = _learner_frames(exc.__traceback__, learner, Path(str(item.path)).resolve())
    full = f"pytest --solutions {_shown(state.solutions_dir)} --tb=long"
    return (f"{item.name}: {tr('your code raised an error', '你的代码抛出了异常', sep=' · ')}\n{frames}{text}\n"
            f"({tr(f'{full} shows the full traceback', f'{full} 可查看完整的调用栈', sep=' · ')})")


def _where(state: _State, task: str) -> str:
    """The file that holds the implementation under test, for messages."""
    if state.learner:
        return _shown(layout.learner_file(state.solutions_dir, task))
    solution = state.bank.tasks[task].solution if task in state.bank.tasks else None
    return f"solutions/{solution.module}.py" if solution else task


def _trim_captured_output(report: pytest.TestReport) -> None:
    """Keep the start and end of a learner's prints; megabytes of output help no one."""
    trimmed = []
    for title, content in report.sections:
        if title.startswith("Captured") and len(content) > MAX_CAPTURED:
            cut = len(content) - MAX_CAPTURED
            note = tr(f"{cut} characters of output cut", f"省略了 {cut} 个字符的输出", sep=" · ")
            content = content[: MAX_CAPTURED // 2] + f"\n... [{note}] ...\n" + content[-MAX_CAPTURED // 2:]
        trimmed.append((title, content))
    report.sections = trimmed


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    state = _state(config)
    if not state.active or not state.learner or not state.results:
        return
    out = terminalreporter
    out.section(f"genprep: {label('your tasks', '你的任务')}")
    width = max(_lang.width(status_label(s)) for s in STATUS_ZH) + 2
    for task, r in sorted(state.results.items()):
        if task in state.missing:
            continue
        shown = status_label(r.status)
        pad = " " * (width - _lang.width(shown))
        counts = counts_text(r.passed, r.failed + r.not_attempted + r.timed_out, r.not_run)
        out.write_line(f"  {shown}{pad}{task}  " + (f"（{counts}）" if _lang.current() == "zh" else f"({counts})"))
        if r.status == "failing" and r.failures:
            first = r.failures[0].replace("\n", "\n" + " " * (width + 4))
            out.write_line(f"  {' ' * width}{label('first failure', '第一个失败')} — {first}")
    if state.missing:
        folder = _shown(state.solutions_dir)
        out.write_line("  " + tr(f"not started: {len(state.missing)} task(s) have no file in {folder}; "
                                 "see `genprep list --type coding`, start one with `genprep practice <task-id>`",
                                 f"未开始：{len(state.missing)} 个任务在 {folder} 里还没有文件；"
                                 "用 `genprep list --type coding` 查看任务，用 `genprep practice <任务 id>` 开始一个",
                                 sep="\n  "))



def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(_STATE, None)
    if state is None or not state.report_path:
        return
    data = {
        "mode": "learner" if state.learner else "reference",
        "solutions": str(state.solutions_dir) if state.learner else "solutions",
        "tasks": {t: {"status": ("not started" if t in state.missing else r.status), "passed": r.passed,
                      "failed": r.failed, "not_attempted": r.not_attempted, "timed_out": r.timed_out,
                      "skipped": r.skipped, "not_run": r.not_run, "failures": r.failures}
                  for t, r in sorted(state.results.items())},
    }
    Path(state.report_path).write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
