r"""Fine-tuning: low-rank adaptation (LoRA) and direct preference optimization (DPO).

**LoRA** freezes a pretrained weight $W_0 \in \mathbb R^{d_{out}\times d_{in}}$
and learns a low-rank update $\Delta W = \frac{\alpha}{r} B A$ with
$A \in \mathbb R^{r\times d_{in}}$, $B \in \mathbb R^{d_{out}\times r}$, $r \ll \min(d_{in}, d_{out})$:

$$y = x W_0^\top + b + \frac{\alpha}{r}\, x A^\top B^\top.$$

$B$ starts at zero, so training starts exactly from the pretrained model; $A$
starts random, so $B$ receives a gradient from the first step. After
training, $W_0 + \frac{\alpha}{r} B A$ can be merged into one matrix: no extra
inference cost. Paper: Hu et al., *LoRA: Low-Rank Adaptation of Large Language
Models*, arXiv:2106.09685.

**DPO** fits a policy $\pi_\theta$ to preference pairs (chosen $y_w$,
rejected $y_l$) without a reward model or RL, using a frozen reference
$\pi_{\mathrm{ref}}$:

$$\mathcal L = -\mathbb E\,\log\sigma\Big(\beta\big[(\log\pi_\theta(y_w) - \log\pi_{\mathrm{ref}}(y_w))
 - (\log\pi_\theta(y_l) - \log\pi_{\mathrm{ref}}(y_l))\big]\Big).$$

Paper: Rafailov et al., *Direct Preference Optimization: Your Language Model
is Secretly a Reward Model*, arXiv:2305.18290.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class LoRALinear(nn.Module):
    """A frozen `nn.Linear` plus a trainable low-rank update (α/r)·B A.

    Parameters `lora_A` (r, in_features) and `lora_B` (out_features, r); B
    starts at zero (so the layer initially equals `base`), A starts random.
    The base layer's weight and bias are frozen. forward(x) for x (..., in)
    returns base(x) + (α/r)·x Aᵀ Bᵀ, shape (..., out). merged_weight()
    returns W + (α/r)·B A, shape (out, in), so F.linear(x, merged, base.bias)
    equals forward(x).
    """

    def __init__(self, base: nn.Linear, r: int, alpha: float):
        super().__init__()
        assert r >= 1, "the rank r must be a positive integer"
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)  # the pretrained weights stay frozen
        self.r, self.alpha = r, alpha
        self.scaling = alpha / r  # α/r: changing r does not change the update's scale at init
        factory = dict(dtype=base.weight.dtype, device=base.weight.device)
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features, **factory))  # (r, in)
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, **factory))  # (out, r): ΔW = 0 at init
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))  # like nn.Linear's default init

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        update = (x @ self.lora_A.T) @ self.lora_B.T  # (..., r) then (..., out); never forms the (out, in) product
        return self.base(x) + self.scaling * update

    def merged_weight(self) -> torch.Tensor:
        return self.base.weight + self.scaling * (self.lora_B @ self.lora_A)  # (out, in)


def dpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, ref_chosen: torch.Tensor,
             ref_rejected: torch.Tensor, beta: float = 0.1) -> torch.Tensor:
    """Mean DPO loss over a batch of preference pairs; returns a 0-dim tensor.

    All inputs are (B,) summed log-probabilities of whole responses: under the
    policy and under the frozen reference model, for the chosen and the
    rejected response. Loss = mean of −log σ(β[(π_c − r_c) − (π_r − r_r)]),
    computed with logsigmoid so it stays finite for huge margins.
    """
    chosen_logratio = policy_chosen - ref_chosen  # log π(y_w)/π_ref(y_w): implicit reward / β
    rejected_logratio = policy_rejected - ref_rejected
    margin = beta * (chosen_logratio - rejected_logratio)  # (B,)
    return -F.logsigmoid(margin).mean()
