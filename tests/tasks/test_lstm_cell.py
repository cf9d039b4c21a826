"""lstm-cell: one LSTM step (gates i, f, g, o), checked against nn.LSTMCell and, unrolled, nn.LSTM."""
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_tensor

import _recurrent

HINT = ("gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, split into 4 blocks in PyTorch's order i, f, g, o; "
        "i, f, o use sigmoid, g uses tanh; c' = f*c + i*g, h' = o*tanh(c').")


def random_cell(d_in, d_h, seed):
    return _recurrent.random_cell(nn.LSTMCell, d_in, d_h, seed)


weights = _recurrent.weights


def step_with_gate_order(x, h, c, W, order):
    """One LSTM step that reads the 4 gate blocks in `order` (e.g. "ifog") instead of PyTorch's "ifgo"."""
    W_ih, W_hh, b_ih, b_hh = (w.double() for w in W)
    blocks = dict(zip(order, (x.double() @ W_ih.T + b_ih + h.double() @ W_hh.T + b_hh).chunk(4, -1)))
    i, f, g, o = blocks["i"].sigmoid(), blocks["f"].sigmoid(), blocks["g"].tanh(), blocks["o"].sigmoid()
    c_new = f * c.double() + i * g
    return (o * c_new.tanh()).to(x.dtype), c_new.to(x.dtype)


def likely_gate_orders(x, h, c, W, which):
    """The result (which = 0: h, 1: c) that reading the gates in another order gives, with the cause."""
    return tuple((step_with_gate_order(x, h, c, W, order)[which],
                  f"reading the four gate blocks in the order {', '.join(order)} gives; PyTorch's weights hold "
                  f"them in the order i, f, g, o (input, forget, cell candidate, output).")
                 for order in ("ifog", "igfo", "figo", "iofg"))


def call(impl, x, h, c, W, what):
    result = impl.lstm_cell(x, h, c, *W)
    expect(isinstance(result, tuple) and len(result) == 2,
           f"{what} should return a tuple (h, c) — the new hidden state AND the new cell state — "
           f"but returned {type(result).__name__}")
    return result


def check_one_step(impl, B, d_in, d_h, seed):
    cell = random_cell(d_in, d_h, seed)
    g = torch.Generator().manual_seed(seed + 1)
    x, h, c = torch.randn(B, d_in, generator=g), torch.randn(B, d_h, generator=g), 2 * torch.randn(B, d_h, generator=g)
    what = f"lstm_cell(x ({B}, {d_in}), h ({B}, {d_h}), c ({B}, {d_h}), ...)"
    h_new, c_new = call(impl, x, h, c, weights(cell), what)
    expect_tensor(h_new, what + " -> h", shape=(B, d_h), dtype=torch.float32)
    expect_tensor(c_new, what + " -> c", shape=(B, d_h), dtype=torch.float32)
    with torch.no_grad():
        want_h, want_c = cell(x.double(), (h.double(), c.double()))
    W = weights(cell)
    expect_close(c_new, want_c.float(), what + ": new cell state c vs nn.LSTMCell", atol=1e-5, hint=HINT,
                 likely=likely_gate_orders(x, h, c, W, 1))
    expect_close(h_new, want_h.float(), what + ": new hidden state h vs nn.LSTMCell", atol=1e-5, hint=HINT,
                 likely=likely_gate_orders(x, h, c, W, 0))


def test_matches_nn_lstmcell(impl):
    check_one_step(impl, B=3, d_in=4, d_h=5, seed=0)


def test_cell_state_is_carried_over(impl):
    # Same x and h, two different previous cell states: the new states must differ by f ⊙ Δc exactly.
    cell = random_cell(3, 4, seed=5)
    g = torch.Generator().manual_seed(6)
    x, h = torch.randn(2, 3, generator=g), torch.randn(2, 4, generator=g)
    for c in (torch.zeros(2, 4), 3 * torch.randn(2, 4, generator=g)):
        h_new, c_new = call(impl, x, h, c, weights(cell), "lstm_cell(...)")
        with torch.no_grad():
            want_h, want_c = cell(x.double(), (h.double(), c.double()))
        expect_close(c_new, want_c.float(), f"new cell state for a previous c with norm {float(c.norm()):.3g}",
                     atol=1e-5, hint="The previous cell state enters through the forget gate: c' = f*c + i*g.")
        expect_close(h_new, want_h.float(), f"new hidden state for a previous c with norm {float(c.norm()):.3g}",
                     atol=1e-5, hint=HINT)


def test_unrolled_over_a_sequence_matches_nn_lstm(impl):
    T, B, d_in, d_h = 8, 2, 3, 4
    cell = random_cell(d_in, d_h, seed=2)
    lstm = nn.LSTM(d_in, d_h, batch_first=True).double()
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(cell.weight_ih)
        lstm.weight_hh_l0.copy_(cell.weight_hh)
        lstm.bias_ih_l0.copy_(cell.bias_ih)
        lstm.bias_hh_l0.copy_(cell.bias_hh)
    g = torch.Generator().manual_seed(3)
    xs = torch.randn(B, T, d_in, generator=g)
    h0, c0 = torch.randn(B, d_h, generator=g), torch.randn(B, d_h, generator=g)
    with torch.no_grad():
        want, (h_T, c_T) = lstm(xs.double(), (h0.double().unsqueeze(0), c0.double().unsqueeze(0)))
    h, c, W = h0, c0, weights(cell)
    for t in range(T):
        h, c = call(impl, xs[:, t], h, c, W, f"lstm_cell at step {t + 1}")
        expect_close(h, want[:, t].float(), f"hidden state after step {t + 1} of {T} vs nn.LSTM", atol=1e-5,
                     hint=HINT)
    expect_close(c, c_T[0].float(), f"final cell state after {T} steps vs nn.LSTM", atol=1e-5,
                 hint="Feed the new c back in at the next step, together with the new h.")


def test_float64_inputs_give_float64_states_that_match_nn_lstmcell(impl):
    cell = random_cell(3, 2, seed=4)
    x, h, c = (torch.randn(2, n, dtype=torch.float64) for n in (3, 2, 2))
    W = weights(cell, torch.float64)
    h_new, c_new = call(impl, x, h, c, W, "lstm_cell on float64 inputs")
    expect_tensor(h_new, "lstm_cell on float64 inputs -> h", shape=(2, 2), dtype=torch.float64)
    expect_tensor(c_new, "lstm_cell on float64 inputs -> c", shape=(2, 2), dtype=torch.float64)
    with torch.no_grad():
        want_h, want_c = cell(x, (h, c))
    expect_close(h_new, want_h, "lstm_cell on float64 inputs -> h", atol=1e-10, hint=HINT,
                 likely=likely_gate_orders(x, h, c, W, 0))
    expect_close(c_new, want_c, "lstm_cell on float64 inputs -> c", atol=1e-10, hint=HINT,
                 likely=likely_gate_orders(x, h, c, W, 1))


@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**16))
def test_property_any_shape(impl, B, d_in, d_h, seed):
    check_one_step(impl, B, d_in, d_h, seed)
