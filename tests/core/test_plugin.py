"""The pytest plugin end to end: the same tests against the reference and a learner's files."""
from __future__ import annotations

import json

import pytest
import torch  # noqa: F401  (imported once here: in-process runs must not re-import it)
from _checkout import make_checkout, write

import genprep.learner.checks  # noqa: F401

PLUGIN = ("-p", "genprep.learner.pytest_plugin", "-p", "no:cacheprovider", "-p", "no:randomly")


@pytest.fixture(autouse=True)
def _english(monkeypatch):
    """These tests read the English messages; the language tests at the end choose their own."""
    monkeypatch.setenv("GENPREP_LANG", "en")


@pytest.fixture
def repo(pytester: pytest.Pytester):
    make_checkout(pytester.path)
    return pytester


def learner(repo, body: str, name: str = "good_task.py"):
    return write(repo.path / "mine" / name, body)


def run(repo, *args):
    # In-process is fast (torch is already imported); learner modules are loaded
    # from their file path, so nothing leaks between runs.
    return repo.runpytest_inprocess(*PLUGIN, *args)


def test_reference_mode(repo):
    # A subprocess: in this process `solutions` is already the real repo's package.
    result = repo.runpytest_subprocess(*PLUGIN, "tests")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*genprep: testing the reference solutions*"])


def test_task_without_a_file_is_skipped_with_the_command_to_start_it(repo):
    (repo.path / "mine").mkdir()
    result = run(repo, "tests", "--solutions", "mine", "-rs")
    result.assert_outcomes(skipped=1)  # one skip per task, without importing its test module
    result.stdout.fnmatch_lines(["*no mine/good_task.py yet*genprep practice good-task*"])


def test_untouched_stub_is_not_attempted(repo):
    from genprep.bank.loader import load_bank
    from genprep.learner.practice import write_stub
    write_stub(load_bank(repo.path), "good-task", repo.path / "mine")
    result = run(repo, "tests", "--solutions", "mine")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*not attempted: mine/good_task.py still raises NotImplementedError*",
                                 "*not attempted*good-task*"])
    assert "Traceback" not in result.stdout.str()


def test_wrong_answer_explains_in_words(repo):
    learner(repo, "def double(x):\n    return 3 * x\n")
    result = run(repo, "tests", "--solutions", "mine")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["*double(arange(4)) is wrong at 3 of 4 entries*expected 6*multiply by two*",
                                 "*failing*good-task*"])


def test_correct_answer_passes(repo):
    learner(repo, "import torch\n\n\ndef helper(x):\n    return x + x\n\n\ndef double(x):\n    return helper(x)\n")
    result = run(repo, "tests", "--solutions", "mine")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*testing YOUR files in*mine*", "*solved*good-task*"])


def test_hanging_code_is_stopped_once_and_its_other_tests_are_not_run(repo):
    # One time limit, not one per test: the task's second test is skipped, with the reason.
    learner(repo, "def double(x):\n    while True:\n        pass\n")
    result = run(repo, "tests", "--solutions", "mine", "--task-timeout", "1", "-rs")
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*timed out*infinite loop*", "*timed out*good-task*(0 passed, 1 failed, 1 not run)*",
                                 "SKIPPED*test_good_task.py*not run: test_doubles of the same task timed out*"])


def test_hanging_code_cannot_swallow_the_timeout(repo):
    learner(repo, "def double(x):\n    while True:\n        try:\n            pass\n        except Exception:\n            pass\n")
    result = run(repo, "tests", "--solutions", "mine", "--task-timeout", "1")
    result.assert_outcomes(failed=1, skipped=1)


def test_a_file_whose_top_level_never_returns_is_stopped_once(repo):
    # Leftover demo code at module level: the import itself is bounded, and reported once.
    learner(repo, "while True:\n    pass\n")
    result = run(repo, "tests", "--solutions", "mine", "--task-timeout", "1", "-rs")
    result.assert_outcomes(errors=1, skipped=1)
    result.stdout.fnmatch_lines(["*importing mine/good_task.py did not finish*top level of your file*",
                                 "SKIPPED*not run: importing mine/good_task.py did not finish*"])


def test_a_file_that_imports_the_reference_is_not_solved(repo):
    learner(repo, "from solutions.mod import double\n")
    # A subprocess: in this process `solutions` may already be the real repo's package.
    result = repo.runpytest_subprocess(*PLUGIN, "tests", "--solutions", "mine")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*takes double from solutions/, the reference answer; write your own*"])


def test_solutions_dot_from_inside_the_folder_runs_the_task_tests(repo, monkeypatch):
    learner(repo, "def double(x):\n    return 2 * x\n")
    monkeypatch.chdir(repo.path / "mine")
    result = run(repo, "--solutions", ".")
    result.assert_outcomes(passed=2)


def test_the_time_limit_is_for_task_tests_only(repo):
    # genprep's own slow tests (a site build, a browser) are not learner code and are not stopped.
    write(repo.path / "tests" / "test_slow_infrastructure.py", "import time\n\n\ndef test_slow():\n    time.sleep(1.5)\n")
    run(repo, "tests/test_slow_infrastructure.py", "--task-timeout", "1").assert_outcomes(passed=1)


def test_a_plain_failure_does_not_stop_the_other_tests(repo):
    learner(repo, "def double(x):\n    return 3 * x\n")
    run(repo, "tests", "--solutions", "mine").assert_outcomes(failed=1, passed=1)


def test_stop_task_on_failure_skips_the_rest_of_a_failing_task(repo):
    learner(repo, "def double(x):\n    return 3 * x\n")
    result = run(repo, "tests", "--solutions", "mine", "--stop-task-on-failure", "-rs")
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*not run: test_doubles of the same task failed*"])


def test_deselected_tasks_are_not_reported_as_not_started(repo):
    write(repo.path / "tests" / "tasks" / "test_other_task.py",
          "def test_other(impl):\n    assert impl.double(2) == 4\n")
    learner(repo, "def double(x):\n    return 2 * x\n")
    result = run(repo, "tests", "--solutions", "mine", "-k", "doubles")
    result.assert_outcomes(passed=1)
    out = result.stdout.str()
    assert "solved         good-task" in out
    assert "not started" not in out and "other-task" not in out


def test_syntax_error_names_the_line_once(repo):
    learner(repo, "def double(x)\n    return 2 * x\n")
    result = run(repo, "tests", "--solutions", "mine", "-rs")
    result.assert_outcomes(errors=1, skipped=1)
    result.stdout.fnmatch_lines(["*mine/good_task.py has a syntax error on line 1*",
                                 "SKIPPED*not run: mine/good_task.py has a syntax error (reported once, above)*"])


def test_a_failing_import_is_reported_once_without_a_chained_traceback(repo):
    learner(repo, "import no_such_module_anywhere\n\n\ndef double(x):\n    return 2 * x\n")
    result = run(repo, "tests", "--solutions", "mine")
    result.assert_outcomes(errors=1, skipped=1)
    result.stdout.fnmatch_lines(["*importing mine/good_task.py failed: the code at the top level of your file raised*",
                                 "*mine/good_task.py:1 in <module>*", "ModuleNotFoundError: No module named*"])
    assert "During handling" not in result.stdout.str()


def test_an_exception_shows_the_learners_frames_and_a_short_message(repo):
    # torch appends whole signatures to some messages; the plugin's own frames are no help either.
    learner(repo, "def helper(x):\n    raise TypeError('bad arguments\\n' + '\\n'.join(f'signature {i}' for i in range(60)))\n"
                  "\n\ndef double(x):\n    return helper(x)\n")
    result = run(repo, "tests", "--solutions", "mine")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(["*your code raised an error*", "*mine/good_task.py:6 in double*", "*return helper(x)*",
                                 "*mine/good_task.py:2 in helper*", "TypeError: bad arguments*",
                                 "*more lines of the message cut*",
                                 "*the same TypeError (line 2 of your file) as in test_* above*"])
    assert "pytest_plugin.py:" not in out and "signature 30" not in out


def test_missing_name_is_reported(repo):
    learner(repo, "def doble(x):\n    return 2 * x\n")
    result = run(repo, "tests", "--solutions", "mine")
    result.stdout.fnmatch_lines(["*does not define double; the task 'good-task' needs: double*"])


def test_sys_exit_in_learner_code_fails_one_test_only(repo):
    learner(repo, "import sys\n\n\ndef double(x):\n    sys.exit(3)\n")
    result = run(repo, "tests", "--solutions", "mine")
    result.assert_outcomes(failed=2)


def test_environment_variable_and_ini_key(repo, monkeypatch):
    learner(repo, "def double(x):\n    return 2 * x\n")
    monkeypatch.setenv("GENPREP_SOLUTIONS", "mine")
    run(repo, "tests").stdout.fnmatch_lines(["*testing YOUR files in*mine*"])
    monkeypatch.delenv("GENPREP_SOLUTIONS")
    write(repo.path / "pytest.ini", "[pytest]\nsolutions = mine\n")
    run(repo, "tests").stdout.fnmatch_lines(["*testing YOUR files in*mine*"])
    # the command line wins over the ini key
    (repo.path / "other").mkdir()
    run(repo, "tests", "--solutions", "other").stdout.fnmatch_lines(["*testing YOUR files in*other*"])


def test_missing_folder_is_a_usage_error(repo):
    result = run(repo, "tests", "--solutions", "nowhere")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*nowhere: no such folder*genprep practice*"])


def test_non_task_tests_are_not_run_in_learner_mode(repo):
    write(repo.path / "tests" / "test_infrastructure.py", "def test_site():\n    assert True\n")
    write(repo.path / "tests" / "core" / "test_more.py", "import no_such_module_anywhere\n")
    learner(repo, "def double(x):\n    return 2 * x\n")
    result = run(repo, "tests", "--solutions", "mine")
    result.assert_outcomes(passed=2)  # the others are not even imported


def test_json_report(repo):
    learner(repo, "def double(x):\n    return 3 * x\n")
    run(repo, "tests", "--solutions", "mine", "--genprep-report", "out.json")
    data = json.loads((repo.path / "out.json").read_text(encoding="utf-8"))
    assert data["mode"] == "learner"
    assert data["tasks"]["good-task"]["status"] == "failing"
    assert data["tasks"]["good-task"]["failed"] == 1 and data["tasks"]["good-task"]["passed"] == 1


def test_runaway_allocation_fails_with_a_clear_message(repo):
    learner(repo, "import torch\n\n\ndef double(x):\n    big = torch.ones(3 * 2**30)  # 12 GB\n    return 2 * x\n")
    result = run(repo, "tests", "--solutions", "mine", "--memory-limit", "1")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*out of memory*more memory than allowed (1 GB*"])


def test_a_flood_of_prints_is_cut_short(repo):
    learner(repo, "def double(x):\n    print('spam ' * 200_000)\n    return 3 * x\n")
    result = run(repo, "tests", "--solutions", "mine")
    result.assert_outcomes(failed=1, passed=1)
    out = result.stdout.str()
    assert "characters of output cut" in out and len(out) < 50_000


def test_changing_an_input_in_place_fails(repo):
    learner(repo, "def double(x):\n    x.mul_(2)\n    return x\n")
    result = run(repo, "tests", "--solutions", "mine")
    result.stdout.fnmatch_lines(["*double changed its input `x` in place*"])


def test_wrong_signature_is_explained(repo):
    learner(repo, "def double():\n    return 0\n")
    result = run(repo, "tests", "--solutions", "mine")
    result.stdout.fnmatch_lines(["*double was called as the task specifies, but its signature does not accept that*"])


def test_the_memory_limit_is_lifted_after_the_run(repo):
    import resource
    before = resource.getrlimit(resource.RLIMIT_AS)
    learner(repo, "def double(x):\n    return 2 * x\n")
    run(repo, "tests", "--solutions", "mine", "--memory-limit", "2").assert_outcomes(passed=2)
    assert resource.getrlimit(resource.RLIMIT_AS) == before


@pytest.mark.parametrize("body, message", [
    ("    return (2 * x).tolist()", "*should return a torch.Tensor, but returned list*"),
    ("    return (2 * x).double()", "*returned dtype torch.float64, expected torch.float32*"),
    ("    return (2 * x)[:2]", "*returned shape (2,), expected (4,)*"),
    ("    return x / 0 * 0", "*contains nan at index*"),
    ("    import torch\n    return 2 * x + torch.rand_like(x)", "*is wrong at * entries*"),
])
def test_wrong_kinds_of_results_are_named(repo, body, message):
    learner(repo, f"def double(x):\n{body}\n")
    result = run(repo, "tests", "--solutions", "mine", "-k", "doubles")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines([message])


def test_nondeterministic_results_are_named(repo):
    write(repo.path / "tests" / "tasks" / "test_good_task.py",
          "import torch\nfrom genprep.learner.checks import expect_deterministic\n\n\n"
          "def test_same_input_same_output(impl):\n    expect_deterministic(impl.double, torch.ones(3), what='double(x)')\n")
    learner(repo, "import torch\n\n\ndef double(x):\n    return 2 * x + torch.rand(1)\n")
    run(repo, "tests", "--solutions", "mine").stdout.fnmatch_lines(["*gave different results for the same input*"])


# --- the learner's language (issue #15, item 6) ---

BILINGUAL_TEST = """\
import torch

from genprep.learner.checks import expect_close, say


def test_doubles(impl):
    x = torch.arange(4.0)
    expect_close(impl.double(x), 2 * x, say(en="double of 0..3", zh="0..3 的两倍"),
                 hint=say(en="Multiply by two.", zh="乘以 2。"),
                 likely=((3 * x, say(en="tripling instead of doubling.", zh="乘了 3 而不是乘 2。")),))
"""


def bilingual(repo, body="def double(x):\n    return 3 * x\n"):
    write(repo.path / "tests" / "tasks" / "test_good_task.py", BILINGUAL_TEST)
    learner(repo, body)


def test_in_chinese_a_failure_gives_the_chinese_cause_and_no_english(repo):
    bilingual(repo)
    out = run(repo, "tests", "--solutions", "mine", "--lang", "zh").stdout.str()
    assert "0..3 的两倍有 3/4 个元素不对" in out and "应为 6" in out
    assert "你的结果与一个常见错误的结果完全一致：乘了 3 而不是乘 2。" in out
    assert "未通过" in out and "（通过 0，失败 1）" in out
    assert "tripling" not in out and "is wrong at" not in out and "Multiply" not in out and "failing" not in out


def test_in_english_a_failure_gives_the_english_cause_and_no_chinese(repo, monkeypatch):
    monkeypatch.setenv("GENPREP_LANG", "zh")  # the option wins over the environment
    bilingual(repo)
    out = run(repo, "tests", "--solutions", "mine", "--lang", "en").stdout.str()
    assert "double of 0..3 is wrong at 3 of 4 entries" in out
    assert "Your result is exactly what a known mistake gives: tripling instead of doubling." in out
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in out), "Chinese text in an English run"


def test_in_both_chinese_comes_first_then_english(repo, monkeypatch):
    monkeypatch.delenv("GENPREP_LANG")
    monkeypatch.setenv("LANG", "C.UTF-8")  # a locale that is neither zh nor en: both
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    bilingual(repo)
    out = run(repo, "tests", "--solutions", "mine").stdout.str()
    zh, en = out.index("乘了 3 而不是乘 2"), out.index("tripling instead of doubling")
    assert zh < en
    assert "未通过 · failing" in out and "0 通过 · passed, 1 失败 · failed" in out


def test_the_environment_and_the_locale_choose_the_language(repo, monkeypatch):
    bilingual(repo)
    monkeypatch.setenv("GENPREP_LANG", "zh")
    assert "乘了 3 而不是乘 2" in run(repo, "tests", "--solutions", "mine").stdout.str()
    monkeypatch.delenv("GENPREP_LANG")
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    monkeypatch.setenv("LANG", "en_US.UTF-8")  # LC_ALL wins over LANG
    out = run(repo, "tests", "--solutions", "mine").stdout.str()
    assert "乘了 3 而不是乘 2" in out and "tripling" not in out


def test_an_unknown_language_is_refused_with_the_choices(repo):
    (repo.path / "mine").mkdir()
    result = run(repo, "tests", "--solutions", "mine", "--lang", "fr")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*--lang*invalid choice*'fr'*zh*en*both*"])


def test_status_labels_and_not_run_in_chinese(repo):
    learner(repo, "def double(x):\n    while True:\n        pass\n")
    out = run(repo, "tests", "--solutions", "mine", "--lang", "zh", "--task-timeout", "0.5", "-rs").stdout.str()
    assert "超时：test_doubles" in out and "死循环" in out
    assert "未运行: 同一任务的 test_doubles 超时了" in out
    assert "timed out" not in out


def test_untouched_stub_in_chinese_is_not_attempted(repo):
    from genprep.bank.loader import load_bank
    from genprep.learner.practice import write_stub
    write_stub(load_bank(repo.path), "good-task", repo.path / "mine", lang="zh")
    out = run(repo, "tests", "--solutions", "mine", "--lang", "zh").stdout.str()
    assert "未作答：mine/good_task.py 仍在抛出 NotImplementedError" in out and "Traceback" not in out


def test_syntax_and_import_errors_in_chinese(repo):
    learner(repo, "def double(x)\n    return 2 * x\n")
    out = run(repo, "tests", "--solutions", "mine", "--lang", "zh", "-rs").stdout.str()
    assert "mine/good_task.py 第 1 行有语法错误" in out and "有语法错误（只在上面报告一次）" in out
    assert "syntax error" not in out
    learner(repo, "raise ValueError('leftover demo')\n\ndef double(x):\n    return 2 * x\n")
    out = run(repo, "tests", "--solutions", "mine", "--lang", "zh").stdout.str()
    assert "导入 mine/good_task.py 失败：文件顶层的代码抛出了异常" in out and "ValueError: leftover demo" in out
    assert "importing" not in out
