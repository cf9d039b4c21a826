"""vae-model: an MLP VAE — encode / reparameterize / decode, sampling from the prior through the decoder,
and a short training run on binarized 8×8 digits."""
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from genprep.datasets import digits
from genprep.learner.checks import expect, expect_close, expect_tensor, say
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
           say(en=f"{what} should return a tuple (x_logits, mu, logvar), got {type(out).__name__}",
               zh=f"{what} 应返回元组 (x_logits, mu, logvar)，实际得到 {type(out).__name__}"))
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
    expect(isinstance(enc, tuple) and len(enc) == 2, say(en="encode(x) should return a tuple (mu, logvar)",
                                                         zh="encode(x) 应返回元组 (mu, logvar)"))
    expect_tensor(enc[0], "encode(x (5, 12))[0] (mu)", shape=(5, 3), dtype=torch.float32)
    expect_tensor(enc[1], "encode(x (5, 12))[1] (logvar)", shape=(5, 3), dtype=torch.float32)
    expect_tensor(model.decode(torch.randn(7, 3)), "decode(z (7, 3))", shape=(7, 12), dtype=torch.float32)
    x_logits, mu, logvar = call_forward(model, x, "VAE.forward(x)")
    expect_tensor(x_logits, "forward(x (5, 12))[0] (x_logits)", shape=(5, 12), dtype=torch.float32)
    expect_tensor(mu, "forward(x (5, 12))[1] (mu)", shape=(5, 3), dtype=torch.float32)
    expect_tensor(logvar, "forward(x (5, 12))[2] (logvar)", shape=(5, 3), dtype=torch.float32)
    s = model.sample(9)
    expect_tensor(s, "sample(9)", shape=(9, 12), dtype=torch.float32)
    expect(bool(((s >= 0) & (s <= 1)).all()),
           say(en=f"sample(9) must return probabilities in [0, 1]; its range is [{s.min().item():.3g}, "
                  f"{s.max().item():.3g}] — apply a sigmoid to the decoder's logits.",
               zh=f"sample(9) 必须返回 [0, 1] 内的概率；实际范围是 [{s.min().item():.3g}, {s.max().item():.3g}]"
                  "——要对解码器的 logits 做 sigmoid。"))
    expect(sum(p.numel() for p in model.parameters()) > 0,
           say(en="VAE has no parameters; register its layers in __init__", zh="VAE 没有参数；要在 __init__ 里注册它的各层"))


def test_forward_uses_the_reparameterization_trick(impl):
    torch.manual_seed(1)
    model = impl.VAE(12, 3, hidden=16)
    x = (torch.rand(512, 12) > 0.5).float()
    spy = Spy(model.decode)
    model.decode = spy
    x_logits, mu, logvar = call_forward(model, x, "VAE.forward(x)")
    expect(len(spy.inputs) == 1,
           say(en=f"forward(x) called self.decode {len(spy.inputs)} times; it must decode the sampled z exactly once "
                  "and return (self.decode(z), mu, logvar).",
               zh=f"forward(x) 调用了 self.decode {len(spy.inputs)} 次；它必须对采样得到的 z 恰好解码一次，"
                  "并返回 (self.decode(z), mu, logvar)。"))
    z, = spy.inputs[0]
    expect_tensor(z, say(en="the z that forward passes to decode", zh="forward 传给 decode 的 z"), shape=(512, 3),
                  dtype=torch.float32)
    expect_close(x_logits, spy.outputs[0].detach(), say(en="forward's x_logits vs decode(z)",
                                                        zh="forward 返回的 x_logits 与 decode(z) 的对比"), atol=1e-6,
                 hint=say(en="forward must return the decoder's logits for the sampled z (no sigmoid).",
                          zh="forward 必须返回解码器对采样 z 输出的 logits（不做 sigmoid）。"),
                 likely=((torch.sigmoid(spy.outputs[0].detach()),
                          say(en="a sigmoid is applied in forward; return the decoder's logits as they are.",
                              zh="forward 里做了 sigmoid；应原样返回解码器的 logits。")),))
    mu_e, logvar_e = model.encode(x)
    same = say(en="forward returns the encoder's (mu, logvar) for x.", zh="forward 返回编码器对 x 输出的 (mu, logvar)。")
    expect_close(mu, mu_e.detach(), say(en="forward's mu vs encode(x)[0]", zh="forward 返回的 mu 与 encode(x)[0] 的对比"),
                 atol=1e-6, hint=same)
    expect_close(logvar, logvar_e.detach(), say(en="forward's logvar vs encode(x)[1]",
                                                zh="forward 返回的 logvar 与 encode(x)[1] 的对比"), atol=1e-6, hint=same)
    grads = (torch.autograd.grad(z.sum(), [mu, logvar], allow_unused=True, retain_graph=True) if z.requires_grad
             else (None, None))
    expect(grads[0] is not None,
           say(en="the z given to the decoder does not depend on the mu that forward returns, so the reconstruction "
                  "cannot train the encoder. Sample z = mu + exp(0.5·logvar)·ε from the encoder's outputs.",
               zh="传给解码器的 z 不依赖于 forward 返回的 mu，于是重构损失无法训练编码器。"
                  "要用编码器的输出采样 z = mu + exp(0.5·logvar)·ε。"))
    expect(grads[1] is not None,
           say(en="the z given to the decoder does not depend on logvar: forward must add noise scaled by the standard "
                  "deviation, z = mu + exp(0.5·logvar)·ε, not decode mu alone.",
               zh="传给解码器的 z 不依赖于 logvar：forward 必须加上按标准差缩放的噪声，z = mu + exp(0.5·logvar)·ε，"
                  "而不是只解码 mu。"))
    expect_close(grads[0], torch.ones(512, 3), say(en="∂z/∂μ inside forward", zh="forward 内部的 ∂z/∂μ"), atol=1e-6,
                 hint=say(en="z = μ + σ·ε gives ∂z/∂μ = 1.", zh="z = μ + σ·ε 给出 ∂z/∂μ = 1。"))
    expect_close(grads[1], 0.5 * (z - mu).detach(), say(en="∂z/∂logvar inside forward", zh="forward 内部的 ∂z/∂logvar"),
                 atol=1e-5, rtol=1e-4,
                 hint=say(en="z = μ + exp(½·logvar)·ε gives ∂z/∂logvar = ½(z − μ); σ is exp(½·logvar), not exp(logvar).",
                          zh="z = μ + exp(½·logvar)·ε 给出 ∂z/∂logvar = ½(z − μ)；σ 是 exp(½·logvar)，不是 exp(logvar)。"),
                 likely=(((z - mu).detach(),
                          say(en="the noise is scaled by exp(logvar) = σ², the variance; the standard deviation is "
                                 "σ = exp(½·logvar).",
                              zh="噪声按 exp(logvar) = σ²（方差）缩放了；标准差是 σ = exp(½·logvar)。")),))
    eps = ((z - mu) / (0.5 * logvar).exp()).detach()
    expect(abs(eps.mean().item()) < 0.15 and abs(eps.var().item() - 1) < 0.2,
           say(en=f"(z − μ)/σ inside forward has mean {eps.mean().item():.3f} and variance {eps.var().item():.3f} over "
                  "1536 entries; for ε ~ N(0, I) they are ≈ 0 and 1. forward must draw fresh noise (not z = μ).",
               zh=f"forward 内部的 (z − μ)/σ 在 1536 个元素上的均值是 {eps.mean().item():.3f}、方差是 "
                  f"{eps.var().item():.3f}；对 ε ~ N(0, I) 它们应约为 0 和 1。forward 必须抽取新的噪声（不能 z = μ）。"))


def test_sample_uses_the_prior_and_the_decoder_only(impl):
    torch.manual_seed(2)
    model = impl.VAE(10, 4, hidden=16)
    decode = model.decode
    spy, enc_spy = Spy(model.decode), Spy(model.encode)
    model.decode, model.encode = spy, enc_spy
    out = model.sample(4000, generator=torch.Generator().manual_seed(3))
    expect(len(enc_spy.inputs) == 0,
           say(en="sample() called the encoder. Generation needs no input image: draw z ~ N(0, I) and run the DECODER "
                  "only; the encoder maps images to z, not z to images.",
               zh="sample() 调用了编码器。生成不需要输入图像：从 N(0, I) 采样 z，只运行解码器；"
                  "编码器把图像映射到 z，而不是把 z 映射到图像。"))
    expect(len(spy.inputs) == 1,
           say(en=f"sample() called self.decode {len(spy.inputs)} times; expected once, on z ~ N(0, I).",
               zh=f"sample() 调用了 self.decode {len(spy.inputs)} 次；应只调用一次，作用在 z ~ N(0, I) 上。"))
    z, = spy.inputs[0]
    expect_tensor(z, say(en="the z that sample(4000) passes to decode", zh="sample(4000) 传给 decode 的 z"),
                  shape=(4000, 4), dtype=torch.float32)
    m, v = z.mean(0), z.var(0)
    expect(bool((m.abs() < 0.1).all() and ((v - 1).abs() < 0.1).all()),
           say(en=f"the z that sample() decodes has per-dimension means {m.tolist()} and variances {v.tolist()}; "
                  "draw it from the prior N(0, I) (torch.randn(n, z_dim, generator=generator)).",
               zh=f"sample() 解码的 z 各维均值为 {m.tolist()}、方差为 {v.tolist()}；"
                  "要从先验 N(0, I) 中采样（torch.randn(n, z_dim, generator=generator)）。"))
    probs = torch.sigmoid(decode(z)).detach()
    expect_close(out, probs, say(en="sample(4000) vs sigmoid(decode(z))", zh="sample(4000) 与 sigmoid(decode(z)) 的对比"),
                 atol=1e-6,
                 hint=say(en="Return the decoder's Bernoulli probabilities sigmoid(logits) — no further rescaling "
                             "like (p + 1) / 2; they are already in [0, 1].",
                          zh="返回解码器的伯努利概率 sigmoid(logits)——不要再做 (p + 1) / 2 之类的缩放；它们已经在 [0, 1] 内。"),
                 likely=(((probs + 1) / 2,
                          say(en="the probabilities are rescaled by (p + 1) / 2 as if they were in [−1, 1]; sigmoid "
                                 "outputs are already in [0, 1] — return them as they are.",
                              zh="把概率按 (p + 1) / 2 缩放了，好像它们在 [−1, 1] 内；sigmoid 的输出已经在 [0, 1] 内"
                                 "——原样返回即可。")),
                         (decode(z).detach(),
                          say(en="the decoder's logits are returned; apply a sigmoid to get probabilities.",
                              zh="返回的是解码器的 logits；要做 sigmoid 得到概率。"))))


def test_sample_draws_with_the_given_generator(impl):
    model = impl.VAE(10, 4, hidden=16)
    torch.manual_seed(10)
    a = model.sample(6, generator=torch.Generator().manual_seed(5))
    torch.manual_seed(11)
    b = model.sample(6, generator=torch.Generator().manual_seed(5))
    c = model.sample(6, generator=torch.Generator().manual_seed(6))
    expect_close(b, a.detach(), say(en="sample(6, generator seeded 5), twice", zh="两次 sample(6, 种子为 5 的生成器)"),
                 atol=1e-6,
                 hint=say(en="Draw z with the given generator (torch.randn(..., generator=generator)), so equal seeds "
                             "give equal samples.",
                          zh="用给定的生成器采样 z（torch.randn(..., generator=generator)），这样相同的种子得到相同的样本。"))
    expect(not torch.allclose(a, c), say(en="sample() with generators seeded 5 and 6 returned the same samples; draw z "
                                            "with the given generator.",
                                         zh="种子为 5 和 6 的生成器让 sample() 返回了相同的样本；要用给定的生成器采样 z。"))


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
           say(en=f"after {step} Adam steps (lr 3e-3, batch 128) on binarized 8×8 digits the negative ELBO is "
                  f"{recon + kl:.2f} nats (reconstruction {recon:.2f} + KL {kl:.2f}); a correct VAE gets below {bound} "
                  f"(predicting every pixel's mean costs {mean_bce:.2f}). Check that forward feeds z = μ + σ·ε from "
                  "the encoder into the decoder and returns the decoder's logits.",
               zh=f"在二值化的 8×8 数字上用 Adam 训练 {step} 步（lr 3e-3，batch 128）后，负 ELBO 是 {recon + kl:.2f} nats"
                  f"（重构 {recon:.2f} + KL {kl:.2f}）；正确的 VAE 能低于 {bound}（对每个像素都预测其均值的代价是 "
                  f"{mean_bce:.2f}）。检查 forward 是否把来自编码器的 z = μ + σ·ε 送入解码器，并返回解码器的 logits。"))
    expect(recon < 0.8 * mean_bce,
           say(en=f"reconstructions cost {recon:.2f} nats per image, no better than predicting each pixel's mean "
                  f"({mean_bce:.2f}): the decoder's output does not depend on the input. The z that forward decodes "
                  "must come from the encoder's μ and σ.",
               zh=f"每张图像的重构代价是 {recon:.2f} nats，并不比对每个像素预测其均值（{mean_bce:.2f}）更好："
                  "解码器的输出与输入无关。forward 解码的 z 必须来自编码器的 μ 和 σ。"))
