"""Known-wrong: returns the codes themselves as z_q (z_q = e); argmin has no gradient, so the reconstruction loss
never reaches the encoder and the gradient goes to the codebook instead."""
import torch
import torch.nn.functional as F


def vector_quantize(z_e, codebook, beta=0.25):
    B, N, D = z_e.shape
    dist = torch.cdist(z_e.reshape(B * N, D), codebook) ** 2
    indices = dist.argmin(dim=1).reshape(B, N)
    e = codebook[indices]
    loss = F.mse_loss(e, z_e.detach()) + beta * F.mse_loss(z_e, e.detach())
    return e, indices, loss
