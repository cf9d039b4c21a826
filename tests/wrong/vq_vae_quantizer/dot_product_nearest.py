"""Known-wrong: picks the code with the largest dot product z·e_k instead of the smallest squared distance; that
ignores ‖e_k‖² and favours long codes."""
import torch
import torch.nn.functional as F


def vector_quantize(z_e, codebook, beta=0.25):
    indices = (z_e @ codebook.t()).argmax(dim=-1)
    e = codebook[indices]
    loss = F.mse_loss(e, z_e.detach()) + beta * F.mse_loss(z_e, e.detach())
    return z_e + (e - z_e).detach(), indices, loss
