"""vae-model: an MLP VAE — encode / reparameterize / decode, sampling from the prior through the decoder,
and a short training run on binarized 8×8 digits."""
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from genprep.datasets import digits
from genprep.learner.checks import expect, expect_close, expect_tensor
from genprep.learner.optim import Adam  # torch.optim would import torch._dynamo: ~1 s per run


def neg_elbo_terms(x, x_logits, mu, logvar):
    """Per-example reconstruction (Bernoulli, summed over pixels) and KL to N(0, I), each (B,)."""
    recon = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").sum(1)
    q = Normal(mu, (0.5 * logvar).exp(), validate_args=False)
    kl = kl_divergence(q, Normal(torch.zeros_like(mu), torch.ones_like(mu), validate_args=False)).sum(1)
    return recon, kl


def call_forward(model, x, what):
    out = model(x)
    expect(isinstance(out, tuple) and len(out) == 3,
           f"{what} should return a tuple (x_logits, mu, logvar), got {type(out).__name__}")
    return out


class Spy:
    """Wraps a bound method, records its inputs and outputs, and calls through."""

    def __init__(self, fn):
        self.fn, self.inputs, self.outputs = fn, [], []

    def __call__(self, *args):
        out = self.fn(*args)
        self.inputs.append(args)
        self.outputs.append(out)
        return out


def test_shapes_and_dtypes(impl):
    model = impl.VAE(12, 3, hidden=16)
    x = (torch.rand(5, 12) > 0.5).float()
    enc = model.encode(x)
    expect(isinstance(enc, tuple) and len(enc) == 2, "encode(x) should return a tuple (mu, logvar)")
    expect_tensor(enc[0], "encode(x (5, 12))[0] (mu)", shape=(5, 3), dtype=torch.float32)
    expect_tensor(enc[1], "encode(x (5, 12))[1] (logvar)", shape=(5, 3), dtype=torch.float32)
    expect_tensor(model.decode(torch.randn(7, 3)), "decode(z (7, 3))", shape=(7, 12), dtype=torch.float32)
    x_logits, mu, logvar = call_forward(model, x, "VAE.forward(x)")
    expect_tensor(x_logits, "forward(x (5, 12))[0] (x_logits)", shape=(5, 12), dtype=torch.float32)
    expect_tensor(mu, "forward(x (5, 12))[1] (mu)", shape=(5, 3), dtype=torch.float32)
    expect_tensor(logvar, "forward(x (5, 12))[2] (logvar)", shape=(5, 3), dtype=torch.float32)
    s = model.sample(9)
    expect_tensor(s, "sample(9)", shape=(9, 12), dtype=torch.float32)
    expect(bool(((s >= 0) & (s <= 1)).all()), f"sample(9) must return probabilities in [0, 1]; its range is "
                                              f"[{s.min().item():.3g}, {s.max().item():.3g}] — apply a sigmoid "
                                              "to the decoder's logits.")
    expect(sum(p.numel() for p in model.parameters()) > 0, "VAE has no parameters; register its layers in __init__")


def test_forward_uses_the_reparameterization_trick(impl):
    torch.manual_seed(1)
    model = impl.VAE(12, 3, hidden=16)
    x = (torch.rand(512, 12) > 0.5).float()
    spy = Spy(model.decode)
    model.decode = spy
    x_logits, mu, logvar = call_forward(model, x, "VAE.forward(x)")
    expect(len(spy.inputs) == 1, f"forward(x) called self.decode {len(spy.inputs)} times; it must decode the "
                                 "sampled z exactly once and return (self.decode(z), mu, logvar).")
    z, = spy.inputs[0]
    expect_tensor(z, "the z that forward passes to decode", shape=(512, 3), dtype=torch.float32)
    expect_close(x_logits, spy.outputs[0].detach(), "forward's x_logits vs decode(z)", atol=1e-6,
                 hint="forward must return the decoder's logits for the sampled z (no sigmoid).")
    mu_e, logvar_e = model.encode(x)
    expect_close(mu, mu_e.detach(), "forward's mu vs encode(x)[0]", atol=1e-6,
                 hint="forward returns the encoder's (mu, logvar) for x.")
    expect_close(logvar, logvar_e.detach(), "forward's logvar vs encode(x)[1]", atol=1e-6,
                 hint="forward returns the encoder's (mu, logvar) for x.")
    grads = (torch.autograd.grad(z.sum(), [mu, logvar], allow_unused=True, retain_graph=True) if z.requires_grad
             else (None, None))
    expect(grads[0] is not None,
           "the z given to the decoder does not depend on the mu that forward returns, so the reconstruction cannot "
           "train the encoder. Sample z = mu + exp(0.5·logvar)·ε from the encoder's outputs.")
    expect(grads[1] is not None,
           "the z given to the decoder does not depend on logvar: forward must add noise scaled by the standard "
           "deviation, z = mu + exp(0.5·logvar)·ε, not decode mu alone.")
    expect_close(grads[0], torch.ones(512, 3), "∂z/∂μ inside forward", atol=1e-6, hint="z = μ + σ·ε gives ∂z/∂μ = 1.")
    expect_close(grads[1], 0.5 * (z - mu).detach(), "∂z/∂logvar inside forward", atol=1e-5, rtol=1e-4,
                 hint="z = μ + exp(½·logvar)·ε gives ∂z/∂logvar = ½(z − μ); σ is exp(½·logvar), not exp(logvar).")
    eps = ((z - mu) / (0.5 * logvar).exp()).detach()
    expect(abs(eps.mean().item()) < 0.15 and abs(eps.var().item() - 1) < 0.2,
           f"(z − μ)/σ inside forward has mean {eps.mean().item():.3f} and variance {eps.var().item():.3f} over "
           "1536 entries; for ε ~ N(0, I) they are ≈ 0 and 1. forward must draw fresh noise (not z = μ).")


def test_sample_uses_the_prior_and_the_decoder_only(impl):
    torch.manual_seed(2)
    model = impl.VAE(10, 4, hidden=16)
    decode = model.decode
    spy, enc_spy = Spy(model.decode), Spy(model.encode)
    model.decode, model.encode = spy, enc_spy
    out = model.sample(4000, generator=torch.Generator().manual_seed(3))
    expect(len(enc_spy.inputs) == 0, "sample() called the encoder. Generation needs no input image: draw "
                                     "z ~ N(0, I) and run the DECODER only; the encoder maps images to z, not z to images.")
    expect(len(spy.inputs) == 1, f"sample() called self.decode {len(spy.inputs)} times; expected once, on z ~ N(0, I).")
    z, = spy.inputs[0]
    expect_tensor(z, "the z that sample(4000) passes to decode", shape=(4000, 4), dtype=torch.float32)
    m, v = z.mean(0), z.var(0)
    expect(bool((m.abs() < 0.1).all() and ((v - 1).abs() < 0.1).all()),
           f"the z that sample() decodes has per-dimension means {m.tolist()} and variances {v.tolist()}; "
           "draw it from the prior N(0, I) (torch.randn(n, z_dim, generator=generator)).")
    expect_close(out, torch.sigmoid(decode(z)).detach(), "sample(4000) vs sigmoid(decode(z))", atol=1e-6,
                 hint="Return the decoder's Bernoulli probabilities sigmoid(logits) — no further rescaling "
                      "like (p + 1) / 2; they are already in [0, 1].")


def test_sample_draws_with_the_given_generator(impl):
    model = impl.VAE(10, 4, hidden=16)
    torch.manual_seed(10)
    a = model.sample(6, generator=torch.Generator().manual_seed(5))
    torch.manual_seed(11)
    b = model.sample(6, generator=torch.Generator().manual_seed(5))
    c = model.sample(6, generator=torch.Generator().manual_seed(6))
    expect_close(b, a.detach(), "sample(6, generator seeded 5), twice", atol=1e-6,
                 hint="Draw z with the given generator (torch.randn(..., generator=generator)), so equal seeds give "
                      "equal samples.")
    expect(not torch.allclose(a, c), "sample() with generators seeded 5 and 6 returned the same samples")


def test_training_on_binarized_digits(impl):
    pixels, _ = digits()
    data = torch.tensor(pixels >= 8, dtype=torch.float32)  # (1797, 64) binary 8×8 digits
    p = data.mean(0).clamp(1e-3, 1 - 1e-3)
    mean_bce = F.binary_cross_entropy(p.expand_as(data), data, reduction="none").sum(1).mean().item()  # ≈ 25.1 nats

    torch.manual_seed(0)
    model = impl.VAE(64, 8)  # default hidden=128
    opt = Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    steps, bound = 500, 21.0  # a correct VAE gets below 21 nats in ~150 steps (about 18.5 by step 500)

    def evaluate():  # negative ELBO terms on all the data, averaged over 4 draws of the noise
        with torch.no_grad():
            runs = [neg_elbo_terms(data, *model(data)) for _ in range(4)]
        return (torch.stack([r for r, _ in runs]).mean().item(), torch.stack([k for _, k in runs]).mean().item())

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is fastest, and fair on a busy machine
    try:
        for step in range(1, steps + 1):
            x = data[torch.randint(0, len(data), (128,), generator=g)]
            batch_recon, batch_kl = neg_elbo_terms(x, *call_forward(model, x, "VAE.forward(x)"))
            loss = (batch_recon + batch_kl).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 50 == 0 or step == steps:  # stop as soon as both checks below would pass
                recon, kl = evaluate()
                if recon + kl < bound and recon < 0.8 * mean_bce:
                    break
    finally:
        torch.set_num_threads(threads)
    expect(recon + kl < bound,
           f"after {step} Adam steps (lr 3e-3, batch 128) on binarized 8×8 digits the negative ELBO is "
           f"{recon + kl:.2f} nats (reconstruction {recon:.2f} + KL {kl:.2f}); a correct VAE gets below {bound} "
           f"(predicting every pixel's mean costs {mean_bce:.2f}). Check that forward feeds z = μ + σ·ε from the "
           "encoder into the decoder and returns the decoder's logits.")
    expect(recon < 0.8 * mean_bce,
           f"reconstructions cost {recon:.2f} nats per image, no better than predicting each pixel's mean "
           f"({mean_bce:.2f}): the decoder's output does not depend on the input. The z that forward decodes must "
           "come from the encoder's μ and σ.")
