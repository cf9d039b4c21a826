r"""Multimodal building blocks: contrastive image–text losses and the ViT patch embedding.

CLIP trains an image encoder and a text encoder so that the $N$ matching pairs of
a batch score higher than the $N^2 - N$ mismatched ones. Both embeddings are
L2-normalized, so a score is a cosine similarity times a scale $s = 1/\tau$:
$\ell_{ij} = s\,\hat x_i^\top \hat y_j$. The loss is a symmetric cross-entropy in
which image $i$ must pick text $i$ among all texts, and text $j$ image $j$:

$$\mathcal L_{\text{CLIP}} = \tfrac12\Big(\mathrm{CE}(\ell, \text{arange}\,N) + \mathrm{CE}(\ell^\top, \text{arange}\,N)\Big).$$

SigLIP replaces the two softmaxes by an independent binary decision for every
one of the $N^2$ pairs, with label $z_{ij} = +1$ on the diagonal and $-1$ off it,
a learnable scale $t$ and bias $b$:

$$\mathcal L_{\text{SigLIP}} = -\frac1N \sum_{i=1}^N \sum_{j=1}^N \log \sigma\big(z_{ij}\,(t\,\hat x_i^\top \hat y_j + b)\big).$$

No normalization over the batch is needed, so each pair's term can be computed
wherever its two embeddings are.

The image side of these models is usually a Vision Transformer, whose first
layer turns an image into tokens: cut it into $N = (H/P)(W/P)$ non-overlapping
$P\times P$ patches, map each flattened patch linearly to $d$ features (one
convolution with kernel and stride $P$), prepend a learnable class token and add
learnable position embeddings: $z_0 = [x_{\text{cls}};\, x_p^1 E; \dots;\, x_p^N E] + E_{\text{pos}}$.

Papers: Radford et al., *Learning Transferable Visual Models From Natural
Language Supervision* (CLIP), arXiv:2103.00020; Zhai et al., *Sigmoid Loss for
Language Image Pre-Training* (SigLIP), arXiv:2303.15343; Dosovitskiy et al., *An Image
is Worth 16x16 Words: Transformers for Image Recognition at Scale* (ViT), arXiv:2010.11929.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------
# CLIP: symmetric softmax cross-entropy over the batch's similarity matrix
# ---------------------------------------------------------------------------


def clip_loss(image_emb: torch.Tensor, text_emb: torch.Tensor, logit_scale: float | torch.Tensor) -> torch.Tensor:
    r"""CLIP's symmetric contrastive loss for N matching (image, text) pairs; a 0-dim tensor.

    image_emb, text_emb: (N, D); row i of each describes the same pair. Both are
    L2-normalized along D first (so the raw norms do not matter). `logit_scale`
    is the multiplier itself (s = 1/τ, e.g. 100.0), NOT its logarithm; a Python
    float or a 0-dim tensor.

        logits = logit_scale · image_n @ text_nᵀ          (N, N), logits[i, j] = s·cos(image i, text j)
        loss = ½ (CE(logits, arange N) + CE(logitsᵀ, arange N))

    The first term asks each image to pick its own text among the N texts (rows),
    the second each text to pick its own image (columns). Must stay finite for
    logit_scale up to 100 (CLIP's cap).
    """
    N = image_emb.size(0)
    image_n = F.normalize(image_emb, dim=-1)  # x̂_i = x_i / ‖x_i‖,  (N, D)
    text_n = F.normalize(text_emb, dim=-1)  # ŷ_j = y_j / ‖y_j‖,  (N, D)
    logits = logit_scale * image_n @ text_n.T  # ℓ_ij = s · x̂_iᵀ ŷ_j,  (N, N)
    labels = torch.arange(N, device=logits.device)  # pair i sits on the diagonal
    image_to_text = F.cross_entropy(logits, labels)  # softmax over texts (each row)
    text_to_image = F.cross_entropy(logits.T, labels)  # softmax over images (each column)
    return 0.5 * (image_to_text + text_to_image)


# ---------------------------------------------------------------------------
# SigLIP: an independent sigmoid (binary) loss for every image–text pair
# ---------------------------------------------------------------------------


def siglip_loss(image_emb: torch.Tensor, text_emb: torch.Tensor, t: float | torch.Tensor,
                b: float | torch.Tensor) -> torch.Tensor:
    r"""SigLIP's pairwise sigmoid loss for N matching (image, text) pairs; a 0-dim tensor.

    image_emb, text_emb: (N, D); row i of each describes the same pair. Both are
    L2-normalized along D first. `t` (the scale, used as the multiplier itself)
    and `b` (the bias) are Python floats or 0-dim tensors. With z_ij = +1 if
    i == j else −1:

        logits = t · image_n @ text_nᵀ + b                   (N, N)
        loss = −(1/N) · Σ_i Σ_j log σ(z_ij · logits[i, j])

    Every one of the N² pairs is its own binary decision (no softmax); the sum is
    divided by N (the batch size), not by N². Must stay finite for logits of any
    size (a log of a sigmoid that underflows to 0 is −inf).
    """
    N = image_emb.size(0)
    image_n = F.normalize(image_emb, dim=-1)  # x̂_i,  (N, D)
    text_n = F.normalize(text_emb, dim=-1)  # ŷ_j,  (N, D)
    logits = t * image_n @ text_n.T + b  # t·x̂_iᵀŷ_j + b,  (N, N)
    z = 2 * torch.eye(N, dtype=logits.dtype, device=logits.device) - 1  # +1 on the diagonal, −1 elsewhere
    return -F.logsigmoid(z * logits).sum() / N  # −(1/N) Σ_ij log σ(z_ij · logit_ij), stable for any logit


# ---------------------------------------------------------------------------
# ViT: image -> patch tokens, with a class token and position embeddings
# ---------------------------------------------------------------------------


class PatchEmbed(nn.Module):
    r"""ViT's patch embedding: images (B, C, H, W) -> tokens (B, N + 1, d_model).

    `img_size` is an int (square images, H = W = img_size), divisible by
    `patch_size`; N = (img_size / patch_size)² patches. Submodule and parameters:

    - `proj` = nn.Conv2d(in_chans, d_model, patch_size, stride=patch_size): one
      linear map of each flattened patch (kernel = stride = patch size, no overlap);
    - `cls_token` (1, 1, d_model): the learnable class token;
    - `pos_embed` (1, N + 1, d_model): learnable position embeddings, row 0 for the
      class token.

    forward(x): token 0 is the class token, tokens 1..N are the patches in
    row-major order (patch (r, c) of the grid is token 1 + r·(img_size/patch_size) + c),
    and pos_embed is added to all N + 1 tokens (after prepending the class token).
    """

    def __init__(self, img_size: int, patch_size: int, in_chans: int, d_model: int):
        super().__init__()
        assert img_size % patch_size == 0, "the image must split into whole patches"
        self.grid = img_size // patch_size  # patches per side
        self.num_patches = self.grid * self.grid  # N
        self.proj = nn.Conv2d(in_chans, d_model, kernel_size=patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d_model))  # as in ViT: starts at 0
        self.pos_embed = nn.Parameter(0.02 * torch.randn(1, self.num_patches + 1, d_model))  # small random start

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B = x.size(0)
        x = self.proj(x)  # each patch's x_p·E + bias,  (B, d, H/P, W/P)
        x = x.flatten(2).transpose(1, 2)  # row-major over the grid,  (B, N, d)
        cls = self.cls_token.expand(B, -1, -1)  # one class token per image,  (B, 1, d)
        x = torch.cat([cls, x], dim=1)  # class token first,  (B, N + 1, d)
        return x + self.pos_embed  # z_0 = [x_cls; patches] + E_pos,  (B, N + 1, d)
