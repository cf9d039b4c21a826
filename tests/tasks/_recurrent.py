"""Shared by the rnn-cell, lstm-cell and gru-cell tests: PyTorch cells as oracles."""
import torch


def random_cell(cell_class, d_in, d_h, seed):
    """A PyTorch cell (nn.RNNCell, nn.LSTMCell, nn.GRUCell) in float64 with random weights and
    clearly non-zero biases, so that a missing bias or transpose shows."""
    g = torch.Generator().manual_seed(seed)
    cell = cell_class(d_in, d_h).double()
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_(0.6 * torch.randn(p.shape, generator=g, dtype=torch.float64))
    return cell


def weights(cell, dtype=torch.float32):
    """(W_ih, W_hh, b_ih, b_hh) in PyTorch's layout, as the task functions take them."""
    return [p.detach().to(dtype).clone() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]
