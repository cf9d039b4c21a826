r"""Sequence models: one step of a vanilla RNN, an LSTM and a GRU, and an
autoregressive rollout that feeds a model's predictions back as its input.

A recurrent cell maps the current input and the previous state to the next
state; the same weights are reused at every time step. The vanilla cell is

$$h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}),$$

and the gated cells add multiplicative gates in $(0, 1)$ that decide what is
kept, written and read. The LSTM carries a second state, the cell $c_t$,
updated additively:

$$c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t).$$

Weights use PyTorch's layout (`nn.RNNCell`, `nn.LSTMCell`, `nn.GRUCell`):
the gate blocks are stacked along the first dimension of `W_ih` (G·d_h, d_in)
and `W_hh` (G·d_h, d_h), with G = 1 (RNN), 4 (LSTM: i, f, g, o) or 3
(GRU: r, z, n).

Shapes: B batch, d_in input features, d_h hidden features.

Papers: Hochreiter & Schmidhuber, *Long Short-Term Memory*, 1997
(doi:10.1162/neco.1997.9.8.1735); Cho et al., *Learning Phrase Representations
using RNN Encoder-Decoder*, arXiv:1406.1078 (the GRU).
"""
from __future__ import annotations

import torch


def rnn_cell(x: torch.Tensor, h: torch.Tensor, W_ih: torch.Tensor, W_hh: torch.Tensor,
             b_ih: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """One step of a vanilla (Elman) RNN: tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh).

    x (B, d_in), h (B, d_h), W_ih (d_h, d_in), W_hh (d_h, d_h), b_ih and
    b_hh (d_h,). Returns the new hidden state (B, d_h), as `nn.RNNCell`.
    """
    return torch.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)


def lstm_cell(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, W_ih: torch.Tensor, W_hh: torch.Tensor,
              b_ih: torch.Tensor, b_hh: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step; returns the new (h, c), each (B, d_h), as `nn.LSTMCell`.

    x (B, d_in), h and c (B, d_h), W_ih (4·d_h, d_in), W_hh (4·d_h, d_h),
    b_ih and b_hh (4·d_h,). The four gate blocks are stacked in PyTorch's
    order: input i, forget f, candidate g, output o.
    """
    gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh  # (B, 4·d_h), all four pre-activations at once
    i, f, g, o = gates.chunk(4, dim=-1)  # each (B, d_h)
    i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
    g = torch.tanh(g)  # the candidate may be negative: tanh, not sigmoid
    c_new = f * c + i * g  # c_t = f ⊙ c_{t-1} + i ⊙ g   (additive memory update)
    h_new = o * torch.tanh(c_new)  # h_t = o ⊙ tanh(c_t)
    return h_new, c_new


def gru_cell(x: torch.Tensor, h: torch.Tensor, W_ih: torch.Tensor, W_hh: torch.Tensor,
             b_ih: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """One GRU step; returns the new hidden state (B, d_h), as `nn.GRUCell`.

    x (B, d_in), h (B, d_h), W_ih (3·d_h, d_in), W_hh (3·d_h, d_h), b_ih and
    b_hh (3·d_h,), gate blocks stacked in PyTorch's order r, z, n:
    r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.
    """
    gi = x @ W_ih.T + b_ih  # (B, 3·d_h): input contributions to r, z, n
    gh = h @ W_hh.T + b_hh  # (B, 3·d_h): hidden contributions to r, z, n
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)
    r = torch.sigmoid(i_r + h_r)  # reset gate
    z = torch.sigmoid(i_z + h_z)  # update gate
    n = torch.tanh(i_n + r * h_n)  # candidate; PyTorch applies r AFTER W_hn h + b_hn
    return (1 - z) * n + z * h  # interpolate between the candidate and the old state


def rollout(step_fn, context: torch.Tensor, steps: int) -> torch.Tensor:
    """Autoregressive rollout of a one-step predictor.

    `context` (B, W, F) is the last W observed values; `step_fn` maps a window
    (B, W, F) to the next value (B, F). Each prediction is appended to the
    window and the oldest value dropped, so the window always holds the W most
    recent values (observed or predicted) in time order. Returns the `steps`
    predictions (B, steps, F). `context` is not modified.
    """
    B, W, F = context.shape  # batch, window length, features
    window = context
    predictions = []
    for _ in range(steps):
        y = step_fn(window)  # (B, F)
        predictions.append(y)
        window = torch.cat([window[:, 1:], y.unsqueeze(1)], dim=1)  # (B, W, F): drop the oldest, append the newest
    if not predictions:
        return context.new_zeros(B, 0, F)
    return torch.stack(predictions, dim=1)  # (B, steps, F)
