"""gru-cell: one GRU step (gates r, z, n), checked against nn.GRUCell and, unrolled, nn.GRU."""
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect_close, expect_tensor

import _recurrent

HINT = ("Split x @ W_ih.T + b_ih and h @ W_hh.T + b_hh SEPARATELY into r, z, n blocks; r and z are sigmoids of "
        "the sums; n = tanh(i_n + r * h_n) (r multiplies W_hn h + b_hn); h' = (1 - z) * n + z * h.")


def random_cell(d_in, d_h, seed):
    return _recurrent.random_cell(nn.GRUCell, d_in, d_h, seed)


weights = _recurrent.weights


def check_one_step(impl, B, d_in, d_h, seed):
    cell = random_cell(d_in, d_h, seed)
    g = torch.Generator().manual_seed(seed + 1)
    x, h = torch.randn(B, d_in, generator=g), 1.5 * torch.randn(B, d_h, generator=g)
    got = impl.gru_cell(x, h, *weights(cell))
    what = f"gru_cell(x ({B}, {d_in}), h ({B}, {d_h}), ...)"
    expect_tensor(got, what, shape=(B, d_h), dtype=torch.float32)
    with torch.no_grad():
        want = cell(x.double(), h.double()).float()
    expect_close(got, want, what + " vs nn.GRUCell", atol=1e-5, hint=HINT)


def test_matches_nn_grucell(impl):
    check_one_step(impl, B=3, d_in=4, d_h=5, seed=0)


def test_update_gate_keeps_the_old_state(impl):
    # A huge update-gate bias drives z to 1: the cell must then return h unchanged (h' = z*h + (1-z)*n).
    cell = random_cell(3, 4, seed=7)
    with torch.no_grad():
        cell.bias_hh[4:8] = 40.0  # the z block of b_hh
    g = torch.Generator().manual_seed(8)
    x, h = torch.randn(2, 3, generator=g), torch.randn(2, 4, generator=g)
    got = impl.gru_cell(x, h, *weights(cell))
    expect_close(got, h, "gru_cell with the update gate z saturated at 1", atol=1e-5,
                 hint="With z = 1 the GRU keeps its old state: h' = (1 - z) * n + z * h, and z is the SECOND block "
                      "(PyTorch order r, z, n).")


def test_unrolled_over_a_sequence_matches_nn_gru(impl):
    T, B, d_in, d_h = 8, 2, 3, 4
    cell = random_cell(d_in, d_h, seed=2)
    gru = nn.GRU(d_in, d_h, batch_first=True).double()
    with torch.no_grad():
        gru.weight_ih_l0.copy_(cell.weight_ih)
        gru.weight_hh_l0.copy_(cell.weight_hh)
        gru.bias_ih_l0.copy_(cell.bias_ih)
        gru.bias_hh_l0.copy_(cell.bias_hh)
    g = torch.Generator().manual_seed(3)
    xs, h0 = torch.randn(B, T, d_in, generator=g), torch.randn(B, d_h, generator=g)
    with torch.no_grad():
        want, _ = gru(xs.double(), h0.double().unsqueeze(0))
    h, W = h0, weights(cell)
    for t in range(T):
        h = impl.gru_cell(xs[:, t], h, *W)
        expect_close(h, want[:, t].float(), f"hidden state after step {t + 1} of {T} vs nn.GRU", atol=1e-5,
                     hint=HINT)


def test_keeps_float64(impl):
    cell = random_cell(3, 2, seed=4)
    x, h = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 2, dtype=torch.float64)
    with torch.no_grad():
        want = cell(x, h)
    expect_close(impl.gru_cell(x, h, *weights(cell, torch.float64)), want, "gru_cell on float64 inputs",
                 atol=1e-10, hint=HINT)


@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**16))
def test_property_any_shape(impl, B, d_in, d_h, seed):
    check_one_step(impl, B, d_in, d_h, seed)
