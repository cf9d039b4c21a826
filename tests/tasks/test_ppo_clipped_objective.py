"""ppo-clipped-objective: −Σ mask·min(r·A, clip(r, 1 − ε, 1 + ε)·A) / Σ mask with r = exp(logp_new − logp_old)."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_scalar

HINT = ("ratio = exp(logp_new − logp_old); objective = min(ratio·A, clamp(ratio, 1 − ε, 1 + ε)·A) per token; "
        "loss = −(objective·mask).sum() / mask.sum().")


def oracle(logp_new, logp_old, adv, mask, eps=0.2):
    """The same objective written case by case in float64: A ≥ 0 caps r at 1 + ε, A < 0 floors it at 1 − ε."""
    r = torch.exp(logp_new.double() - logp_old.double())
    a = adv.double()
    obj = torch.where(a >= 0, torch.clamp(r, max=1 + eps) * a, torch.clamp(r, min=1 - eps) * a)
    m = mask.double()
    return -(obj * m).sum() / m.sum()


def rollout(B, T, seed, spread=0.4):
    """Log-probs of sampled tokens under the old policy, a moved policy, advantages of both signs, a ragged mask."""
    g = torch.Generator().manual_seed(seed)
    logp_old = -3 * torch.rand(B, T, generator=g) - 0.05
    logp_new = logp_old + spread * torch.randn(B, T, generator=g)  # ratios ~0.4 … 2.5: every clip region
    adv = torch.randn(B, T, generator=g)
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    lengths[0] = T
    mask = torch.arange(T)[None, :] < lengths[:, None]
    return logp_new, logp_old, adv, mask


def test_matches_oracle(impl):
    new, old, adv, mask = rollout(4, 7, seed=0)
    got = impl.ppo_policy_loss(new, old, adv, mask)
    expect_scalar(got, oracle(new, old, adv, mask), "ppo_policy_loss(logp_new, logp_old, advantages, mask) on (4, 7)",
                  atol=1e-5, rtol=1e-5, hint=HINT)


def test_clip_eps_is_used(impl):
    new, old, adv, mask = rollout(3, 6, seed=1)
    for eps in (0.1, 0.3):
        expect_scalar(impl.ppo_policy_loss(new, old, adv, mask, clip_eps=eps), oracle(new, old, adv, mask, eps),
                      f"ppo_policy_loss(..., clip_eps={eps})", atol=1e-5, rtol=1e-5,
                      hint="The clip range is [1 − clip_eps, 1 + clip_eps] around 1, applied to the RATIO (not to "
                           "the log-ratio or the advantage). " + HINT)


def test_at_the_old_policy_the_loss_is_minus_the_mean_advantage(impl):
    # r = 1 everywhere: no clipping is active, the loss is −mean(A) over real tokens and dL/dlogp = −A/n.
    _, old, adv, mask = rollout(3, 5, seed=2)
    new = old.clone().requires_grad_(True)
    loss = impl.ppo_policy_loss(new, old, adv, mask)
    want = -(adv.double() * mask).sum() / mask.sum()
    expect_scalar(loss, want, "ppo_policy_loss with logp_new = logp_old", atol=1e-6, rtol=1e-5,
                  hint="At r = 1 the objective is A itself; the LOSS is its negative (we minimize), averaged over "
                       "the masked-in tokens.")
    loss.backward()
    n = int(mask.sum())
    expect_close(new.grad, (-adv * mask / n).float(), "d ppo_policy_loss / d logp_new at r = 1", atol=1e-6, rtol=1e-4,
                 hint="Gradient descent must RAISE the log-prob of tokens with A > 0: the gradient is −A/n there. "
                      "Did you return the objective instead of its negative?")


def test_gradient_is_zero_where_the_clip_is_active(impl):
    # Token 0: A > 0, r = e^0.5 ≈ 1.65 > 1 + ε → clipped, no gradient.   Token 1: A < 0, r = e^-0.5 ≈ 0.61 < 1 − ε → none.
    # Token 2: A < 0, r ≈ 1.65 > 1 + ε → the MIN keeps r·A: gradient −r·A/n ≠ 0.
    # Token 3: A > 0, r ≈ 0.61 < 1 − ε → the min keeps r·A: gradient −r·A/n ≠ 0.   Token 4: inside the range.
    old = torch.full((1, 5), -1.0)
    new = (old + torch.tensor([[0.5, -0.5, 0.5, -0.5, 0.05]])).requires_grad_(True)
    adv = torch.tensor([[1.5, -2.0, -1.0, 0.7, 0.9]])
    mask = torch.ones(1, 5, dtype=torch.bool)
    loss = impl.ppo_policy_loss(new, old, adv, mask)
    expect_scalar(loss, oracle(new.detach(), old, adv, mask), "ppo_policy_loss on five hand-made tokens", atol=1e-6,
                  rtol=1e-5, hint=HINT)
    loss.backward()
    r = torch.exp(new.detach() - old)
    want = -(r * adv) / 5
    want[0, 0] = 0.0
    want[0, 1] = 0.0
    g = new.grad
    expect(g is not None, "ppo_policy_loss must be differentiable w.r.t. logp_new")
    expect(abs(float(g[0, 0])) < 1e-7 and abs(float(g[0, 1])) < 1e-7,
           f"the gradient at tokens where the clip is active (A > 0 with r > 1 + ε, A < 0 with r < 1 − ε) must be 0; "
           f"got {g[0, :2].tolist()}. The clipped term is constant there and the min selects it.")
    expect(abs(float(g[0, 2])) > 1e-3,
           f"token 2 has A < 0 and r ≈ 1.65 > 1 + ε: the gradient must NOT vanish (got {float(g[0, 2]):.3g}) — "
           "min(r·A, clip(r)·A) picks the unclipped r·A here, so a bad action that became more likely is still "
           "pushed down. Clipping without the min (or taking the max) loses exactly this.")
    expect_close(g, want, "d ppo_policy_loss / d logp_new on the five hand-made tokens", atol=1e-6, rtol=1e-4,
                 hint="Where the unclipped term is selected the gradient is −r·A/n; where the clipped one is, 0.")


def test_masked_tokens_do_not_count(impl):
    new, old, adv, mask = rollout(3, 6, seed=3)
    mask[1, 3:] = False
    base = impl.ppo_policy_loss(new, old, adv, mask)
    # Put large (finite) garbage on padding: huge ratios and advantages.
    new2, adv2 = new.clone(), adv.clone()
    new2[~mask] = old[~mask] + 4.0
    adv2[~mask] = 100.0
    new2.requires_grad_(True)
    other = impl.ppo_policy_loss(new2, old, adv2, mask)
    expect_scalar(other, float(base), "ppo_policy_loss after changing logp_new and advantages on padding tokens",
                  atol=1e-5, rtol=1e-5, hint="Multiply the per-token objective by the mask and divide by mask.sum(), "
                                              "not by B·T: padding must count neither in the sum nor in the count.")
    expect_scalar(base, oracle(new, old, adv, mask), "ppo_policy_loss with padding", atol=1e-5, rtol=1e-5, hint=HINT)
    other.backward()
    expect(bool((new2.grad[~mask] == 0).all()),
           "padding tokens received a non-zero gradient; they must not count. " + HINT)


def test_token_mean_over_the_batch(impl):
    # One long and one short sequence: the loss is ONE mean over the 7 real tokens, not a mean of per-row means.
    old = torch.full((2, 6), -1.0)
    new = old + 0.1
    adv = torch.tensor([[1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [-3.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    mask = torch.tensor([[True] * 6, [True] + [False] * 5])
    got = impl.ppo_policy_loss(new, old, adv, mask)
    expect_scalar(got, oracle(new, old, adv, mask), "ppo_policy_loss on rows with 6 and 1 real tokens", atol=1e-6,
                  rtol=1e-5, hint="Σ over all real tokens of the batch divided by their number (7 here); a mean of "
                                  "per-sequence means would weight the single token of row 1 like six.")


def test_float_mask_and_determinism(impl):
    new, old, adv, mask = rollout(2, 5, seed=4)
    a = expect_deterministic(impl.ppo_policy_loss, new, old, adv, mask, what="ppo_policy_loss")
    b = impl.ppo_policy_loss(new, old, adv, mask.float())
    expect_scalar(b, float(a), "ppo_policy_loss with a 0/1 float mask versus the same bool mask", atol=1e-6,
                  rtol=1e-6, hint="Convert the mask to the objective's dtype before multiplying: "
                                  "m = mask.to(objective.dtype).")


@given(st.integers(1, 4), st.integers(1, 5), st.sampled_from([0.1, 0.2, 0.3]), st.integers(0, 2**16))
def test_property_random_rollouts(impl, B, T, eps, seed):
    new, old, adv, mask = rollout(B, T, seed, spread=0.5)
    expect_scalar(impl.ppo_policy_loss(new, old, adv, mask, clip_eps=eps), oracle(new, old, adv, mask, eps),
                  f"ppo_policy_loss on ({B}, {T}) with clip_eps={eps} (seed {seed})", atol=1e-5, rtol=1e-5, hint=HINT)
