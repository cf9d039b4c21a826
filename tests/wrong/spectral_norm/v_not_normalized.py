"""Known-wrong: forgets to normalize v = Wᵀu, so sigma = u_newᵀ W v carries the length of Wᵀu and comes out near
σ² instead of σ."""
import torch.nn.functional as F


def spectral_norm_step(W, u):
    v = W.T @ u
    u_new = F.normalize(W @ v, dim=0)
    sigma = u_new @ (W @ v)
    return sigma, u_new
