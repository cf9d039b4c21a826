r"""A GPT-style decoder-only Transformer, bottom-up: layer norm -> block -> model.

Layer normalization standardizes each token's feature vector on its own,

$$\mathrm{LN}(x) = \gamma \odot \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta,\qquad
\mu = \tfrac1d\textstyle\sum_j x_j,\quad \sigma^2 = \tfrac1d\sum_j (x_j - \mu)^2,$$

(the biased variance: divide by $d$, not $d-1$). A pre-norm block adds two
residual branches, $x \leftarrow x + \mathrm{Attn}(\mathrm{LN}_1(x))$ then
$x \leftarrow x + \mathrm{FF}(\mathrm{LN}_2(x))$, so the residual stream itself
is never normalized and gradients flow straight through the additions. A
decoder-only language model stacks such blocks over token + position
embeddings, with a causal mask so position $t$ only sees $x_{\le t}$, and is
trained to predict $x_{t+1}$: $p(x) = \prod_t p(x_{t+1} \mid x_{\le t})$.

Papers: Ba et al., *Layer Normalization*, arXiv:1607.06450; Vaswani et al.,
*Attention Is All You Need*, arXiv:1706.03762; Xiong et al., *On Layer
Normalization in the Transformer Architecture*, arXiv:2002.04745 (pre-norm);
Radford et al., *Language Models are Unsupervised Multitask Learners* (GPT-2, 2019).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from solutions.attention import MultiHeadAttention, causal_mask


def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    r"""Layer normalization over the last dim: weight * (x − μ) / √(σ² + eps) + bias.

    x: (..., d); weight, bias: (d,). μ and σ² are the mean and the *biased*
    variance (divide by d) of each row x[..., :]; eps goes inside the square root.
    Returns x's shape and dtype.
    """
    mu = x.mean(dim=-1, keepdim=True)  # (..., 1)
    var = (x - mu).pow(2).mean(dim=-1, keepdim=True)  # (..., 1) biased variance: 1/d Σ (x − μ)²
    x_hat = (x - mu) / torch.sqrt(var + eps)  # each row: mean 0, variance 1 (up to eps)
    return x_hat * weight + bias  # the affine part γ ⊙ x̂ + β


class LayerNorm(nn.Module):
    """`nn.LayerNorm(d)` written out: learnable `weight` (ones) and `bias` (zeros), applies `layer_norm`."""

    def __init__(self, d: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))
        self.bias = nn.Parameter(torch.zeros(d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return layer_norm(x, self.weight, self.bias, self.eps)


class TransformerBlock(nn.Module):
    """Pre-norm Transformer block (GPT-2 style), batch first.

    Submodules: `ln1`, `ln2` (layer norms over d_model, eps 1e-5, with `weight` and
    `bias`, e.g. `nn.LayerNorm(d_model)`), `attn` (multi-head self-attention with
    submodules `q_proj`, `k_proj`, `v_proj`, `out_proj`, each `nn.Linear(d_model, d_model)`,
    called as attn(query, key, value, mask); write it in the same file), and
    `ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))`.

        x = x + attn(ln1(x), ln1(x), ln1(x), mask)
        x = x + ff(ln2(x))

    `dropout` (default 0) applies to the output of each branch before it is added.
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.0):
        """d_model must be divisible by n_heads."""
        super().__init__()
        assert d_model % n_heads == 0, f"d_model={d_model} is not divisible by n_heads={n_heads}"
        self.ln1 = LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads)
        self.ln2 = LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, T, d_model) -> (B, T, d_model); `mask` is boolean, True = may attend,
        broadcastable to (B, n_heads, T, T) (e.g. a causal (T, T) mask)."""
        h = self.ln1(x)  # normalize the branch input, never the residual stream
        x = x + self.drop(self.attn(h, h, h, mask))  # x + Attn(LN1(x))
        x = x + self.drop(self.ff(self.ln2(x)))  # x + FF(LN2(x))
        return x


class TinyGPT(nn.Module):
    """A small decoder-only (GPT-style) Transformer language model.

    Token embedding + position embedding (learned or sinusoidal) ->
    `n_layers` Transformer blocks with causal self-attention -> final layer
    norm -> linear head to `vocab_size` logits. The model sees at most
    `max_len` tokens at once.
    """

    def __init__(self, vocab_size: int, d_model: int, n_heads: int, n_layers: int, max_len: int):
        """d_model must be divisible by n_heads."""
        super().__init__()
        assert d_model % n_heads == 0, f"d_model={d_model} is not divisible by n_heads={n_heads}"
        self.vocab_size, self.max_len = vocab_size, max_len
        self.tok_emb = nn.Embedding(vocab_size, d_model)  # untied from the head (tying works too)
        self.pos_emb = nn.Embedding(max_len, d_model)  # learned positions 0 .. max_len-1
        # pre-norm blocks with the usual 4x wider feed-forward layer
        self.blocks = nn.ModuleList(TransformerBlock(d_model, n_heads, 4 * d_model) for _ in range(n_layers))
        self.ln_f = LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        for module in self.modules():  # GPT-2's init: small normal weights, zero biases
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """idx (B, T) int64 token ids, T <= max_len -> logits (B, T, vocab_size).

        logits[:, t] is the prediction for token t+1 and depends only on idx[:, :t+1].
        """
        B, T = idx.shape  # batch, time
        assert T <= self.max_len, f"sequence of length {T} is longer than max_len={self.max_len}"
        pos = torch.arange(T, device=idx.device)  # (T,)
        x = self.tok_emb(idx) + self.pos_emb(pos)  # (B, T, d) + (T, d) -> (B, T, d)
        mask = causal_mask(T).to(idx.device)  # (T, T), True = may attend (the past and itself)
        for block in self.blocks:
            x = block(x, mask)  # (B, T, d)
        return self.head(self.ln_f(x))  # (B, T, V)

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        """Autoregressive sampling: idx (B, T) int64 -> (B, T + max_new_tokens) int64, the prompt
        followed by the new tokens.

        Each step feeds the model at most the last `max_len` tokens, takes the
        logits of the LAST position, divides them by `temperature`, keeps the
        `top_k` largest (all when None), and samples from their softmax with
        `generator`. `top_k=1` is greedy decoding (argmax).
        """
        for _ in range(max_new_tokens):
            window = idx[:, -self.max_len:]  # (B, ≤ max_len): crop to the context window
            logits = self(window)[:, -1, :] / temperature  # (B, V): next-token logits only
            if top_k is not None:
                kth = torch.topk(logits, min(top_k, logits.size(-1)), dim=-1).values[:, -1:]  # (B, 1)
                logits = logits.masked_fill(logits < kth, float("-inf"))  # drop all but the top k
            probs = F.softmax(logits, dim=-1)  # (B, V)
            next_token = torch.multinomial(probs, num_samples=1, generator=generator)  # (B, 1)
            idx = torch.cat([idx, next_token], dim=1)  # (B, T + 1)
        return idx
