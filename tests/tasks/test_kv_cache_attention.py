"""kv-cache-attention: attend_step(q_t, k_t, v_t, cache) one position at a time equals full causal attention."""
import torch
import torch.nn.functional as F

from genprep.learner.checks import expect, expect_close, expect_tensor

HINT = ("At step t, append k_t and v_t to the cache along the sequence dim (dim=-2), then attend from q_t over "
        "ALL cached positions 0..t: softmax(q_t Kᵀ / √d) V. No mask is needed — the cache holds only the past.")


def full_causal(q, k, v):
    """Oracle: causal attention over the whole sequence at once, in float64."""
    return F.scaled_dot_product_attention(q.double(), k.double(), v.double(), is_causal=True).float()


def run_steps(impl, q, k, v, what):
    """Feed the sequence one position at a time; returns the (B, H, T, d) outputs."""
    cache, outs = None, []
    for t in range(q.size(-2)):
        result = impl.attend_step(q[..., t:t + 1, :], k[..., t:t + 1, :], v[..., t:t + 1, :], cache)
        expect(isinstance(result, tuple) and len(result) == 2,
               f"attend_step should return a tuple (out_t, cache), got {type(result).__name__}")
        out_t, cache = result
        expect_tensor(out_t, f"attend_step at step {t} ({what})", shape=(*q.shape[:-2], 1, v.size(-1)),
                      dtype=torch.float32)
        outs.append(out_t)
    return torch.cat(outs, dim=-2)


def test_step_by_step_equals_full_causal_attention(impl):
    g = torch.Generator().manual_seed(0)
    B, H, T, d = 2, 3, 9, 4
    q, k, v = (torch.randn(B, H, T, d, generator=g) for _ in range(3))
    got = run_steps(impl, q, k, v, "B=2, H=3, d=4")
    want = full_causal(q, k, v)
    for t in range(T):  # report the first step that goes wrong
        expect_close(got[..., t, :], want[..., t, :],
                     f"output of step {t} (it must attend over the {t + 1} cached positions 0..{t})",
                     atol=1e-5, hint=HINT)


def test_first_step_returns_the_value(impl):
    # With one cached position the softmax weight is 1, so out_0 = v_0.
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(1, 2, 1, 5, generator=g) for _ in range(3))
    out, _ = impl.attend_step(q, k, v)
    expect_close(out, v, "attend_step(q_0, k_0, v_0) with no cache", atol=1e-6,
                 hint="With a single position its attention weight is 1, so the output is v_0.")


def test_long_sequence_large_scores(impl):
    g = torch.Generator().manual_seed(2)
    q, k, v = (3 * torch.randn(1, 2, 20, 8, generator=g) for _ in range(3))
    expect_close(run_steps(impl, q, k, v, "T=20, d=8"), full_causal(q, k, v),
                 "20 steps of attend_step vs full causal attention", atol=1e-4, hint=HINT)


def test_independent_caches_do_not_interfere(impl):
    # Two sequences decoded in turns, each with its own cache: the cache must carry all the state.
    g = torch.Generator().manual_seed(3)
    seqs = [tuple(torch.randn(1, 2, 6, 4, generator=g) for _ in range(3)) for _ in range(2)]
    caches, outs = [None, None], [[], []]
    for t in range(6):
        for i, (q, k, v) in enumerate(seqs):
            out_t, caches[i] = impl.attend_step(q[..., t:t + 1, :], k[..., t:t + 1, :], v[..., t:t + 1, :], caches[i])
            outs[i].append(out_t)
    for i, (q, k, v) in enumerate(seqs):
        expect_close(torch.cat(outs[i], dim=-2), full_causal(q, k, v),
                     f"sequence {i} decoded in turns with another sequence, each with its own cache", atol=1e-5,
                     hint="Keep the keys and values in the cache you return, not in a global or a default argument; "
                          "passing cache=None must start a new, empty sequence.")
