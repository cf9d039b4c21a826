"""rnn-cell: one vanilla RNN step, checked against nn.RNNCell / nn.RNN with copied weights."""
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect_close, expect_tensor, say

import _recurrent

HINT = say(en="h' = tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh): PyTorch stores W_ih as (d_h, d_in), so multiply by "
              "its transpose, and add BOTH biases.",
           zh="h' = tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)：PyTorch 把 W_ih 存成 (d_h, d_in)，所以要乘它的转置，"
              "并且两个偏置都要加上。")


def likely_step_mistakes(x, h, W_ih, W_hh, b_ih, b_hh):
    """What the usual mistakes give for one step from x and h (h: YOUR previous state in an unrolled loop)."""
    x, h = x.detach().double(), h.detach().double()
    W_ih, W_hh, b_ih, b_hh = (w.detach().double() for w in (W_ih, W_hh, b_ih, b_hh))
    pre_x = x @ W_ih.T + b_ih
    out = [(torch.tanh(pre_x + h @ W_hh.T),
            say(en="only b_ih is added; PyTorch's RNN cell has two biases — add b_hh as well.",
                zh="只加了 b_ih；PyTorch 的 RNN 单元有两个偏置——b_hh 也要加上。")),
           (torch.sigmoid(pre_x + h @ W_hh.T + b_hh),
            say(en="a sigmoid instead of tanh (the state can never be negative); a vanilla RNN uses tanh.",
                zh="用了 sigmoid 而不是 tanh（状态永远不会为负）；普通 RNN 用的是 tanh。"))]
    if W_hh.shape[0] == W_hh.shape[1]:
        out.append((torch.tanh(pre_x + h @ W_hh + b_hh),
                    say(en="h is multiplied by W_hh instead of its transpose; PyTorch stores weights as (out, in): "
                           "use h @ W_hh.T.",
                        zh="h 乘的是 W_hh 而不是它的转置；PyTorch 的权重按 (out, in) 存储：要用 h @ W_hh.T。")))
    return tuple(out)


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
    expect_close(got, want, say(en=what + " vs nn.RNNCell", zh=what + " 与 nn.RNNCell 的对比"), atol=1e-5, hint=HINT,
                 likely=likely_step_mistakes(x, h, *weights(cell)))


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
        likely = likely_step_mistakes(xs[:, t], h, *W)
        h = impl.rnn_cell(xs[:, t], h, *W)
        expect_close(h, want[:, t].float(),
                     say(en=f"hidden state after step {t + 1} of {T} (feeding h back in)",
                         zh=f"第 {t + 1}/{T} 步之后的隐藏状态（把 h 反馈回去）"),
                     atol=1e-5, hint=HINT, likely=likely)


def test_keeps_float64(impl):
    cell = random_cell(3, 2, seed=4)
    x, h = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 2, dtype=torch.float64)
    with torch.no_grad():
        want = cell(x, h)
    expect_close(impl.rnn_cell(x, h, *weights(cell, torch.float64)), want,
                 say(en="rnn_cell on float64 inputs", zh="float64 输入上的 rnn_cell"), atol=1e-10,
                 hint=say(en="Compute in the inputs' dtype (float64 here): no .float() on the way. ",
                          zh="按输入的 dtype（这里是 float64）计算：中间不要调用 .float()。") + HINT,
                 likely=likely_step_mistakes(x, h, *weights(cell, torch.float64)))


@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**16))
def test_property_any_shape(impl, B, d_in, d_h, seed):
    check_one_step(impl, B, d_in, d_h, seed)
