"""Known-wrong: squashes the candidate g with a sigmoid instead of tanh, so the cell can only be written upwards."""
import torch


def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, g, o = torch.sigmoid(gates).chunk(4, dim=-1)
    c_new = f * c + i * g
    return o * torch.tanh(c_new), c_new
