"""Known-wrong (seen in study articles): the new state comes from the reset gate alone — h' = tanh(W x + U(r ⊙ h)), with no update gate z interpolating with the old state."""
import torch


def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    d_h = h.shape[-1]
    r = torch.sigmoid(x @ W_ih[:d_h].T + b_ih[:d_h] + h @ W_hh[:d_h].T + b_hh[:d_h])
    W_in, W_hn = W_ih[2 * d_h:], W_hh[2 * d_h:]
    return torch.tanh(x @ W_in.T + b_ih[2 * d_h:] + r * (h @ W_hn.T + b_hh[2 * d_h:]))
