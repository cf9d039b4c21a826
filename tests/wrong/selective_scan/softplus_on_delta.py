"""Known-wrong: applies softplus to delta inside the scan, as Mamba's fused kernel does with delta_softplus=True;
the task passes Δ already positive and uses it as given."""
import torch
import torch.nn.functional as F


def selective_scan(x, delta, A, B, C, D):
    Bt, L, Din = x.shape
    dA = torch.exp(F.softplus(delta).unsqueeze(-1) * A)
    dBx = (F.softplus(delta) * x).unsqueeze(-1) * B.unsqueeze(-2)
    h = x.new_zeros(Bt, Din, A.size(-1))
    ys = []
    for t in range(L):
        h = dA[:, t] * h + dBx[:, t]
        ys.append((h * C[:, t].unsqueeze(-2)).sum(-1))
    return torch.stack(ys, dim=1) + D * x
