"""Known-wrong: adds x Aᵀ Bᵀ without the alpha / r factor, so the update's scale depends on the rank and alpha does nothing."""
import math

import torch
import torch.nn as nn


class LoRALinear(nn.Module):
    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        self.r, self.alpha = r, alpha
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))

    def forward(self, x):
        return self.base(x) + x @ self.lora_A.T @ self.lora_B.T

    def merged_weight(self):
        return self.base.weight + self.lora_B @ self.lora_A
