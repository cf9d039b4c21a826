"""Known-wrong: multiplies by W_hh instead of its transpose; PyTorch stores weights as (out_features, in_features)."""
import torch


def rnn_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    return torch.tanh(x @ W_ih.T + b_ih + h @ W_hh + b_hh)
