"""Known-wrong: adds the input and hidden pre-activations before splitting, so the reset gate also scales W_in x + b_in."""
import torch


def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    r_pre, z_pre, n_pre = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(r_pre), torch.sigmoid(z_pre)
    n = torch.tanh(r * n_pre)
    return (1 - z) * n + z * h
