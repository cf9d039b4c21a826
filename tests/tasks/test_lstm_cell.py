"""lstm-cell: one LSTM step (gates i, f, g, o), checked against nn.LSTMCell and, unrolled, nn.LSTM."""
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_tensor, say

import _recurrent

HINT = say(en="gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, split into 4 blocks in PyTorch's order i, f, g, o; "
              "i, f, o use sigmoid, g uses tanh; c' = f*c + i*g, h' = o*tanh(c').",
           zh="gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh，按 PyTorch 的顺序 i, f, g, o 切成 4 块；"
              "i、f、o 用 sigmoid，g 用 tanh；c' = f*c + i*g，h' = o*tanh(c')。")


def random_cell(d_in, d_h, seed):
    return _recurrent.random_cell(nn.LSTMCell, d_in, d_h, seed)


weights = _recurrent.weights


def step_with_gate_order(x, h, c, W, order, g_sigmoid=False, squash=True):
    """One LSTM step that reads the 4 gate blocks in `order` (e.g. "ifog") instead of PyTorch's "ifgo";
    `g_sigmoid`: the candidate squashed with a sigmoid; `squash=False`: h = o * c without tanh."""
    W_ih, W_hh, b_ih, b_hh = (w.double() for w in W)
    blocks = dict(zip(order, (x.double() @ W_ih.T + b_ih + h.double() @ W_hh.T + b_hh).chunk(4, -1)))
    i, f, o = blocks["i"].sigmoid(), blocks["f"].sigmoid(), blocks["o"].sigmoid()
    g = blocks["g"].sigmoid() if g_sigmoid else blocks["g"].tanh()
    c_new = f * c.double() + i * g
    return (o * (c_new.tanh() if squash else c_new)).to(x.dtype), c_new.to(x.dtype)


def likely_gate_orders(x, h, c, W, which):
    """The result (which = 0: h, 1: c) that the usual mistakes give, each with its cause."""
    out = [(step_with_gate_order(x, h, c, W, order)[which],
            say(en=f"reading the four gate blocks in the order {', '.join(order)}; PyTorch's weights hold them in the "
                   "order i, f, g, o (input, forget, cell candidate, output).",
                zh=f"按 {', '.join(order)} 的顺序读取了四个门的分块；PyTorch 的权重按 i, f, g, o"
                   "（输入门、遗忘门、候选细胞状态、输出门）的顺序排列。"))
           for order in ("ifog", "igfo", "figo", "iofg")]
    out.append((step_with_gate_order(x, h, c, W, "ifgo", g_sigmoid=True)[which],
                say(en="a sigmoid on the candidate g; g uses tanh (in (−1, 1)) so the cell can be written both ways.",
                    zh="候选值 g 用了 sigmoid；g 应该用 tanh（取值在 (−1, 1)），细胞状态才能双向更新。")))
    if which == 0:
        out.append((step_with_gate_order(x, h, c, W, "ifgo", squash=False)[0],
                    say(en="h = o * c without the tanh; the output is h' = o * tanh(c').",
                        zh="h = o * c，漏了 tanh；输出应是 h' = o * tanh(c')。")))
    return tuple(out)


CELL = say(en="The cell state is c' = f*c + i*g: forget gate times the old cell plus input gate times the candidate "
              "(gates from x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, blocks i, f, g, o; g with tanh) — a cell that "
              "ignores c, or no gates at all (a plain RNN), fails here.",
           zh="细胞状态 c' = f*c + i*g：遗忘门乘旧的细胞状态，加上输入门乘候选值（门由 x @ W_ih.T + b_ih + "
              "h @ W_hh.T + b_hh 算出，按 i, f, g, o 分块；g 用 tanh）——忽略 c 或者根本没有门（普通 RNN）都会在这里失败。")
OUTPUT = say(en="The cell state is right but h is not: h' = o * tanh(c'), with the output gate o = sigmoid(4th block).",
             zh="细胞状态对了但 h 不对：h' = o * tanh(c')，其中输出门 o = sigmoid(第 4 块)。")


def call(impl, x, h, c, W, what):
    result = impl.lstm_cell(x, h, c, *W)
    expect(isinstance(result, tuple) and len(result) == 2,
           say(en=f"{what} should return a tuple (h, c) — the new hidden state AND the new cell state — "
                  f"but returned {type(result).__name__}",
               zh=f"{what} 应返回元组 (h, c)——新的隐藏状态和新的细胞状态——实际返回的是 {type(result).__name__}"))
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
    expect_close(c_new, want_c.float(), say(en=what + ": new cell state c vs nn.LSTMCell",
                                            zh=what + "：新的细胞状态 c 与 nn.LSTMCell 比较"), atol=1e-5,
                 hint=CELL, likely=likely_gate_orders(x, h, c, W, 1))
    expect_close(h_new, want_h.float(), say(en=what + ": new hidden state h vs nn.LSTMCell",
                                            zh=what + "：新的隐藏状态 h 与 nn.LSTMCell 比较"), atol=1e-5,
                 hint=OUTPUT, likely=likely_gate_orders(x, h, c, W, 0))


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
        norm = f"{float(c.norm()):.3g}"
        expect_close(c_new, want_c.float(), say(en=f"new cell state for a previous c with norm {norm}",
                                                zh=f"上一步 c 的范数为 {norm} 时的新细胞状态"),
                     atol=1e-5, hint=say(en="The previous cell state enters through the forget gate: c' = f*c + i*g.",
                                         zh="上一步的细胞状态经遗忘门进入：c' = f*c + i*g。"),
                     likely=likely_gate_orders(x, h, c, weights(cell), 1))
        expect_close(h_new, want_h.float(), say(en=f"new hidden state for a previous c with norm {norm}",
                                                zh=f"上一步 c 的范数为 {norm} 时的新隐藏状态"),
                     atol=1e-5, hint=OUTPUT, likely=likely_gate_orders(x, h, c, weights(cell), 0))


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
        h_prev, c_prev = h, c
        h, c = call(impl, xs[:, t], h, c, W, f"lstm_cell at step {t + 1}")
        # the mistakes are recomputed from YOUR previous states, so they explain every step, not only the first
        expect_close(h, want[:, t].float(), say(en=f"hidden state after step {t + 1} of {T} vs nn.LSTM",
                                                zh=f"第 {t + 1}/{T} 步之后的隐藏状态与 nn.LSTM 比较"), atol=1e-5,
                     hint=HINT, likely=likely_gate_orders(xs[:, t], h_prev, c_prev, W, 0))
    expect_close(c, c_T[0].float(), say(en=f"final cell state after {T} steps vs nn.LSTM",
                                        zh=f"{T} 步之后的最终细胞状态与 nn.LSTM 比较"), atol=1e-5,
                 hint=say(en="Feed the new c back in at the next step, together with the new h.",
                          zh="下一步要把新的 c 和新的 h 一起传回去。"))


def test_float64_inputs_give_float64_states_that_match_nn_lstmcell(impl):
    cell = random_cell(3, 2, seed=4)
    x, h, c = (torch.randn(2, n, dtype=torch.float64) for n in (3, 2, 2))
    W = weights(cell, torch.float64)
    h_new, c_new = call(impl, x, h, c, W, "lstm_cell on float64 inputs")
    expect_tensor(h_new, "lstm_cell on float64 inputs -> h", shape=(2, 2), dtype=torch.float64)
    expect_tensor(c_new, "lstm_cell on float64 inputs -> c", shape=(2, 2), dtype=torch.float64)
    with torch.no_grad():
        want_h, want_c = cell(x, (h, c))
    expect_close(c_new, want_c, "lstm_cell on float64 inputs -> c", atol=1e-10, hint=CELL,
                 likely=likely_gate_orders(x, h, c, W, 1))
    expect_close(h_new, want_h, "lstm_cell on float64 inputs -> h", atol=1e-10, hint=OUTPUT,
                 likely=likely_gate_orders(x, h, c, W, 0))


@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**16))
def test_property_any_shape(impl, B, d_in, d_h, seed):
    check_one_step(impl, B, d_in, d_h, seed)
