"""Known-wrong: n = tanh(W_in x + b_in + W_hn (r * h) + b_hn) — Cho et al.'s placement of the reset gate, not PyTorch's r * (W_hn h + b_hn)."""
import torch


def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    d_h = h.shape[-1]
    i_r, i_z, i_n = (x @ W_ih.T + b_ih).chunk(3, dim=-1)
    h_r, h_z, _ = (h @ W_hh.T + b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + (r * h) @ W_hh[2 * d_h:].T + b_hh[2 * d_h:])
    return (1 - z) * n + z * h
