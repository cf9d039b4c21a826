r"""Post-training weight quantization: symmetric int8 absmax and asymmetric group-wise.

A quantizer stores a float tensor as small integers plus a few float scale
factors, and dequantizes on the fly. **Absmax (symmetric) int8** maps each
slice (a row, say) so that its largest magnitude lands on ±127:

$$s = \frac{\max_j |x_j|}{127},\qquad q_j = \mathrm{clamp}\big(\mathrm{round}(x_j / s), -127, 127\big),
\qquad \hat x_j = q_j\, s,$$

with round-to-nearest (ties to even), so $|\hat x_j - x_j| \le s/2$. One
scale per row rather than per tensor ("vector-wise" quantization) keeps a
single large row from wasting the resolution of all others; LLM.int8() goes
further and keeps the rare outlier feature dimensions in 16 bit (Dettmers et
al., *LLM.int8(): 8-bit Matrix Multiplication for Transformers at Scale*,
arXiv:2208.07339).

**Group-wise asymmetric (min–max)** quantization, used for 4-bit weights by
GPTQ and AWQ, gives every group of `group_size` consecutive input columns of
a weight matrix its own scale and zero point:

$$s = \frac{\max - \min}{2^b - 1},\quad z = \mathrm{round}(-\min / s),\quad
q = \mathrm{clamp}\big(\mathrm{round}(w / s) + z,\ 0,\ 2^b - 1\big),\quad \hat w = (q - z)\, s.$$

Frantar et al., *GPTQ: Accurate Post-Training Quantization for Generative
Pre-trained Transformers*, arXiv:2210.17323; Lin et al., *AWQ:
Activation-aware Weight Quantization for LLM Compression and Acceleration*,
arXiv:2306.00978.
"""
from __future__ import annotations

import torch


def quantize_absmax(x: torch.Tensor, dim: int = -1) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric int8 absmax quantization with one scale per slice along `dim`; returns (q, scale).

    scale = max |x| / 127 over `dim`, kept as a size-1 dim (keepdim), float32;
    q = round(x / scale) (round half to even, as torch.round) clamped to
    [-127, 127], dtype int8, x's shape. An all-zero slice gets q = 0 and a
    finite scale (this reference returns 0), so it dequantizes to 0 with no
    NaN. The input is not modified.
    """
    scale = x.abs().amax(dim=dim, keepdim=True).float() / 127.0  # s = max|x| / 127, size-1 along dim
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))  # an all-zero slice would divide 0 by 0
    q = torch.round(x.float() / safe).clamp(-127, 127).to(torch.int8)  # round half to even, then int8
    return q, scale


def dequantize(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Inverse of `quantize_absmax`: q (int8) times scale (broadcast), as float32."""
    return q.float() * scale  # x̂ = q · s


def quantize_groupwise(w: torch.Tensor, group_size: int, bits: int = 4) -> tuple[torch.Tensor, torch.Tensor,
                                                                                   torch.Tensor]:
    """Asymmetric min–max quantization of a weight matrix in groups along its input dim; returns (q, scale, zero).

    w: (out, in) float, `in` divisible by `group_size`. Each row is cut into
    in / group_size groups of `group_size` CONSECUTIVE input columns, and each
    group gets its own
        scale = (max − min) / (2^bits − 1),   zero = round(−min / scale),
        q = clamp(round(w / scale) + zero, 0, 2^bits − 1)
    with round half to even (torch.round). Returns q (out, in) uint8, scale
    (out, in / group_size) float32 and zero (out, in / group_size), integer
    valued (this reference stores it as float32); zero may lie outside
    [0, 2^bits − 1]. A constant group (max = min) would get scale 0; it takes
    a stand-in scale instead (here |value|, or 1 for a group of zeros) so that
    it still dequantizes to its value, with no NaN.
    """
    n_out, n_in = w.shape
    assert n_in % group_size == 0, "the input dim must be divisible by group_size"
    levels = 2 ** bits - 1  # the largest code, 15 for 4 bits
    groups = w.float().reshape(n_out, n_in // group_size, group_size)  # (out, G, group_size), consecutive columns
    w_min, w_max = groups.amin(dim=-1), groups.amax(dim=-1)  # (out, G)
    scale = (w_max - w_min) / levels  # s = (max − min) / (2^b − 1)
    # constant group c: stand-in scale |c| (1 if c = 0) makes c / s = ±1 an integer, so c is stored exactly
    stand_in = torch.where(w_min != 0, w_min.abs(), torch.ones_like(w_min))
    scale = torch.where(scale > 0, scale, stand_in)  # (out, G)
    zero = torch.round(-w_min / scale)  # z = round(−min / s), integer valued, may be outside [0, 2^b − 1]
    q = torch.round(groups / scale.unsqueeze(-1)) + zero.unsqueeze(-1)  # round(w / s) + z
    q = q.clamp(0, levels).reshape(n_out, n_in).to(torch.uint8)  # (out, in)
    return q, scale, zero


def dequantize_groupwise(q: torch.Tensor, scale: torch.Tensor, zero: torch.Tensor, group_size: int) -> torch.Tensor:
    """Inverse of `quantize_groupwise`: (q − zero) · scale per group, as float32 of q's shape (out, in).

    scale and zero have shape (out, in / group_size); group j of a row covers
    the input columns j·group_size … (j + 1)·group_size − 1.
    """
    n_out, n_in = q.shape
    groups = q.float().reshape(n_out, n_in // group_size, group_size)  # (out, G, group_size)
    deq = (groups - zero.float().unsqueeze(-1)) * scale.float().unsqueeze(-1)  # ŵ = (q − z) · s
    return deq.reshape(n_out, n_in)
