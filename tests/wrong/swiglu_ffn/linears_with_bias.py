"""Known-wrong: keeps nn.Linear's default bias=True on all three projections; LLaMA-style SwiGLU has no biases
(3·d·h parameters, not 3·d·h + 2h + d)."""
import torch.nn as nn
import torch.nn.functional as F


class SwiGLU(nn.Module):
    def __init__(self, d_model, d_hidden):
        super().__init__()
        self.w_gate = nn.Linear(d_model, d_hidden)
        self.w_up = nn.Linear(d_model, d_hidden)
        self.w_down = nn.Linear(d_hidden, d_model)

    def forward(self, x):
        return self.w_down(F.silu(self.w_gate(x)) * self.w_up(x))
