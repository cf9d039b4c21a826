"""Known-wrong: returns the u it was given instead of u_new, so feeding the result back never iterates and the
estimate never converges."""
import torch.nn.functional as F


def spectral_norm_step(W, u):
    v = F.normalize(W.T @ u, dim=0)
    u_new = F.normalize(W @ v, dim=0)
    sigma = u_new @ (W @ v)
    return sigma, u
