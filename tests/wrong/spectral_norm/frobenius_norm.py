"""Known-wrong: uses the Frobenius norm ‖W‖_F = sqrt(Σ w²) as sigma; it is never smaller than the spectral norm
and over-shrinks the layer (W / ‖W‖_F has spectral norm below 1)."""
import torch.nn.functional as F


def spectral_norm_step(W, u):
    v = F.normalize(W.T @ u, dim=0)
    u_new = F.normalize(W @ v, dim=0)
    return W.norm(), u_new
