"""Figures drawn at build time from the reference implementations.

Each figure is a small function that calls the code in solutions/ and returns
a matplotlib figure; it is attached to one question with a caption in both
languages. Figures are cached under .cache/figures/ by a hash of this file and
of solutions/, so a figure that no longer matches its code is redrawn, never
stale. Labels inside figures are English or math only (no CJK font needed);
the captions carry both languages.
"""
from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genprep.bank import layout
from genprep.bank.model import Text


@dataclass(frozen=True)
class Figure:
    name: str
    question: str
    caption: Text
    draw: Callable[[], Any]  # returns a matplotlib Figure


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"figure.dpi": 100, "font.size": 9, "axes.grid": True, "grid.alpha": 0.3,
                         "svg.hashsalt": "genprep"})
    return plt


def _seed(seed: int = 0):
    import torch
    torch.manual_seed(seed)
    return torch


def draw_sinusoidal():
    plt = _plt()
    from solutions.attention import sinusoidal_positional_encoding
    pe = sinusoidal_positional_encoding(64, 32)
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    im = a.imshow(pe.numpy(), aspect="auto", cmap="RdBu", vmin=-1, vmax=1)
    a.set(xlabel="dimension", ylabel="position", title="PE[p, i]"), a.grid(False)
    fig.colorbar(im, ax=a)
    for i in (0, 4, 10, 20):
        b.plot(pe[:, i].numpy(), label=f"dim {i}")
    b.set(xlabel="position", title="low dims oscillate fast, high dims slowly"), b.legend(fontsize=7)
    fig.tight_layout()
    return fig


def draw_rotary():
    plt = _plt()
    torch = _seed(0)
    from solutions.attention import apply_rotary
    d, n = 32, 64
    q = torch.randn(d)
    k = torch.randn(d)
    pos = torch.arange(n)
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    for m in (0, 10, 30):
        qm = apply_rotary(q.expand(n, d).clone(), torch.full((n,), m))
        kn = apply_rotary(k.expand(n, d).clone(), pos)
        a.plot((pos - m).numpy(), (qm * kn).sum(-1).numpy(), label=f"query at m={m}")
    a.set(xlabel="n - m (relative position)", ylabel="<R(q,m), R(k,n)>", title="score depends only on n - m")
    a.legend(fontsize=7)
    same = apply_rotary(torch.ones(n, d), pos)
    b.plot(same.norm(dim=-1).numpy())
    b.set(xlabel="position", ylabel="norm", title="rotation preserves the norm", ylim=(0, same.norm(dim=-1).max() * 1.2))
    fig.tight_layout()
    return fig


def draw_causal_attention():
    plt = _plt()
    torch = _seed(1)
    from solutions.attention import causal_mask, scaled_dot_product_attention
    q, k, v = torch.randn(8, 16), torch.randn(8, 16), torch.randn(8, 4)
    _, full = scaled_dot_product_attention(q, k, v)
    _, causal = scaled_dot_product_attention(q, k, v, causal_mask(8))
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
    for ax, w, title in ((axes[0], full, "no mask"), (axes[1], causal, "causal mask")):
        im = ax.imshow(w.numpy(), cmap="viridis", vmin=0, vmax=float(causal.max()))
        ax.set(xlabel="key position", ylabel="query position", title=title), ax.grid(False)
    fig.colorbar(im, ax=axes)
    return fig


def draw_generator_gradients():
    plt = _plt()
    torch = _seed(0)
    from solutions.gan import generator_loss
    logits = torch.linspace(-8, 4, 200, requires_grad=True)
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for ns, label in ((False, "minimax: log(1 - D(G(z)))"), (True, "non-saturating: -log D(G(z))")):
        grads = []
        for l in logits.detach():
            x = l.clone().requires_grad_(True)
            generator_loss(x.reshape(1), non_saturating=ns).backward()
            grads.append(abs(x.grad.item()))
        ax.plot(torch.sigmoid(logits.detach()).numpy(), grads, label=label)
    ax.set(xscale="log", xlabel="D(G(z))", ylabel="|d loss / d logit|",
           title="early in training D(G(z)) is near 0: only the non-saturating loss has a gradient")
    ax.title.set_fontsize(8), ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def draw_optimal_discriminator():
    plt = _plt()
    torch = _seed(0)
    from solutions.gan import optimal_discriminator
    x = torch.linspace(-5, 7, 400)

    def normal(m, s):
        return torch.exp(-0.5 * ((x - m) / s) ** 2) / (s * (2 * torch.pi) ** 0.5)

    p_data, p_g = normal(0.0, 1.0), normal(2.0, 1.5)
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(x, p_data, label="p_data"), ax.plot(x, p_g, label="p_g")
    ax.plot(x, optimal_discriminator(p_data, p_g), "k--", label="D*(x) = p_data / (p_data + p_g)")
    ax.axhline(0.5, color="gray", lw=0.8)
    ax.set(xlabel="x", ylim=(0, 1.05)), ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def draw_gan_1d():
    plt = _plt()
    torch = _seed(0)
    from torch import nn

    from solutions.gan import train_step
    G = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1))
    D = nn.Sequential(nn.Linear(1, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
    z_test = torch.randn(2000, 1)
    before = G(z_test).detach().squeeze()
    for _ in range(1500):
        real = 3.0 + 0.5 * torch.randn(128, 1)
        train_step(G, D, opt_g, opt_d, real, torch.randn(128, 1))
    after = G(z_test).detach().squeeze()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    bins = torch.linspace(-2, 6, 60).numpy()
    ax.hist((3.0 + 0.5 * torch.randn(2000)).numpy(), bins, alpha=0.4, density=True, label="data N(3, 0.5²)")
    ax.hist(before.numpy(), bins, alpha=0.4, density=True, label="G(z) before training")
    ax.hist(after.numpy(), bins, alpha=0.4, density=True, label="G(z) after 1500 steps")
    ax.set(xlabel="x"), ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def draw_kl_surface():
    plt = _plt()
    torch = _seed(0)
    from solutions.losses import kl_normal
    mu = torch.linspace(-3, 3, 121)
    sigma = torch.linspace(0.05, 3, 120)
    M, S = torch.meshgrid(mu, sigma, indexing="xy")
    kl = kl_normal(M.unsqueeze(-1), (2 * S.log()).unsqueeze(-1))
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.4))
    cs = a.contourf(mu.numpy(), sigma.numpy(), kl.numpy(), levels=[0, 0.1, 0.25, 0.5, 1, 2, 3, 5], cmap="magma_r")
    a.set(xlabel="mu", ylabel="sigma", title="KL(N(mu, sigma²) || N(0, 1))"), a.grid(False)
    fig.colorbar(cs, ax=a)
    one = torch.zeros(1, 1)
    b.plot(sigma.numpy(), kl_normal(one.expand(len(sigma), 1), (2 * sigma.log()).unsqueeze(-1)).numpy())
    b.set(xlabel="sigma (mu = 0)", ylabel="KL", title="minimum 0 at sigma = 1; grows fast as sigma -> 0")
    b.title.set_fontsize(8)
    fig.tight_layout()
    return fig


def _digits():
    import torch

    from genprep.datasets import digits
    pixels, _ = digits()
    x = torch.tensor(pixels, dtype=torch.float32) / 16.0
    return (x > 0.5).float()


def draw_vae_traversal():
    plt = _plt()
    torch = _seed(0)
    from solutions.vae import VAE, vae_loss
    x = _digits()
    model = VAE(64, 2, hidden=96)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(800):
        batch = x[torch.randint(0, len(x), (128,))]
        logits, mu, logvar = model(batch)
        loss = vae_loss(batch, logits, mu, logvar)
        opt.zero_grad(), loss.backward(), opt.step()
    grid = torch.linspace(-2, 2, 9)
    with torch.no_grad():
        z = torch.stack(torch.meshgrid(grid, grid, indexing="xy"), -1).reshape(-1, 2)
        images = torch.sigmoid(model.decode(z)).reshape(9, 9, 8, 8)
    canvas = images.flip(0).permute(0, 2, 1, 3).reshape(72, 72)  # rows from z2 = +2 (top) to -2
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(canvas.numpy(), cmap="gray_r", extent=(-2, 2, -2, 2))
    ax.set(xlabel="z1", ylabel="z2", title="decoder(z) over a grid of the 2-D latent"), ax.grid(False)
    fig.tight_layout()
    return fig


def draw_ddpm():
    plt = _plt()
    torch = _seed(0)
    from solutions.diffusion import linear_beta_schedule, q_sample
    T = 1000
    betas = linear_beta_schedule(T)
    abar = torch.cumprod(1 - betas, 0)
    x0 = _digits()[0].reshape(1, 8, 8) * 2 - 1
    steps = [0, 50, 150, 300, 600, 999]
    noise = torch.randn(1, 8, 8)
    fig = plt.figure(figsize=(9, 3.4))
    ax = fig.add_subplot(1, 2, 1)
    ax.plot(abar.numpy(), label="alpha_bar_t (signal)"), ax.plot((1 - abar).numpy(), label="1 - alpha_bar_t (noise)")
    ax.set(xlabel="t", title="linear beta schedule, T = 1000"), ax.legend(fontsize=8)
    for i, t in enumerate(steps):
        a = fig.add_subplot(2, 2 * len(steps) // 2, len(steps) // 2 + 1 + i + (i // 3) * (len(steps) // 2))
        xt = q_sample(x0, torch.tensor([t]), noise, abar)
        a.imshow(xt[0].numpy(), cmap="gray_r", vmin=-2.5, vmax=2.5)
        a.set_xticks([]), a.set_yticks([]), a.set_title(f"t={t}", fontsize=7)
    fig.tight_layout()
    return fig


def draw_top_k_top_p():
    plt = _plt()
    torch = _seed(3)
    from solutions.decoding import filter_logits
    logits = torch.randn(1, 20) * 1.5
    order = logits[0].argsort(descending=True)
    probs = torch.softmax(logits, -1)[0][order]
    fig, axes = plt.subplots(1, 3, figsize=(10, 3), sharey=True)
    for ax, (title, kw) in zip(axes, (("full softmax", {}), ("top-k, k = 5", {"top_k": 5}),
                                      ("top-p, p = 0.8", {"top_p": 0.8}))):
        kept = torch.softmax(filter_logits(logits, **kw), -1)[0][order]
        ax.bar(range(20), probs.numpy(), color="lightgray", label="original")
        ax.bar(range(20), kept.numpy(), color="tab:blue", alpha=0.8, label="after filtering")
        ax.set(title=title, xlabel="tokens by probability")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def draw_attention_masks():
    plt = _plt()
    torch = _seed(0)
    from solutions.data import document_causal_mask
    from solutions.llm import sliding_window_mask
    n = 12
    docs = torch.tensor([7] * 5 + [3] * 4 + [9] * 3)
    panels = ((torch.ones(n, n).tril().bool(), "causal"), (sliding_window_mask(n, 4), "sliding window, w = 4"),
              (document_causal_mask(docs), "packed documents (5 + 4 + 3 tokens)"))
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.5))
    for ax, (mask, title) in zip(axes, panels):
        ax.imshow(mask.numpy(), cmap="Blues", vmin=0, vmax=1.3)
        ax.set(xlabel="key s", ylabel="query t", title=title), ax.grid(False)
    fig.tight_layout()
    return fig


def draw_moe_routing():
    plt = _plt()
    torch = _seed(0)
    from solutions.llm import load_balancing_loss, top_k_routing
    n, e, k = 4096, 8, 2
    base = torch.randn(n, e)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.3), sharey=True)
    for ax, skew, title in ((axes[0], 0.0, "balanced router"), (axes[1], 2.0, "router favouring experts 0-1")):
        logits = base + skew * torch.tensor([1.0, 0.8] + [0.0] * (e - 2))
        _, experts = top_k_routing(logits, k)
        f = torch.bincount(experts.reshape(-1), minlength=e).float() / (n * k)  # share of assignments
        prob = logits.softmax(-1).mean(0)  # mean router probability
        loss = float(load_balancing_loss(logits, experts, e))
        xs = torch.arange(e).float()
        ax.bar((xs - 0.2).numpy(), f.numpy(), width=0.4, label="f_e: share of the N·k assignments")
        ax.bar((xs + 0.2).numpy(), prob.numpy(), width=0.4, label="P_e: mean router probability")
        ax.axhline(1 / e, color="k", lw=0.8, ls="--")
        ax.set(xlabel="expert e", title=f"{title}: loss = E·Σ f_e·P_e = {loss:.2f}")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def draw_speculative_acceptance():
    plt = _plt()
    torch = _seed(0)
    from solutions.inference import speculative_step
    p = torch.tensor([0.30, 0.25, 0.15, 0.10, 0.08, 0.06, 0.04, 0.02])  # target
    q = torch.tensor([0.10, 0.40, 0.20, 0.05, 0.10, 0.05, 0.05, 0.05])  # draft
    xs = torch.arange(8).float()
    runs, counts = 4000, torch.zeros(8)
    draws = torch.multinomial(q, runs, replacement=True)
    for x, u in zip(draws, torch.rand(runs)):
        n_acc, residual = speculative_step(q[None], torch.stack([p, p]), x[None], u[None])
        counts[int(x) if n_acc == 1 else int(torch.multinomial(residual, 1))] += 1
    fig, (a, b) = plt.subplots(1, 2, figsize=(9.5, 3.3))
    a.bar((xs - 0.2).numpy(), p.numpy(), width=0.4, label="target p")
    a.bar((xs + 0.2).numpy(), q.numpy(), width=0.4, label="draft q")
    a.step(xs.numpy(), torch.minimum(p, q).numpy(), where="mid", color="k", lw=1, label="min(p, q): accepted")
    a.set(xlabel="token", title=f"acceptance rate = Σ min(p, q) = {float(torch.minimum(p, q).sum()):.2f}")
    a.legend(fontsize=7)
    b.bar((xs - 0.2).numpy(), p.numpy(), width=0.4, label="target p")
    b.bar((xs + 0.2).numpy(), (counts / runs).numpy(), width=0.4, label=f"first emitted token, {runs} runs")
    b.set(xlabel="token", title="accept-or-resample reproduces p exactly"), b.legend(fontsize=7)
    fig.tight_layout()
    return fig


def draw_quantization_error():
    plt = _plt()
    torch = _seed(0)
    from solutions.quantization import dequantize, dequantize_groupwise, quantize_absmax, quantize_groupwise
    w = torch.randn(64, 256) * 0.02
    w[3, 17], w[40, 200] = 0.8, -0.6  # two outlier weights, as LLM weight matrices have
    per_tensor = dequantize(*quantize_absmax(w.reshape(1, -1))).reshape(w.shape)
    per_row = dequantize(*quantize_absmax(w, dim=-1))
    schemes = {"int8 per tensor": per_tensor, "int8 per row": per_row}
    for g in (128, 32):
        q, scale, zero = quantize_groupwise(w, g, bits=4)
        schemes[f"int4 groups of {g}"] = dequantize_groupwise(q, scale, zero, g)
    errors = {name: (deq - w).abs() for name, deq in schemes.items()}
    fig, (a, b) = plt.subplots(1, 2, figsize=(9.5, 3.3))
    a.bar(range(len(errors)), [float(e.mean()) for e in errors.values()], color="tab:orange")
    a.set_xticks(range(len(errors)), list(errors), rotation=15, fontsize=7)
    a.set(ylabel="mean |w - dequantized w|", title="one outlier inflates the scale of its whole group")
    for name in ("int8 per tensor", "int8 per row"):
        b.plot(errors[name].mean(-1).numpy(), lw=1, marker=".", label=name)
    b.set(xlabel="row (outliers in rows 3 and 40)", ylabel="mean |error| of the row", yscale="log",
          title="per-row scales keep the damage in the outliers' rows"), b.legend(fontsize=7)
    fig.tight_layout()
    return fig


def draw_noise_schedules():
    plt = _plt()
    torch = _seed(0)
    from solutions.diffusion import cosine_alphas_cumprod, linear_beta_schedule, rescale_zero_terminal_snr
    T = 1000
    linear = linear_beta_schedule(T)
    schedules = {"linear (DDPM)": torch.cumprod(1 - linear, 0), "cosine": cosine_alphas_cumprod(T),
                 "linear, zero terminal SNR": torch.cumprod(1 - rescale_zero_terminal_snr(linear), 0)}
    t = torch.arange(1, T + 1)
    fig, (a, b) = plt.subplots(1, 2, figsize=(9.5, 3.3))
    for name, abar in schedules.items():
        a.plot(t.numpy(), abar.numpy(), label=name)
        snr = abar / (1 - abar)
        b.plot(t.numpy(), snr.clamp_min(1e-12).log().numpy(), label=name)
    a.set(xlabel="t", ylabel="alpha_bar_t", title="signal kept at step t"), a.legend(fontsize=7)
    b.set(xlabel="t", ylabel="log SNR", title="linear ends at SNR > 0; the rescaled one at 0 (log = -inf)")
    fig.tight_layout()
    return fig


def draw_flow_paths():
    plt = _plt()
    torch = _seed(0)
    from solutions.flows import euler_sample
    mu, s, n, steps = 2.0, 0.5, 24, 40  # from N(0, 1) noise to N(mu, s²) data
    x0, x1 = torch.randn(n), mu + s * torch.randn(n)
    ts = torch.linspace(0, 1, steps + 1)

    def velocity(x, t):  # the marginal velocity field of the straight path between the two Gaussians
        sd = ((1 - t) ** 2 + (t * s) ** 2).sqrt()
        return mu + (x - t * mu) * (t * s * s - (1 - t)) / sd**2

    def up_to(k):  # x at t = k/steps: k Euler steps of dx/dτ = t_k·v(x, τ·t_k), τ from 0 to 1
        t_k = k / steps
        return euler_sample(lambda x, tau: t_k * velocity(x, tau * t_k), x0, k) if k else x0

    fig, (a, b) = plt.subplots(1, 2, figsize=(9.5, 3.3), sharey=True)
    for i in range(n):
        a.plot(ts.numpy(), ((1 - ts) * x0[i] + ts * x1[i]).numpy(), lw=0.7)
    a.set(xlabel="t", ylabel="x", title="training pairs: straight lines that cross")
    path = torch.stack([up_to(k) for k in range(steps + 1)])
    b.plot(ts.numpy(), path.numpy(), lw=0.7)
    b.set(xlabel="t", title="Euler on the marginal field: no crossings")
    b.text(0.98, 0.04, f"at t = 1: mean {float(path[-1].mean()):.2f}, sd {float(path[-1].std()):.2f}",
           transform=b.transAxes, ha="right", fontsize=8)
    fig.tight_layout()
    return fig


def T(zh: str, en: str) -> Text:
    return Text(zh, en)


FIGURES: tuple[Figure, ...] = (
    Figure("sinusoidal-pe", "sinusoidal-positional-encoding", T(
        "正弦位置编码：左图是 64 个位置 × 32 维的编码矩阵；右图是几个维度随位置的变化——低维振荡快，高维振荡慢。",
        "Sinusoidal positional encoding: the 64-position × 32-dimension matrix (left), and a few dimensions along the "
        "positions (right) — low dimensions oscillate fast, high ones slowly."), draw_sinusoidal),
    Figure("rotary", "rotary-embedding", T(
        "旋转位置编码（RoPE）：同一对 q、k 放在不同的绝对位置，内积只取决于相对位置 n − m（三条曲线重合）；旋转不改变向量的范数。",
        "Rotary embedding (RoPE): the same q and k at different absolute positions give a score that depends only on "
        "n − m (the three curves coincide); rotation preserves the norm."), draw_rotary),
    Figure("causal-attention", "causal-mask", T(
        "注意力权重：不加掩码时每个查询能看到所有位置；加因果掩码后右上三角恰好为 0，每一行仍然和为 1。",
        "Attention weights: without a mask every query sees every position; with the causal mask the upper triangle "
        "is exactly 0 and each row still sums to 1."), draw_causal_attention),
    Figure("generator-gradients", "gan-non-saturating-loss", T(
        "生成器损失对判别器 logit 的梯度：当 D(G(z)) → 0（训练初期）时，极小极大形式的梯度消失，非饱和形式的梯度依然很大。",
        "Gradient of the generator loss with respect to the discriminator's logit: as D(G(z)) → 0 (early training) the "
        "minimax loss's gradient vanishes while the non-saturating one stays large."), draw_generator_gradients),
    Figure("optimal-discriminator", "optimal-discriminator-jsd", T(
        "两个一维分布下的最优判别器 D*(x) = p_data/(p_data + p_g)：在两者相等处取 1/2。",
        "The optimal discriminator D*(x) = p_data/(p_data + p_g) for two 1-D densities: it equals 1/2 where they "
        "cross."), draw_optimal_discriminator),
    Figure("gan-1d", "gan-train-step", T(
        "一维 GAN：用参考实现的 train_step 训练前后生成样本的分布，目标是 N(3, 0.5²)。",
        "A 1-D GAN: samples of the generator before and after training with the reference train_step; the target "
        "is N(3, 0.5²)."), draw_gan_1d),
    Figure("kl-surface", "kl-normal", T(
        "KL(N(μ, σ²) ‖ N(0, 1)) 随 μ 和 σ 的变化：在 μ = 0、σ = 1 处为 0；σ → 0 时增长很快。",
        "KL(N(μ, σ²) ‖ N(0, 1)) as a function of μ and σ: zero at μ = 0, σ = 1, and growing fast as σ → 0."),
        draw_kl_surface),
    Figure("vae-traversal", "vae-model", T(
        "在 8×8 手写数字上训练的二维隐空间 VAE：把网格上的 z 送进解码器（不是编码器）得到的图像。",
        "A VAE with a 2-D latent trained on 8×8 digits: images from feeding a grid of z values to the decoder (not "
        "the encoder)."), draw_vae_traversal),
    Figure("ddpm-forward", "ddpm-forward", T(
        "DDPM 线性噪声调度下的 ᾱ_t，以及同一张数字图像在不同 t 的加噪结果 x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε。",
        "ᾱ_t under DDPM's linear schedule, and one digit noised at several t: x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε."),
        draw_ddpm),
    Figure("top-k-top-p", "sample-next-token", T(
        "同一个分布经过 top-k 和 top-p 过滤后保留下来的词元（重新归一化后的概率）。",
        "One distribution after top-k and after top-p filtering: the tokens that remain, renormalized."),
        draw_top_k_top_p),
    Figure("attention-masks", "sliding-window-mask", T(
        "三种注意力掩码（深色 = 允许注意）：因果掩码；窗口为 4 的滑动窗口，每个查询只看最近 4 个位置；"
        "把三篇文档打包进一条序列时的文档内因果掩码，块对角，文档之间互不可见。",
        "Three attention masks (dark = may attend): causal; a sliding window of 4, each query sees its last 4 positions; "
        "three documents packed into one sequence, a block-diagonal causal mask with no attention across documents."),
        draw_attention_masks),
    Figure("moe-routing", "moe-top-k-routing", T(
        "top-2 路由下每个专家分到的份额 f_e 与平均路由概率 P_e（8 个专家，"
        "虚线为均匀的 1/8）。均衡时负载均衡损失约为 1；路由偏向某几个专家时 f 和 P 同时偏斜，损失变大。",
        "Top-2 routing over 8 experts: each expert's share of assignments f_e and mean router probability P_e (dashed: the "
        "uniform 1/8). Balanced, the load-balancing loss is about 1; when the router favours some experts, f and P skew "
        "together and the loss grows."), draw_moe_routing),
    Figure("speculative-acceptance", "speculative-decoding", T(
        "推测解码的一步：草稿分布 q 与目标分布 p 重叠的部分 min(p, q) 就是接受的概率；"
        "被拒绝时从 max(0, p − q) 归一化后重采样，于是第一个输出词元的分布恰好是 p（右图为用参考实现模拟的频率）。",
        "One step of speculative decoding: the overlap min(p, q) of the draft q and the target p is the acceptance "
        "probability; on rejection the token is resampled from max(0, p − q) normalized, so the first emitted token "
        "follows p exactly (right: frequencies simulated with the reference)."), draw_speculative_acceptance),
    Figure("quantization-error", "groupwise-quantization", T(
        "含两个离群值的权重矩阵在不同量化粒度下的重建误差：逐张量 INT8 的尺度被离群值撑大，"
        "所有权重都变粗；逐行只影响离群值所在的行；4 位分组量化的组越小，受影响的权重越少。",
        "Reconstruction error of a weight matrix with two outliers under different granularities: per-tensor INT8 lets the "
        "outliers set one coarse scale for every weight; per-row confines the damage to their rows; with 4-bit groups, "
        "smaller groups confine it further."), draw_quantization_error),
    Figure("noise-schedules", "noise-schedules", T(
        "三种噪声调度下的 ᾱ_t 与 log SNR：线性调度在中段掉得快；余弦调度更平缓；重缩放到零终端信噪比后，"
        "最后一步的 ᾱ_T 恰好为 0（log SNR 趋于 −∞），模型在训练中见过纯噪声。",
        "ᾱ_t and log SNR under three schedules: the linear schedule drops fast in the middle; the cosine one is gentler; "
        "rescaled to zero terminal SNR, ᾱ_T is exactly 0 (log SNR → −∞), so training sees pure noise."),
        draw_noise_schedules),
    Figure("flow-paths", "flow-matching", T(
        "流匹配：左图是训练时随机配对的噪声与数据之间的直线路径，彼此交叉；"
        "右图按这些路径的边缘速度场做欧拉积分（参考实现的 euler_sample），轨迹不再交叉，终点服从目标分布 N(2, 0.5²)。",
        "Flow matching: the straight paths between randomly paired noise and data used in training cross each other "
        "(left); integrating the marginal velocity field they define with the reference euler_sample gives trajectories "
        "that never cross and end in the target N(2, 0.5²) (right)."), draw_flow_paths),
)


def fingerprint(root: Path) -> str:
    """Hash of everything a figure depends on: this file and the reference code."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    for path in sorted((root / "solutions").glob("*.py")):
        h.update(path.name.encode() + path.read_bytes())
    try:
        import matplotlib
        h.update(matplotlib.__version__.encode())
    except ImportError:
        pass
    return h.hexdigest()[:16]


def planned(root: Path, questions: set[str], cache: Path | None = None) -> dict[str, list[tuple[Figure, Path]]]:
    """Where `render` puts (or finds) every figure whose question exists, without drawing anything:
    {question id: [(figure, png path)]}. The site links to these paths while another process draws the
    missing ones (`python -m genprep.site.figures ROOT`)."""
    cache = cache or root / ".cache" / "figures"
    key = fingerprint(root)
    out: dict[str, list[tuple[Figure, Path]]] = {}
    for fig in FIGURES:
        if fig.question in questions:
            out.setdefault(fig.question, []).append((fig, cache / f"{fig.name}-{key}.png"))
    return out


def render(root: Path, questions: set[str], cache: Path | None = None) -> dict[str, list[tuple[Figure, Path]]]:
    """Draw (or reuse) every figure whose question exists; {question id: [(figure, png path)]}."""
    cache = cache or root / ".cache" / "figures"
    key = fingerprint(root)
    out: dict[str, list[tuple[Figure, Path]]] = {}
    wanted = [f for f in FIGURES if f.question in questions]
    if not wanted:
        return out
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise SystemExit(f"genprep: the site's figures need matplotlib: {layout.install_hint('site')}") from exc
    import sys
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    for fig in wanted:
        path = cache / f"{fig.name}-{key}.png"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            for stale in path.parent.glob(f"{fig.name}-*.png"):
                stale.unlink()
            drawn = fig.draw()
            buf = io.BytesIO()
            drawn.savefig(buf, format="png", metadata={"Software": None})
            _plt().close(drawn)
            path.write_bytes(buf.getvalue())
        out.setdefault(fig.question, []).append((fig, path))
    return out


if __name__ == "__main__":  # python -m genprep.site.figures ROOT QUESTION...: draw what is missing (the site build)
    import sys
    render(Path(sys.argv[1]).resolve(), set(sys.argv[2:]))
