"""gae: A_t = Σ_l (γλ)^l δ_{t+l}, δ_t = r_t + γV_{t+1} − V_t, returns = A + V[..., :T], against a float64 double sum."""
import torch
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor

HINT = ("δ_t = r_t + γ·values[..., t + 1] − values[..., t] (values has T + 1 entries, the last the bootstrap); then "
        "backwards from t = T − 1: A_t = δ_t + γλ·A_{t+1} with A_T = 0; returns = A + values[..., :T].")


def oracle(rewards, values, gamma=0.99, lam=0.95):
    """The definition as a direct double sum, in float64, one trajectory at a time."""
    T = rewards.size(-1)
    r = rewards.double().reshape(-1, T)
    v = values.double().reshape(-1, T + 1)
    adv = torch.zeros_like(r)
    for b in range(r.size(0)):
        delta = [r[b, k] + gamma * v[b, k + 1] - v[b, k] for k in range(T)]
        for t in range(T):
            adv[b, t] = sum((gamma * lam) ** l * delta[t + l] for l in range(T - t))
    adv = adv.reshape(rewards.shape)
    return adv, adv + values.double()[..., :T]


def trajectories(shape, T, seed):
    g = torch.Generator().manual_seed(seed)
    rewards = torch.randn(*shape, T, generator=g)
    values = torch.randn(*shape, T + 1, generator=g)
    return rewards, values


def call(impl, rewards, values, what, **kw):
    out = impl.gae(rewards, values, **kw)
    expect(isinstance(out, tuple) and len(out) == 2, f"{what} must return a tuple (advantages, returns)")
    adv, ret = out
    expect_tensor(adv, f"{what}: advantages", shape=tuple(rewards.shape), dtype=rewards.dtype)
    expect_tensor(ret, f"{what}: returns", shape=tuple(rewards.shape), dtype=rewards.dtype)
    return adv, ret


def test_matches_the_double_sum(impl):
    rewards, values = trajectories((3,), 6, seed=0)
    adv, ret = call(impl, rewards, values, "gae(rewards (3, 6), values (3, 7))")
    want_adv, want_ret = oracle(rewards, values)
    expect_close(adv, want_adv.float(), "gae(rewards (3, 6), values (3, 7)): advantages", atol=1e-5, rtol=1e-5,
                 hint=HINT)
    expect_close(ret, want_ret.float(), "gae(rewards (3, 6), values (3, 7)): returns", atol=1e-5, rtol=1e-5,
                 hint="returns = advantages + values[..., :T] (the critic's target), not the advantages alone and "
                      "not a discounted sum of rewards.")


def test_non_default_gamma_and_lambda(impl):
    rewards, values = trajectories((2,), 7, seed=1)
    for gamma, lam in ((0.9, 0.5), (0.7, 0.8)):
        adv, _ = call(impl, rewards, values, f"gae(..., gamma={gamma}, lam={lam})", gamma=gamma, lam=lam)
        expect_close(adv, oracle(rewards, values, gamma, lam)[0].float(),
                     f"gae(rewards (2, 7), values (2, 8), gamma={gamma}, lam={lam}): advantages", atol=1e-5,
                     rtol=1e-5, hint="The trace decays by γ·λ per step (both factors), and δ uses γ alone. " + HINT)


def test_lambda_one_gives_discounted_return_minus_value(impl):
    # λ = 1: A_t = Σ_l γ^l r_{t+l} + γ^{T−t} V_T − V_t (Monte Carlo return, bootstrapped at the end).
    rewards, values = trajectories((2,), 5, seed=2)
    gamma, T = 0.8, 5
    adv, ret = call(impl, rewards, values, "gae(..., gamma=0.8, lam=1.0)", gamma=gamma, lam=1.0)
    r, v = rewards.double(), values.double()
    mc = torch.stack([sum(gamma ** l * r[:, t + l] for l in range(T - t)) + gamma ** (T - t) * v[:, T]
                      for t in range(T)], dim=-1)
    expect_close(adv, (mc - v[:, :T]).float(), "gae with lam=1: advantages", atol=1e-5, rtol=1e-5,
                 hint="With λ = 1 the TD errors telescope into the discounted return Σ γ^l r_{t+l} + γ^{T−t}·V_T "
                      "minus V_t. " + HINT)
    expect_close(ret, mc.float(), "gae with lam=1: returns", atol=1e-5, rtol=1e-5,
                 hint="With λ = 1 the returns are the discounted returns themselves (bootstrapped with V_T).")


def test_lambda_zero_gives_one_step_td_errors(impl):
    rewards, values = trajectories((3,), 4, seed=3)
    adv, _ = call(impl, rewards, values, "gae(..., gamma=0.9, lam=0.0)", gamma=0.9, lam=0.0)
    delta = rewards.double() + 0.9 * values.double()[:, 1:] - values.double()[:, :-1]
    expect_close(adv, delta.float(), "gae with lam=0: advantages", atol=1e-5, rtol=1e-5,
                 hint="With λ = 0 each advantage is its own TD error δ_t = r_t + γV_{t+1} − V_t: check which value "
                      "is V_t (values[..., t]) and which is V_{t+1} (values[..., t + 1]).")


def test_the_bootstrap_value_is_used(impl):
    # Raising V_T by c raises A_t by c·γ·(γλ)^{T−1−t}: the last state's value reaches every step.
    rewards, values = trajectories((1,), 5, seed=4)
    gamma, lam, c = 0.9, 0.8, 2.0
    bumped = values.clone()
    bumped[:, -1] += c
    a0, _ = call(impl, rewards, values, "gae(rewards, values)", gamma=gamma, lam=lam)
    a1, _ = call(impl, rewards, bumped, "gae(rewards, values with V_T + 2)", gamma=gamma, lam=lam)
    want = torch.tensor([[c * gamma * (gamma * lam) ** (4 - t) for t in range(5)]])
    expect_close(a1 - a0, want, "the change of the advantages when the bootstrap value V_T grows by 2", atol=1e-5,
                 rtol=1e-4, hint="The last TD error is δ_{T−1} = r_{T−1} + γ·V_T − V_{T−1} with V_T = values[..., T], "
                                 "the bootstrap value of a truncated episode — do not replace it by 0.")


def test_terminal_episode_with_zero_bootstrap(impl):
    rewards = torch.tensor([0.0, 0.0, 0.0, 1.0])  # a single reward at the end, as in RLHF
    values = torch.tensor([0.2, 0.3, 0.5, 0.7, 0.0])
    adv, ret = call(impl, rewards, values, "gae on one episode of length 4 (values (5,))", gamma=1.0, lam=0.95)
    want_adv, want_ret = oracle(rewards, values, 1.0, 0.95)
    expect_close(adv, want_adv.float(), "gae(..., gamma=1.0, lam=0.95) on a 1-D trajectory: advantages", atol=1e-6,
                 rtol=1e-5, hint="A 1-D input is a single trajectory over its only dim. " + HINT)
    expect_close(ret, want_ret.float(), "gae on a 1-D trajectory: returns", atol=1e-6, rtol=1e-5, hint=HINT)


def test_batch_dims_and_determinism(impl):
    rewards, values = trajectories((2, 3), 5, seed=5)
    adv, ret = expect_deterministic(impl.gae, rewards, values, what="gae")
    call(impl, rewards, values, "gae(rewards (2, 3, 5), values (2, 3, 6))")
    want_adv, want_ret = oracle(rewards, values)
    expect_close(adv, want_adv.float(), "gae(rewards (2, 3, 5), values (2, 3, 6)): advantages", atol=1e-5, rtol=1e-5,
                 hint="Every leading dim is a batch dim; time is the LAST dim. " + HINT)
    expect_close(ret, want_ret.float(), "gae(rewards (2, 3, 5), values (2, 3, 6)): returns", atol=1e-5, rtol=1e-5,
                 hint=HINT)


@given(st.lists(st.integers(1, 3), min_size=0, max_size=2), st.integers(1, 5), st.floats(0.5, 1.0),
       st.floats(0.0, 1.0), st.integers(0, 2**16))
def test_property_any_shape(impl, batch, T, gamma, lam, seed):
    rewards, values = trajectories(tuple(batch), T, seed)
    adv, ret = call(impl, rewards, values, f"gae on rewards {tuple(rewards.shape)}", gamma=gamma, lam=lam)
    want_adv, want_ret = oracle(rewards, values, gamma, lam)
    expect_close(adv, want_adv.float(), f"gae on rewards {tuple(rewards.shape)}, gamma={gamma}, lam={lam}",
                 atol=1e-5, rtol=1e-4, hint=HINT)
    expect_close(ret, want_ret.float(), f"gae returns on rewards {tuple(rewards.shape)}", atol=1e-5, rtol=1e-4,
                 hint=HINT)
