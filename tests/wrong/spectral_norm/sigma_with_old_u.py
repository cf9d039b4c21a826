"""Known-wrong: computes sigma = uᵀ W v with the u that was passed in instead of the updated u_new; the estimate
lags one half-step behind (it equals ‖Wᵀu‖)."""
import torch.nn.functional as F


def spectral_norm_step(W, u):
    v = F.normalize(W.T @ u, dim=0)
    u_new = F.normalize(W @ v, dim=0)
    sigma = u @ (W @ v)
    return sigma, u_new
