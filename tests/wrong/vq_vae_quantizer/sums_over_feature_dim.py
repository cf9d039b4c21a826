"""Known-wrong: averages the squared norms ‖z_e − e‖² over the B·N vectors (summing over D) instead of taking the
mean over all B·N·D elements; the loss is D times too large."""
import torch


def vector_quantize(z_e, codebook, beta=0.25):
    B, N, D = z_e.shape
    dist = torch.cdist(z_e.reshape(B * N, D), codebook) ** 2
    indices = dist.argmin(dim=1).reshape(B, N)
    e = codebook[indices]
    codebook_loss = ((z_e.detach() - e) ** 2).sum(-1).mean()
    commitment = ((z_e - e.detach()) ** 2).sum(-1).mean()
    return z_e + (e - z_e).detach(), indices, codebook_loss + beta * commitment
