"""rnn-cell: one vanilla RNN step, checked against nn.RNNCell / nn.RNN with copied weights."""
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect_close, expect_tensor

import _recurrent

HINT = ("h' = tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh): PyTorch stores W_ih as (d_h, d_in), so multiply by "
        "its transpose, and add BOTH biases.")


def random_cell(d_in, d_h, seed):
    return _recurrent.random_cell(nn.RNNCell, d_in, d_h, seed)


weights = _recurrent.weights


def check_one_step(impl, B, d_in, d_h, seed):
    cell = random_cell(d_in, d_h, seed)
    g = torch.Generator().manual_seed(seed + 1)
    x, h = torch.randn(B, d_in, generator=g), torch.randn(B, d_h, generator=g)
    got = impl.rnn_cell(x, h, *weights(cell))
    what = f"rnn_cell(x ({B}, {d_in}), h ({B}, {d_h}), ...)"
    expect_tensor(got, what, shape=(B, d_h), dtype=torch.float32)
    with torch.no_grad():
        want = cell(x.double(), h.double()).float()
    expect_close(got, want, what + " vs nn.RNNCell", atol=1e-5, hint=HINT)


def test_matches_nn_rnncell(impl):
    check_one_step(impl, B=3, d_in=4, d_h=5, seed=0)


def test_square_weights(impl):
    # d_in == d_h: a missing transpose no longer crashes, it just gives wrong numbers.
    check_one_step(impl, B=2, d_in=4, d_h=4, seed=1)


def test_unrolled_over_a_sequence_matches_nn_rnn(impl):
    T, B, d_in, d_h = 7, 2, 3, 4
    cell = random_cell(d_in, d_h, seed=2)
    rnn = nn.RNN(d_in, d_h, batch_first=True).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(cell.weight_ih)
        rnn.weight_hh_l0.copy_(cell.weight_hh)
        rnn.bias_ih_l0.copy_(cell.bias_ih)
        rnn.bias_hh_l0.copy_(cell.bias_hh)
    g = torch.Generator().manual_seed(3)
    xs, h0 = torch.randn(B, T, d_in, generator=g), torch.randn(B, d_h, generator=g)
    with torch.no_grad():
        want, _ = rnn(xs.double(), h0.double().unsqueeze(0))  # (B, T, d_h)
    h, W = h0, weights(cell)
    for t in range(T):
        h = impl.rnn_cell(xs[:, t], h, *W)
        expect_close(h, want[:, t].float(), f"hidden state after step {t + 1} of {T} (feeding h back in)",
                     atol=1e-5, hint=HINT)


def test_keeps_float64(impl):
    cell = random_cell(3, 2, seed=4)
    x, h = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 2, dtype=torch.float64)
    with torch.no_grad():
        want = cell(x, h)
    expect_close(impl.rnn_cell(x, h, *weights(cell, torch.float64)), want, "rnn_cell on float64 inputs",
                 atol=1e-10, hint=HINT)


@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**16))
def test_property_any_shape(impl, B, d_in, d_h, seed):
    check_one_step(impl, B, d_in, d_h, seed)
