"""The assertion helpers of the task tests: a failure names the likely cause when a known mistake explains it."""
from __future__ import annotations

import pytest
import torch

from genprep.learner import lang
from genprep.learner.checks import CheckFailed, expect, expect_close, expect_scalar, expect_tensor, say


@pytest.fixture(autouse=True)
def _english():
    """English unless a test chooses; the language set for the whole run (by genprep's plugin) is put back after."""
    previous = lang.set_language("en")
    yield
    lang.set_language(previous)

LIKELY = ((torch.tensor([2.0, 4.0]), "doubling gives; halve it."), (torch.tensor([0.0, 0.0]), "zeros give."))


def test_a_result_that_matches_a_known_mistake_is_told_that_cause():
    with pytest.raises(CheckFailed, match="Your result is exactly what doubling gives; halve it."):
        expect_close(torch.tensor([2.0, 4.0]), torch.tensor([1.0, 2.0]), "f(x)", hint="generic", likely=LIKELY)


def test_an_unexplained_result_keeps_the_generic_hint():
    with pytest.raises(CheckFailed, match="generic") as err:
        expect_close(torch.tensor([5.0, 4.0]), torch.tensor([1.0, 2.0]), "f(x)", hint="generic", likely=LIKELY)
    assert "Your result" not in str(err.value)


def test_a_correct_result_passes_even_if_a_mistake_gives_the_same_value():
    expect_close(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0]), "f(x)", likely=((torch.tensor([1.0, 2.0]), "x"),))


def test_scalars_are_told_their_cause_too():
    with pytest.raises(CheckFailed, match="summing gives"):
        expect_scalar(torch.tensor(6.0), 2.0, "loss", likely=((torch.tensor(6.0), "summing gives"),))


# --- bilingual messages ---

CAUSE = say(en="tripling instead of doubling.", zh="乘了 3 而不是乘 2。")


@pytest.mark.parametrize("chosen, present, absent", [
    ("zh", ["f(x) 有 2/2 个元素不对", "应为 2", "你的结果与一个常见错误的结果完全一致：乘了 3 而不是乘 2。"],
     ["is wrong", "tripling", "Your result"]),
    ("en", ["f(x) is wrong at 2 of 2 entries", "expected 2", "a known mistake gives: tripling instead of doubling."],
     ["不对", "乘了"]),
    ("both", ["f(x) 有 2/2 个元素不对", "乘了 3", "f(x) is wrong at 2 of 2 entries", "tripling"], []),
])
def test_a_failure_speaks_the_chosen_language(chosen, present, absent):
    lang.set_language(chosen)
    with pytest.raises(CheckFailed) as err:
        expect_close(torch.tensor([3.0, 6.0]), torch.tensor([1.0, 2.0]), "f(x)",
                     hint=say(en="generic", zh="一般原因"), likely=((torch.tensor([3.0, 6.0]), CAUSE),))
    text = str(err.value)
    assert all(p in text for p in present), text
    assert not any(a in text for a in absent), text
    if chosen == "both":
        assert text.index("乘了 3") < text.index("tripling")


def test_the_language_set_for_a_run_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("GENPREP_LANG", "en")
    lang.set_language("zh")
    with pytest.raises(CheckFailed, match="应返回 torch.Tensor，实际返回的是 list"):
        expect_tensor([1, 2], say(en="double(x)", zh="double(x)"))
    with pytest.raises(CheckFailed, match="^每行之和应为 1$"):
        expect(False, say(en="rows must sum to 1", zh="每行之和应为 1"))


def test_without_a_language_set_the_environment_decides(monkeypatch):
    lang.set_language(None)
    monkeypatch.setenv("GENPREP_LANG", "zh")
    assert str(say(en="rows", zh="行")) == "行"
    monkeypatch.setenv("GENPREP_LANG", "both")
    assert f"{say(en='rows', zh='行')}" == "行\nrows"


def test_plain_strings_are_still_accepted_and_shown_as_they_are():
    lang.set_language("zh")
    with pytest.raises(CheckFailed, match="^rows must sum to 1$"):
        expect(False, "rows must sum to 1")
    with pytest.raises(CheckFailed, match="f\\(x\\) 有 1/2 个元素不对.*generic$"):
        expect_close(torch.tensor([1.0, 5.0]), torch.tensor([1.0, 2.0]), "f(x)", hint="generic")


@pytest.mark.parametrize("env, expected", [
    ({}, "both"),
    ({"LANG": "C.UTF-8"}, "both"),
    ({"LANG": "de_DE.UTF-8"}, "both"),
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_TW.UTF-8"}, "zh"),
    ({"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8", "LC_ALL": "en_GB.UTF-8"}, "en"),
    ({"LANG": "zh_CN.UTF-8", "GENPREP_LANG": "en"}, "en"),
    ({"LANG": "zh_CN.UTF-8", "GENPREP_LANG": "both"}, "both"),
])
def test_language_rule_env_then_locale_then_both(env, expected):
    assert lang.resolve(None, env) == expected


def test_the_option_wins_and_bad_names_are_explained():
    assert lang.resolve("zh", {"GENPREP_LANG": "en", "LANG": "en_US.UTF-8"}) == "zh"
    with pytest.raises(lang.LangError, match="GENPREP_LANG='fr'.*zh, en or both"):
        lang.resolve(None, {"GENPREP_LANG": "fr"})


def test_usual_cause_names_the_mistake_a_value_comes_from():
    from genprep.learner.checks import usual_cause
    lang.set_language("zh")
    likely = ((torch.tensor(6.0), say(en="summing over the batch.", zh="在 batch 维上求了和。")),)
    assert "在 batch 维上求了和" in str(usual_cause(torch.tensor(6.0), likely, "generic"))
    assert usual_cause(torch.tensor(5.0), likely, "generic") == "generic"
    assert "在 batch 维上求了和" in str(usual_cause(6.0, likely))


def test_messages_join_only_with_messages():
    joined = say(en="Divide by √d. ", zh="除以 √d。") + say(en="Then softmax.", zh="再做 softmax。")
    assert joined.render("zh") == "除以 √d。再做 softmax。" and joined.render("en") == "Divide by √d. Then softmax."
    with pytest.raises(TypeError, match=r"say\(en=\.\.\., zh=\.\.\.\)"):
        "English only. " + say(en="x", zh="x")  # noqa: B018 — a str would put English into the Chinese message
    with pytest.raises(TypeError, match="msg.en and msg.zh"):
        say(en="x", zh="x") + " English only."
