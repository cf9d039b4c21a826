"""Known-wrong (seen in study articles): the vanilla-RNN update h = tanh(W h + U x + b) presented as an LSTM — no gates, no cell-state update."""
import torch


def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    d_h = h.shape[-1]
    U, W, b = W_ih[:d_h], W_hh[:d_h], b_ih[:d_h] + b_hh[:d_h]  # one block of weights, used as a plain RNN
    h_new = torch.tanh(h @ W.T + x @ U.T + b)
    return h_new, c
