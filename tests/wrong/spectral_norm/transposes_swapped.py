"""Known-wrong: swaps the roles of W and Wᵀ (v = normalize(W u), u_new = normalize(Wᵀ v)), which only runs for
square W and then iterates on the wrong singular vectors' side."""
import torch.nn.functional as F


def spectral_norm_step(W, u):
    v = F.normalize(W @ u, dim=0)
    u_new = F.normalize(W.T @ v, dim=0)
    sigma = v @ (W @ u_new)
    return sigma, u_new
