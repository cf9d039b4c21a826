"""Known-wrong: puts beta on the codebook term, beta·mean((sg[z_e] − e)²) + mean((z_e − sg[e])²); the loss value
is the same, but the codebook's gradient is scaled by beta (4× too small at 0.25) and the encoder's commitment pull is
1/beta times too strong."""
import torch
import torch.nn.functional as F


def vector_quantize(z_e, codebook, beta=0.25):
    B, N, D = z_e.shape
    dist = torch.cdist(z_e.reshape(B * N, D), codebook) ** 2
    indices = dist.argmin(dim=1).reshape(B, N)
    e = codebook[indices]
    loss = beta * F.mse_loss(e, z_e.detach()) + F.mse_loss(z_e, e.detach())
    return z_e + (e - z_e).detach(), indices, loss
