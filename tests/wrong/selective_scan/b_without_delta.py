"""Known-wrong: feeds the input as B_t x_t without the step size, h_t = exp(ΔA) h_{t−1} + B_t x_t; the Euler
discretization of B is B̄ = Δ B."""
import torch


def selective_scan(x, delta, A, B, C, D):
    Bt, L, Din = x.shape
    dA = torch.exp(delta.unsqueeze(-1) * A)
    dBx = x.unsqueeze(-1) * B.unsqueeze(-2)
    h = x.new_zeros(Bt, Din, A.size(-1))
    ys = []
    for t in range(L):
        h = dA[:, t] * h + dBx[:, t]
        ys.append((h * C[:, t].unsqueeze(-2)).sum(-1))
    return torch.stack(ys, dim=1) + D * x
