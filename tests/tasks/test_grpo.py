"""grpo: group-standardized advantages and the DeepSeekMath loss (clipped surrogate − β·k3 KL, sequence then batch mean)."""
import math
import statistics

import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_scalar, expect_tensor

ADV_HINT = ("rewards.view(N, G): row n is prompt n's G consecutive completions; A = (r − row mean) / (row std + eps) "
            "with the UNBIASED std (torch.std's default), eps added to the std, not under a square root.")
LOSS_HINT = ("Per token: min(r·A, clip(r, 1 − ε, 1 + ε)·A) − β·KL with r = exp(logp − logp_old), A the sequence's "
             "advantage and KL = exp(logp_ref − logp) − (logp_ref − logp) − 1; mean over each sequence's masked "
             "tokens, then mean over sequences; the loss is minus that.")


def adv_oracle(rewards, G, eps=1e-4):
    """statistics.stdev is the sample (unbiased, n − 1) standard deviation; exact Python floats."""
    r = rewards.tolist()
    out = []
    for n in range(len(r) // G):
        group = r[n * G:(n + 1) * G]
        mu, sd = statistics.fmean(group), statistics.stdev(group)
        out += [(x - mu) / (sd + eps) for x in group]
    return torch.tensor(out, dtype=torch.float64)


def loss_oracle(logp, logp_old, logp_ref, adv, mask, eps=0.2, beta=0.04):
    """A loop over sequences and tokens in float64."""
    total = 0.0
    for i in range(logp.size(0)):
        terms = []
        for t in range(logp.size(1)):
            if not bool(mask[i, t]):
                continue
            r = math.exp(float(logp[i, t]) - float(logp_old[i, t]))
            a = float(adv[i])
            surrogate = min(r * a, min(max(r, 1 - eps), 1 + eps) * a)
            x = float(logp_ref[i, t]) - float(logp[i, t])
            terms.append(surrogate - beta * (math.exp(x) - x - 1))
        total += sum(terms) / len(terms)
    return torch.tensor(-total / logp.size(0), dtype=torch.float64)


def rollout(NG, T, seed, spread=0.4):
    g = torch.Generator().manual_seed(seed)
    logp_old = -3 * torch.rand(NG, T, generator=g) - 0.05
    logp = logp_old + spread * torch.randn(NG, T, generator=g)
    logp_ref = logp_old + spread * torch.randn(NG, T, generator=g)
    adv = torch.randn(NG, generator=g)
    lengths = torch.randint(1, T + 1, (NG,), generator=g)
    lengths[0] = T
    mask = torch.arange(T)[None, :] < lengths[:, None]
    return logp, logp_old, logp_ref, adv, mask


def check_adv(impl, rewards, G, what, eps=None, hint=ADV_HINT):
    got = impl.grpo_advantages(rewards, G) if eps is None else impl.grpo_advantages(rewards, G, eps)
    expect_tensor(got, what, shape=tuple(rewards.shape), dtype=rewards.dtype)
    want = adv_oracle(rewards, G) if eps is None else adv_oracle(rewards, G, eps)
    expect_close(got, want.float(), what, atol=1e-4, rtol=1e-4, hint=hint)
    return got


# ---- grpo_advantages ----------------------------------------------------------------------------------------------

def test_advantages_match_the_group_oracle(impl):
    g = torch.Generator().manual_seed(0)
    rewards = torch.randn(12, generator=g)
    check_adv(impl, rewards, 4, "grpo_advantages(rewards (12,), group_size=4)")


def test_advantages_use_the_unbiased_std(impl):
    # Group of 2 with rewards 1 and 0: unbiased std √½ ≈ 0.707, so A = ±0.707; the biased std (0.5) gives ±1.
    rewards = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 1.0])
    got = check_adv(impl, rewards, 2, "grpo_advantages([1, 0, 0, 0, 1, 1], group_size=2)",
                    hint="With G = 2 and rewards (1, 0) the unbiased std is √½, so A = ±0.7070 — the biased std "
                         "(unbiased=False, divide by G) gives ±1. Use torch.std's default.")
    expect(bool(torch.isfinite(got).all()), "groups whose rewards are all equal must give advantage 0, not NaN")


def test_equal_rewards_give_zero_advantage_without_nan(impl):
    rewards = torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.3, 0.9, 0.5])
    got = impl.grpo_advantages(rewards, 3)
    expect_tensor(got, "grpo_advantages(rewards (9,), group_size=3)", shape=(9,), dtype=torch.float32)
    expect(bool(torch.isfinite(got).all()),
           f"grpo_advantages returned {got.tolist()}: a group whose rewards are all equal has std 0 — add eps to the "
           "std so that 0/(0 + eps) = 0 instead of 0/0 = NaN.")
    expect(bool((got[:6] == 0).all()), f"all-right and all-wrong groups must get advantage exactly 0 (no learning "
           f"signal); got {got[:6].tolist()}")
    check_adv(impl, rewards, 3, "grpo_advantages(rewards (9,), group_size=3)")


def test_normalization_is_per_group_not_over_the_batch(impl):
    # An easy prompt (rewards around 10) and a hard one (around 0): each is standardized on its own.
    rewards = torch.tensor([10.0, 11.0, 9.5, 10.2, 0.0, 0.4, 0.1, 0.0])
    got = check_adv(impl, rewards, 4, "grpo_advantages on an easy and a hard prompt (group_size=4)",
                    hint="Mean and std are taken within each group (per prompt), not over the whole batch: "
                         "otherwise every completion of the easy prompt looks good. " + ADV_HINT)
    expect(abs(float(got[:4].sum())) < 1e-4 and abs(float(got[4:].sum())) < 1e-4,
           f"each group's advantages must sum to 0; got sums {float(got[:4].sum()):.3g} and {float(got[4:].sum()):.3g}")


def test_groups_are_consecutive_completions(impl):
    # N = 3 prompts × G = 2: completions (0, 1) belong to prompt 0, (2, 3) to prompt 1, (4, 5) to prompt 2.
    rewards = torch.tensor([1.0, 0.0, 5.0, 7.0, -2.0, -1.0])
    check_adv(impl, rewards, 2, "grpo_advantages([1, 0, 5, 7, -2, -1], group_size=2)",
              hint="Groups are CONSECUTIVE blocks: rewards.view(-1, group_size), not rewards.view(group_size, -1) "
                   "(which would group completions 0, 3 / 1, 4 / 2, 5 of different prompts).")


def test_eps_is_added_to_the_std(impl):
    # Rewards that differ by 1e-3: std ≈ 1e-3, comparable to eps; √(var + eps) would be 10× larger.
    rewards = torch.tensor([0.5, 0.501, 0.502, 0.2, 0.9, 0.4])
    check_adv(impl, rewards, 3, "grpo_advantages on a group with std ~1e-3 (eps=1e-4)",
              hint="eps goes in as (std + eps); √(var + eps) is a different (and here 10× larger) denominator.")
    check_adv(impl, rewards, 3, "grpo_advantages(..., eps=0.5)", eps=0.5, hint=ADV_HINT)


@given(st.integers(1, 4), st.integers(2, 5), st.integers(0, 2**16))
def test_property_advantages(impl, N, G, seed):
    g = torch.Generator().manual_seed(seed)
    rewards = torch.randint(0, 3, (N * G,), generator=g).float() + 0.1 * torch.randn(N * G, generator=g)
    check_adv(impl, rewards, G, f"grpo_advantages on {N} groups of {G} (seed {seed})")


# ---- grpo_loss ----------------------------------------------------------------------------------------------------

def test_loss_matches_oracle(impl):
    logp, old, ref, adv, mask = rollout(6, 5, seed=1)
    got = impl.grpo_loss(logp, old, ref, adv, mask)
    expect_scalar(got, loss_oracle(logp, old, ref, adv, mask), "grpo_loss(logp (6, 5), ..., advantages (6,), mask)",
                  atol=1e-5, rtol=1e-5, hint=LOSS_HINT)
    for eps, beta in ((0.1, 0.0), (0.3, 0.5)):
        expect_scalar(impl.grpo_loss(logp, old, ref, adv, mask, clip_eps=eps, beta=beta),
                      loss_oracle(logp, old, ref, adv, mask, eps, beta),
                      f"grpo_loss(..., clip_eps={eps}, beta={beta})", atol=1e-5, rtol=1e-5, hint=LOSS_HINT)


def test_sequence_mean_then_batch_mean(impl):
    # Sequence 0 has 6 tokens with A = +1, sequence 1 one token with A = −3, at r = 1 and logp = ref:
    # per-sequence means 1 and −3 → loss −(1 − 3)/2 = 1; a token mean over the batch would give −(6 − 3)/7.
    T = 6
    logp = torch.full((2, T), -1.0)
    adv = torch.tensor([1.0, -3.0])
    mask = torch.tensor([[True] * 6, [True] + [False] * 5])
    got = impl.grpo_loss(logp, logp.clone(), logp.clone(), adv, mask)
    expect_scalar(got, 1.0, "grpo_loss on two sequences of 6 and 1 tokens (A = +1 and −3, r = 1, no KL)",
                  atol=1e-6, rtol=1e-5,
                  hint="First average each sequence over its own masked tokens (1/|o_i| Σ_t), then average the "
                       "sequences: here −(1 + (−3))/2 = 1. A single token mean over the batch gives −3/7.")


def test_kl_term_is_k3_non_negative_and_zero_at_the_reference(impl):
    # A = 0 and r = 1: the loss is β · mean_i mean_t KL_t, with KL_t = e^x − x − 1 ≥ 0, x = logp_ref − logp.
    logp = torch.tensor([[-1.0], [-2.0], [-0.5], [-3.0]])
    ref = logp + torch.tensor([[0.8], [-0.6], [1.5], [-1.2]])  # the reference above and below the policy
    zeros, mask = torch.zeros(4), torch.ones(4, 1, dtype=torch.bool)
    got = impl.grpo_loss(logp, logp.clone(), ref, zeros, mask, beta=0.5)
    x = (ref - logp).double()
    want = 0.5 * (torch.exp(x) - x - 1).mean()
    expect(float(got) >= 0, f"with zero advantages the loss is β·KL and must be ≥ 0; got {float(got):.4f}. The k3 "
           "estimator exp(ref − logp) − (ref − logp) − 1 is never negative; the plain log-ratio is.")
    expect_scalar(got, want, "grpo_loss with zero advantages, r = 1, beta = 0.5 (the KL term alone)", atol=1e-6,
                  rtol=1e-5, hint="KL per token = exp(logp_ref − logp) − (logp_ref − logp) − 1 (k3, with the ratio "
                                  "π_ref/π_θ), SUBTRACTED from the objective, so it ADDS β·KL to the loss.")
    at_ref = impl.grpo_loss(logp, logp.clone(), logp.clone(), zeros, mask, beta=0.5)
    expect_scalar(at_ref, 0.0, "grpo_loss with zero advantages and logp = logp_ref", atol=1e-7, rtol=0,
                  hint="The KL term must vanish when the policy equals the reference.")


def test_kl_gradient_pulls_towards_the_reference(impl):
    logp = torch.tensor([[-1.0, -2.0, -0.7]]).requires_grad_(True)
    ref = torch.tensor([[-0.5, -2.5, -0.7]])
    old = logp.detach().clone()
    impl.grpo_loss(logp, old, ref, torch.zeros(1), torch.ones(1, 3, dtype=torch.bool), beta=0.2).backward()
    # d/dlogp [β (e^{ref−logp} − (ref − logp) − 1)] / 3 = β (1 − e^{ref−logp}) / 3.
    want = 0.2 * (1 - torch.exp(ref - logp.detach())) / 3
    expect(logp.grad is not None, "grpo_loss must be differentiable w.r.t. logp")
    expect_close(logp.grad, want, "d grpo_loss / d logp from the KL term alone", atol=1e-6, rtol=1e-4,
                 hint="Descent must move logp towards logp_ref: negative gradient where ref > logp, positive where "
                      "ref < logp, zero where they agree. " + LOSS_HINT)


def test_clipped_tokens_get_no_surrogate_gradient(impl):
    # A > 0 and r = e^0.5 > 1 + ε on token 0: only the KL (β = 0 here: none) could move it; token 1 is inside.
    old = torch.tensor([[-1.0, -1.0]])
    logp = (old + torch.tensor([[0.5, 0.05]])).requires_grad_(True)
    impl.grpo_loss(logp, old, logp.detach().clone(), torch.tensor([2.0]), torch.ones(1, 2, dtype=torch.bool),
                   beta=0.0).backward()
    g = logp.grad
    expect(g is not None and abs(float(g[0, 0])) < 1e-7,
           f"token 0 has A > 0 and r ≈ 1.65 > 1 + ε: the clipped surrogate must give it no gradient; got "
           f"{None if g is None else float(g[0, 0])}. Use min(r·A, clip(r, 1 − ε, 1 + ε)·A).")
    expect(abs(float(g[0, 1]) - (-2.0 * math.exp(0.05) / 2)) < 1e-5,
           f"token 1 (inside the clip range) must have gradient −r·A/|o| = {-2.0 * math.exp(0.05) / 2:.5f}; "
           f"got {float(g[0, 1]):.5f}. " + LOSS_HINT)


def test_masked_tokens_do_not_count(impl):
    logp, old, ref, adv, mask = rollout(4, 6, seed=2)
    mask[1, 2:] = False
    base = impl.grpo_loss(logp, old, ref, adv, mask)
    logp2, ref2 = logp.clone(), ref.clone()
    logp2[~mask] = old[~mask] + 3.0
    ref2[~mask] = old[~mask] - 4.0
    other = impl.grpo_loss(logp2, old, ref2, adv, mask)
    expect_scalar(other, float(base), "grpo_loss after changing logp and logp_ref on padding tokens", atol=1e-5,
                  rtol=1e-5, hint="Padding must count neither in a sequence's sum nor in its token count. "
                                  + LOSS_HINT)
    b = impl.grpo_loss(logp, old, ref, adv, mask.float())
    expect_scalar(b, float(base), "grpo_loss with a 0/1 float mask versus the same bool mask", atol=1e-6, rtol=1e-6,
                  hint="Convert the mask with mask.to(dtype) before multiplying.")


def test_end_to_end_and_deterministic(impl):
    g = torch.Generator().manual_seed(3)
    rewards = torch.randint(0, 2, (8,), generator=g).float()
    adv = impl.grpo_advantages(rewards, 4)
    logp, old, ref, _, mask = rollout(8, 5, seed=3)
    got = expect_deterministic(impl.grpo_loss, logp, old, ref, adv, mask, what="grpo_loss")
    expect_scalar(got, loss_oracle(logp, old, ref, adv_oracle(rewards, 4).float(), mask),
                  "grpo_loss with the advantages of grpo_advantages(rewards (8,), 4)", atol=1e-4, rtol=1e-4,
                  hint=LOSS_HINT)


@given(st.integers(2, 6), st.integers(1, 5), st.sampled_from([0.0, 0.04, 0.3]), st.integers(0, 2**16))
def test_property_loss(impl, NG, T, beta, seed):
    logp, old, ref, adv, mask = rollout(NG, T, seed, spread=0.5)
    expect_scalar(impl.grpo_loss(logp, old, ref, adv, mask, beta=beta), loss_oracle(logp, old, ref, adv, mask,
                                                                                   beta=beta),
                  f"grpo_loss on ({NG}, {T}) with beta={beta} (seed {seed})", atol=1e-5, rtol=1e-5, hint=LOSS_HINT)
