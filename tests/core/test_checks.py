"""The assertion helpers of the task tests: a failure names the likely cause when a known mistake explains it."""
from __future__ import annotations

import pytest
import torch

from genprep.learner.checks import CheckFailed, expect_close, expect_scalar

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
