"""Known-wrong: writes the straight-through trick backwards, z_q = e + (z_e − e).detach(); its value is z_e (nothing
is quantized) and the decoder's gradient flows into the codebook instead of the encoder."""
import torch
import torch.nn.functional as F


def vector_quantize(z_e, codebook, beta=0.25):
    B, N, D = z_e.shape
    dist = torch.cdist(z_e.reshape(B * N, D), codebook) ** 2
    indices = dist.argmin(dim=1).reshape(B, N)
    e = codebook[indices]
    loss = F.mse_loss(e, z_e.detach()) + beta * F.mse_loss(z_e, e.detach())
    return e + (z_e - e).detach(), indices, loss
