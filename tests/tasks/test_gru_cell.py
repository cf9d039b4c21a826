"""gru-cell: one GRU step (gates r, z, n), checked against nn.GRUCell and, unrolled, nn.GRU."""
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect_close, expect_tensor, say

import _recurrent

HINT = say(en="Split x @ W_ih.T + b_ih and h @ W_hh.T + b_hh SEPARATELY into r, z, n blocks; r and z are sigmoids of "
              "the sums; n = tanh(i_n + r * h_n) (r multiplies W_hn h + b_hn); h' = (1 - z) * n + z * h.",
           zh="把 x @ W_ih.T + b_ih 和 h @ W_hh.T + b_hh【分别】切成 r、z、n 三块；r 和 z 是两者之和的 sigmoid；"
              "n = tanh(i_n + r * h_n)（r 乘的是 W_hn h + b_hn）；h' = (1 - z) * n + z * h。")


def likely_gru_mistakes(x, h, W_ih, W_hh, b_ih, b_hh):
    """What the usual mistakes give for one step (in x's dtype), each with its cause."""
    x, h, W_ih, W_hh, b_ih, b_hh = (t.double() for t in (x, h, W_ih, W_hh, b_ih, b_hh))
    d_h = h.shape[-1]
    i_r, i_z, i_n = (x @ W_ih.T + b_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    n_summed = torch.tanh(r * (i_n + h_n))
    n_cho = torch.tanh(i_n + (r * h) @ W_hh[2 * d_h:].T + b_hh[2 * d_h:])
    return (((z * n + (1 - z) * h),
             say(en="h' = z * n + (1 - z) * h, the roles of z and 1 - z swapped; PyTorch's GRU keeps the old state "
                    "where z = 1: h' = (1 - z) * n + z * h.",
                 zh="写成了 h' = z * n + (1 - z) * h，z 与 1 - z 的作用反了；PyTorch 的 GRU 在 z = 1 时保留旧状态："
                    "h' = (1 - z) * n + z * h。")),
            (n, say(en="h' = n from the reset gate alone, with no update gate interpolating with the old state; "
                       "h' = (1 - z) * n + z * h.",
                    zh="只用重置门得到 h' = n，没有更新门在新旧状态之间插值；应为 h' = (1 - z) * n + z * h。")),
            ((1 - z) * n_summed + z * h,
             say(en="the input and hidden pre-activations summed before the split, so r also scales W_in x + b_in; "
                    "split them separately and use n = tanh(i_n + r * h_n).",
                 zh="输入与隐藏状态的预激活在切块之前就加在了一起，r 也乘到了 W_in x + b_in 上；"
                    "要分别切块，n = tanh(i_n + r * h_n)。")),
            ((1 - z) * n_cho + z * h,
             say(en="the reset gate applied before the matmul, W_hn (r * h) (Cho et al.'s form); PyTorch's GRU uses "
                    "r * (W_hn h + b_hn).",
                 zh="重置门放在了矩阵乘法之前，W_hn (r * h)（Cho 等人的写法）；PyTorch 的 GRU 用的是 "
                    "r * (W_hn h + b_hn)。")))


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
    expect_close(got, want, say(en=what + " vs nn.GRUCell", zh=what + " 与 nn.GRUCell 的比较"), atol=1e-5, hint=HINT,
                 likely=tuple((r.float(), c) for r, c in likely_gru_mistakes(x, h, *weights(cell))))


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
    likely = likely_gru_mistakes(x, h, *weights(cell))
    expect_close(got, h, say(en="gru_cell with the update gate z saturated at 1", zh="更新门 z 饱和为 1 时的 gru_cell"),
                 atol=1e-5,
                 hint=say(en="With z = 1 the GRU keeps its old state: h' = (1 - z) * n + z * h, and z is the SECOND block "
                             "(PyTorch order r, z, n).",
                          zh="z = 1 时 GRU 保留旧状态：h' = (1 - z) * n + z * h，并且 z 是【第二】块"
                             "（PyTorch 的顺序是 r、z、n）。"),
                 likely=((likely[1][0].float(),  # h' = n: here the update-gate swap gives the same
                          say(en="h' = n, ignoring the old state although z = 1: either z and 1 - z are swapped or the "
                                 "update gate is missing; h' = (1 - z) * n + z * h.",
                              zh="结果是 h' = n，z = 1 时却丢掉了旧状态——要么 z 与 1 - z 用反了，要么缺了更新门；"
                                 "应为 h' = (1 - z) * n + z * h。")),))


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
        likely = tuple((r.float(), c) for r, c in likely_gru_mistakes(xs[:, t], h, *W))
        h = impl.gru_cell(xs[:, t], h, *W)
        expect_close(h, want[:, t].float(), say(en=f"hidden state after step {t + 1} of {T} vs nn.GRU",
                                                zh=f"第 {t + 1}/{T} 步之后的隐藏状态与 nn.GRU 的比较"), atol=1e-5,
                     hint=HINT, likely=likely)


def test_keeps_float64(impl):
    cell = random_cell(3, 2, seed=4)
    x, h = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 2, dtype=torch.float64)
    with torch.no_grad():
        want = cell(x, h)
    expect_close(impl.gru_cell(x, h, *weights(cell, torch.float64)), want,
                 say(en="gru_cell on float64 inputs", zh="float64 输入上的 gru_cell"), atol=1e-10,
                 hint=say(en="Compute in the inputs' dtype (float64 here). " + HINT.en,
                          zh="按输入的 dtype 计算（这里是 float64）。" + HINT.zh),
                 likely=likely_gru_mistakes(x, h, *weights(cell, torch.float64)))


@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**16))
def test_property_any_shape(impl, B, d_in, d_h, seed):
    check_one_step(impl, B, d_in, d_h, seed)
