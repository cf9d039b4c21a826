"""Known-wrong: forgets the stop-gradients in the loss, (1 + beta)·mean((z_e − e)²); both the codebook and the
encoder then get (1 + beta) times the gradient and the codebook/commitment split is lost."""
import torch


def vector_quantize(z_e, codebook, beta=0.25):
    B, N, D = z_e.shape
    dist = torch.cdist(z_e.reshape(B * N, D), codebook) ** 2
    indices = dist.argmin(dim=1).reshape(B, N)
    e = codebook[indices]
    loss = (1 + beta) * ((z_e - e) ** 2).mean()
    return z_e + (e - z_e).detach(), indices, loss
