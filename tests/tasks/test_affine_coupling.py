"""affine-coupling: RealNVP's masked affine coupling layer, for ANY net the learner picks.

The tests never look inside the net: they overwrite every parameter with seeded random values (so that the layer
is far from the identity even if the learner zero-initializes its last layer), then check invertibility, the
masked dims, and log_det against log|det J| of the Jacobian computed by autograd in float64.
"""
import torch

from genprep.learner.checks import expect, expect_close, expect_tensor

HINT = ("(log_s, t) = net(x·m), both multiplied by (1 − m); y = x·m + (1 − m)·(x·exp(log_s) + t); "
        "log_det = log_s.sum(-1) per example; inverse: x = y·m + (1 − m)·(y − t)·exp(−log_s) with (log_s, t) = net(y·m).")


def make(impl, mask, hidden=16, seed=0, scale=0.4):
    mask = torch.tensor(mask, dtype=torch.float32)
    layer = impl.AffineCoupling(mask.numel(), hidden, mask)
    params = list(layer.parameters())
    expect(len(params) > 0, "AffineCoupling has no parameters: the net that computes (log_s, t) must be a learnable "
                            "submodule (e.g. nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), "
                            "nn.Linear(hidden, 2 * dim))).")
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in params:  # random values: the transform must be non-trivial whatever the initialization
            p.copy_(scale * torch.randn(p.shape, generator=g))
    return layer, mask


def run(layer, x, what):
    result = layer(x)
    expect(isinstance(result, tuple) and len(result) == 2,
           f"{what} should return a tuple (y, log_det), got {type(result).__name__}")
    y, log_det = result
    expect_tensor(y, f"{what}: y", shape=tuple(x.shape), dtype=torch.float32)
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
        expect_close(y[:, keep], x[:, keep], f"y on the dims where mask = 1 (mask={mask})", atol=1e-6,
                     hint="Dims with mask = 1 pass through unchanged: y = x·m + (1 − m)·(...). If these changed, you "
                          "may be transforming the mask = 1 dims instead of the mask = 0 ones.")
        moved = (y[:, change] - x[:, change]).abs().max().item()
        expect(moved > 1e-3, f"with random parameters, the dims where mask = 0 did not change (max |y − x| = "
                             f"{moved:.2g}, mask={mask}); they must be scaled and shifted: x·exp(log_s) + t. {HINT}")


def test_inverse_undoes_forward(impl):
    for i, mask in enumerate(MASKS):
        layer, _ = make(impl, mask, seed=10 + i)
        x = inputs(10 + i, 5, len(mask))
        y, _ = run(layer, x, f"AffineCoupling(mask={mask}).forward")
        back = layer.inverse(y)
        expect_tensor(back, f"AffineCoupling(mask={mask}).inverse(y)", shape=tuple(x.shape), dtype=torch.float32)
        expect_close(back, x, f"inverse(forward(x)) with mask={mask}", atol=1e-5, rtol=1e-4,
                     hint="Recompute (log_s, t) = net(y·m) (equal to net(x·m), since the masked dims are unchanged), "
                          "then x = (y − t)·exp(−log_s) on the other dims: subtract the shift BEFORE dividing by the "
                          "scale. If the net saw all of x in forward, inverse cannot recover it.")
        expect_close(run(layer, layer.inverse(y), "forward(inverse(y))")[0], y, f"forward(inverse(y)) with mask={mask}",
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
        expect_close(log_det, jacobian_logdet(layer, x).float(), f"log_det vs log|det J| (mask={mask})", atol=1e-4,
                     rtol=1e-4, hint="log_det is the sum of log_s over the TRANSFORMED dims only (log_s multiplied "
                                     "by 1 − m), one value per example: log_s.sum(-1), not summed over the batch.")


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
                       f"∂y_{j}/∂x_{k} = {J[j, k].item():.4g} for two dims with mask = 0 (mask={mask}); it must be 0: "
                       "the scale and shift may only see x·m, i.e. call net(x * mask), not net(x).")
        expect(J[j, j].item() > 0, f"∂y_{j}/∂x_{j} = {J[j, j].item():.4g} must be exp(log_s_{j}) > 0. {HINT}")


def test_log_det_gradient_reaches_the_parameters(impl):
    layer, _ = make(impl, [1, 0, 1, 0], seed=40)
    _, log_det = run(layer, inputs(40, 3, 4), "AffineCoupling([1, 0, 1, 0]).forward")
    expect(log_det.requires_grad, "log_det must stay differentiable w.r.t. the layer's parameters (maximum "
                                  "likelihood trains through it); do not detach it or compute it outside autograd.")
    log_det.sum().backward()
    grads = [p.grad for p in layer.parameters() if p.grad is not None and p.grad.abs().sum() > 0]
    expect(len(grads) > 0, "backward() from log_det reached none of the layer's parameters.")


def test_does_not_modify_inputs(impl):
    mask = [0, 1, 0, 1]
    layer, m = make(impl, mask, seed=50)
    x = inputs(50, 3, 4)
    before_x, before_m = x.clone(), m.clone()
    y, _ = layer(x)
    before_y = y.detach().clone()
    layer.inverse(y)
    expect(torch.equal(x, before_x) and torch.equal(y.detach(), before_y) and torch.equal(m, before_m),
           "forward or inverse modified its input (or the mask) in place; use out-of-place ops.")
