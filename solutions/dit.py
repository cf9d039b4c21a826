r"""Diffusion Transformer (DiT) plumbing: the sinusoidal timestep embedding and patchify/unpatchify.

A DiT replaces the U-Net of a (latent) diffusion model with a plain Transformer. Two small pieces connect the
Transformer to the diffusion process. The **timestep embedding** turns the noise level $t$ (an integer step or a
continuous time, one per example) into a vector of sinusoids at geometrically spaced frequencies, which an MLP then
maps to the conditioning vector (added to the class embedding and fed to adaLN):

$$f_i = \exp\!\Big(-\ln(P)\,\frac{i}{h}\Big) = P^{-i/h},\quad i = 0,\dots,h-1,\ h = \lfloor d/2\rfloor,\qquad
e(t) = \big[\cos(t f_0),\dots,\cos(t f_{h-1}),\ \sin(t f_0),\dots,\sin(t f_{h-1})\big]$$

with $P$ = `max_period` (10000), cosines first as in ADM and DiT, and a zero column appended when $d$ is odd. The
periods run from $2\pi$ to nearly $2\pi P$, so both neighbouring steps and the whole range of $t$ are told apart.

**Patchify** cuts a (B, C, H, W) latent into non-overlapping $p\times p$ patches, read in row-major order (left to
right, then top to bottom), and flattens each to a token of $p\cdot p\cdot C$ numbers in $(p, p, C)$ order, channels
last; $N = (H/p)(W/p)$ tokens. **Unpatchify** is its exact inverse: DiT's final layer predicts $p\cdot p\cdot C$
numbers per token (noise, and the variance when it is learned), which are put back into an image. The patch size
sets the compute: halving $p$ quadruples $N$ and roughly quadruples the Gflops.

Papers: Peebles & Xie, *Scalable Diffusion Models with Transformers*, arXiv:2212.09748; the timestep embedding as
in Dhariwal & Nichol, *Diffusion Models Beat GANs on Image Synthesis*, arXiv:2105.05233.
"""
from __future__ import annotations

import math

import torch


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000) -> torch.Tensor:
    r"""Sinusoidal embedding of diffusion timesteps, cosines first (ADM / DiT convention).

    t: (B,) float tensor, one timestep per example; it may be fractional (continuous time in [0, 1]) or an integer
    step such as 0…999. dim: the output size. With half = dim // 2 and frequencies
    f_i = exp(−ln(max_period) · i / half) for i = 0 … half − 1 (so f_0 = 1 and the lowest frequency is
    max_period^(−(half − 1)/half), not 1/max_period):

        emb = [cos(t·f_0), …, cos(t·f_{half−1}), sin(t·f_0), …, sin(t·f_{half−1})]

    (all cosines, then all sines — not interleaved), plus one zero column at the end when dim is odd.
    Returns (B, dim) float32. Deterministic; t is not modified and not rounded.
    """
    half = dim // 2
    i = torch.arange(half, dtype=torch.float32, device=t.device)  # (half,)
    freqs = torch.exp(-math.log(max_period) * i / half)  # f_i = max_period^(−i/half), from 1 down
    args = t.to(torch.float32)[:, None] * freqs[None, :]  # (B, half): t·f_i
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)  # (B, 2·half): cosines first, then sines
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)  # (B, dim): zero column for odd dim
    return emb


def patchify(x: torch.Tensor, p: int) -> torch.Tensor:
    r"""Cut images into non-overlapping p×p patches and flatten each into a token, channels last.

    x: (B, C, H, W) float, H and W divisible by p (H ≠ W allowed). Returns tokens (B, N, p·p·C) in x's dtype with
    N = (H/p)·(W/p). Patches are numbered in row-major order: token n holds the patch in patch-row n // (W/p) and
    patch-column n % (W/p), i.e. the pixels x[:, :, r·p:(r+1)·p, c·p:(c+1)·p]. Inside a token the p·p·C numbers
    are in (p, p, C) order — row within the patch, column within the patch, channel (channels LAST, the order
    DiT's unpatchify expects) — so token[k] with k = (i·p + j)·C + ch is pixel (i, j) of the patch, channel ch.
    Pure data movement: values are copied exactly; x is not modified.
    """
    B, C, H, W = x.shape
    assert H % p == 0 and W % p == 0, "H and W must be divisible by the patch size p"
    h, w = H // p, W // p  # patches per column and per row
    x = x.reshape(B, C, h, p, w, p)  # (B, C, h, p_i, w, p_j): split H into (h, p) and W into (w, p)
    x = x.permute(0, 2, 4, 3, 5, 1)  # (B, h, w, p_i, p_j, C): patch grid first (row-major), channels last
    return x.reshape(B, h * w, p * p * C)  # (B, N, p·p·C)


def unpatchify(tokens: torch.Tensor, p: int, C: int, H: int, W: int) -> torch.Tensor:
    r"""The exact inverse of `patchify`: tokens (B, N, p·p·C) → images (B, C, H, W).

    N must equal (H/p)·(W/p); token n goes to patch-row n // (W/p), patch-column n % (W/p), and its p·p·C numbers
    are read in (p, p, C) order (channels last). H and W are given explicitly, so non-square images work (do not
    infer them from √N). Returns (B, C, H, W) in the tokens' dtype; unpatchify(patchify(x, p), p, C, H, W) == x.
    """
    B, N, D = tokens.shape
    h, w = H // p, W // p
    assert N == h * w and D == p * p * C, "tokens must have shape (B, (H/p)·(W/p), p·p·C)"
    x = tokens.reshape(B, h, w, p, p, C)  # (B, h, w, p_i, p_j, C)
    x = x.permute(0, 5, 1, 3, 2, 4)  # (B, C, h, p_i, w, p_j): as einsum "bhwpqc->bchpwq"
    return x.reshape(B, C, H, W)  # merge (h, p_i) into H and (w, p_j) into W
