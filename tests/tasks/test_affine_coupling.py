"""affine-coupling: RealNVP's masked affine coupling layer, for ANY net the learner picks.

The tests never look inside the net: they overwrite every parameter with seeded random values (so that the layer
is far from the identity even if the learner zero-initializes its last layer), then check invertibility, the
masked dims, and log_det against log|det J| of the Jacobian computed by autograd in float64.
"""
import torch

from genprep.learner.checks import expect, expect_close, expect_tensor, say

HINT = say(en="(log_s, t) = net(x·m), both multiplied by (1 − m); y = x·m + (1 − m)·(x·exp(log_s) + t); "
              "log_det = log_s.sum(-1) per example; inverse: x = y·m + (1 − m)·(y − t)·exp(−log_s) with "
              "(log_s, t) = net(y·m).",
           zh="(log_s, t) = net(x·m)，两者都乘以 (1 − m)；y = x·m + (1 − m)·(x·exp(log_s) + t)；"
              "log_det = log_s.sum(-1)，每个样本一个；逆变换：x = y·m + (1 − m)·(y − t)·exp(−log_s)，其中 "
              "(log_s, t) = net(y·m)。")


def make(impl, mask, hidden=16, seed=0, scale=0.4):
    mask = torch.tensor(mask, dtype=torch.float32)
    layer = impl.AffineCoupling(mask.numel(), hidden, mask)
    params = list(layer.parameters())
    expect(len(params) > 0,
           say(en="AffineCoupling has no parameters: the net that computes (log_s, t) must be a learnable "
                  "submodule (e.g. nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, 2 * dim))).",
               zh="AffineCoupling 没有参数：计算 (log_s, t) 的网络必须是可学习的子模块（例如 "
                  "nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, 2 * dim))）。"))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in params:  # random values: the transform must be non-trivial whatever the initialization
            p.copy_(scale * torch.randn(p.shape, generator=g))
    return layer, mask


def run(layer, x, what):
    result = layer(x)
    expect(isinstance(result, tuple) and len(result) == 2,
           say(en=f"{what} should return a tuple (y, log_det), got {type(result).__name__}",
               zh=f"{what} 应返回元组 (y, log_det)，实际是 {type(result).__name__}"))
    y, log_det = result
    expect_tensor(y, f"{what}: y", shape=tuple(x.shape), dtype=torch.float32)
    expect(not isinstance(log_det, torch.Tensor) or log_det.dim() != 0,
           say(en=f"{what}: log_det is a single number; return one log-determinant per example, shape ({x.shape[0]},): "
                  "log_s.sum(-1), not log_s.sum() over the whole batch.",
               zh=f"{what}：log_det 是一个标量；应为每个样本返回一个对数行列式，形状 ({x.shape[0]},)："
                  "用 log_s.sum(-1)，不要对整个 batch 求 log_s.sum()。"))
    expect_tensor(log_det, f"{what}: log_det", shape=(x.shape[0],), dtype=torch.float32)
    return y, log_det


def inputs(seed, B, dim):
    return torch.randn(B, dim, generator=torch.Generator().manual_seed(100 + seed))


MASKS = [[1, 0, 1, 0, 1], [0, 0, 0, 1], [1, 1, 0], [0, 1, 1, 0, 0, 1]]


def test_masked_dims_pass_unchanged_and_the_others_change(impl):
    for i, mask in enumerate(MASKS):
        layer, m = make(impl, mask, seed=i)
        x = inputs(i, 6, len(mask))
        y, _ = run(layer, x, f"AffineCoupling(mask={mask}).forward(x (6, {len(mask)}))")
        keep, change = m.bool(), ~m.bool()
        expect_close(y[:, keep], x[:, keep], say(en=f"y on the dims where mask = 1 (mask={mask})",
                                                 zh=f"mask = 1 的维度上的 y（mask={mask}）"), atol=1e-6,
                     hint=say(en="Dims with mask = 1 pass through unchanged: y = x·m + (1 − m)·(...). If these changed, "
                                 "you may be transforming the mask = 1 dims instead of the mask = 0 ones.",
                              zh="mask = 1 的维度原样通过：y = x·m + (1 − m)·(...)。如果它们变了，你可能把 mask 的含义"
                                 "读反了，变换了 mask = 1 的维度而不是 mask = 0 的维度。"))
        moved = (y[:, change] - x[:, change]).abs().max().item()
        expect(moved > 1e-3,
               say(en=f"with random parameters, the dims where mask = 0 did not change (max |y − x| = {moved:.2g}, "
                      f"mask={mask}); they must be scaled and shifted: x·exp(log_s) + t. {HINT.en}",
                   zh=f"参数随机时，mask = 0 的维度没有变化（max |y − x| = {moved:.2g}，mask={mask}）；"
                      f"它们必须被缩放和平移：x·exp(log_s) + t。{HINT.zh}"))


def test_inverse_undoes_forward(impl):
    for i, mask in enumerate(MASKS):
        layer, _ = make(impl, mask, seed=10 + i)
        x = inputs(10 + i, 5, len(mask))
        y, _ = run(layer, x, f"AffineCoupling(mask={mask}).forward")
        back = layer.inverse(y)
        expect_tensor(back, f"AffineCoupling(mask={mask}).inverse(y)", shape=tuple(x.shape), dtype=torch.float32)
        expect_close(back, x, f"inverse(forward(x)), mask={mask}", atol=1e-5, rtol=1e-4,
                     hint=say(en="Recompute (log_s, t) = net(y·m) (equal to net(x·m), since the masked dims are "
                                 "unchanged), then x = (y − t)·exp(−log_s) on the other dims: subtract the shift BEFORE "
                                 "dividing by the scale. If the net saw all of x in forward, inverse cannot recover it.",
                              zh="重新计算 (log_s, t) = net(y·m)（与 net(x·m) 相同，因为被掩码的维度没有变），再在其余维度上"
                                 "求 x = (y − t)·exp(−log_s)：先减去平移，再除以缩放。如果 forward 里网络看到了整个 x，"
                                 "inverse 就无法还原它。"))
        expect_close(run(layer, layer.inverse(y), "forward(inverse(y))")[0], y, f"forward(inverse(y)), mask={mask}",
                     atol=1e-5, rtol=1e-4, hint=HINT)


def jacobian_logdet(layer, x):
    """log|det ∂y/∂x| for each example, from the autograd Jacobian, in float64."""
    out = []
    for xi in x:
        J = torch.autograd.functional.jacobian(lambda v: layer(v[None])[0][0], xi).double()
        out.append(torch.linalg.slogdet(J).logabsdet)
    return torch.stack(out)


def test_log_det_equals_the_autograd_jacobian(impl):
    for i, mask in enumerate(MASKS):
        layer, _ = make(impl, mask, seed=20 + i)
        x = inputs(20 + i, 4, len(mask))
        _, log_det = run(layer, x, f"AffineCoupling(mask={mask}).forward(x (4, {len(mask)}))")
        expect_close(log_det, jacobian_logdet(layer, x).float(),
                     say(en=f"log_det vs log|det J| (mask={mask})", zh=f"log_det 与 log|det J| 的比较（mask={mask}）"),
                     atol=1e-4, rtol=1e-4,
                     hint=say(en="log_det is the sum of log_s over the TRANSFORMED dims only (log_s multiplied by 1 − m), "
                                 "one value per example: log_s.sum(-1), not summed over the batch. (If y is right too, "
                                 "check that the net sees only x·m: otherwise log_s is not the Jacobian's diagonal.)",
                              zh="log_det 只对被变换的维度（log_s 乘以 1 − m）求 log_s 之和，每个样本一个值：log_s.sum(-1)，"
                                 "不要对 batch 求和。（如果 y 也正确，检查网络是否只看到 x·m：否则 log_s 就不是"
                                 "雅可比矩阵的对角线。）"))


def test_jacobian_is_triangular(impl):
    # y_j (mask = 0) may depend on the mask = 1 inputs and on x_j itself, never on another mask = 0 input.
    mask = [1, 0, 0, 1, 0]
    layer, m = make(impl, mask, seed=30)
    x = inputs(30, 1, 5)[0]
    J = torch.autograd.functional.jacobian(lambda v: layer(v[None])[0][0], x)
    free = (~m.bool()).nonzero().flatten().tolist()
    for j in free:
        for k in free:
            if j != k:
                expect(abs(J[j, k].item()) < 1e-6,
                       say(en=f"∂y_{j}/∂x_{k} = {J[j, k].item():.4g} for two dims with mask = 0 (mask={mask}); it must "
                              "be 0: the scale and shift may only see x·m, i.e. call net(x * mask), not net(x).",
                           zh=f"两个 mask = 0 的维度之间 ∂y_{j}/∂x_{k} = {J[j, k].item():.4g}（mask={mask}）；它必须为 0："
                              "缩放和平移只能看到 x·m，即调用 net(x * mask)，而不是 net(x)。"))
        expect(J[j, j].item() > 0,
               say(en=f"∂y_{j}/∂x_{j} = {J[j, j].item():.4g} must be exp(log_s_{j}) > 0. {HINT.en}",
                   zh=f"∂y_{j}/∂x_{j} = {J[j, j].item():.4g}，它必须是 exp(log_s_{j}) > 0。{HINT.zh}"))


def test_log_det_gradient_reaches_the_parameters(impl):
    layer, _ = make(impl, [1, 0, 1, 0], seed=40)
    _, log_det = run(layer, inputs(40, 3, 4), "AffineCoupling([1, 0, 1, 0]).forward")
    expect(log_det.requires_grad,
           say(en="log_det must stay differentiable w.r.t. the layer's parameters (maximum likelihood trains through "
                  "it); do not detach it or compute it outside autograd.",
               zh="log_det 必须对层的参数保持可微（最大似然训练要通过它反向传播）；不要 detach，也不要在 autograd 之外"
                  "计算它。"))
    log_det.sum().backward()
    grads = [p.grad for p in layer.parameters() if p.grad is not None and p.grad.abs().sum() > 0]
    expect(len(grads) > 0, say(en="backward() from log_det reached none of the layer's parameters; compute log_det "
                                   "from the net's log_s.",
                                zh="从 log_det 做 backward() 没有传到层的任何参数；log_det 要由网络输出的 log_s 计算。"))


def test_does_not_modify_inputs(impl):
    mask = [0, 1, 0, 1]
    layer, m = make(impl, mask, seed=50)
    x = inputs(50, 3, 4)
    before_x, before_m = x.clone(), m.clone()
    y, _ = layer(x)
    before_y = y.detach().clone()
    layer.inverse(y)
    expect(torch.equal(x, before_x) and torch.equal(y.detach(), before_y) and torch.equal(m, before_m),
           say(en="forward or inverse modified its input (or the mask) in place; use out-of-place ops.",
               zh="forward 或 inverse 原地修改了输入（或 mask）；请使用非原地运算。"))
