r"""Sequence models with a fixed-size recurrent state: causal linear attention and Mamba's selective scan.

Linear attention (Katharopoulos et al., 2020, arXiv:2006.16236) replaces exp(q·k) by a kernel φ(q)·φ(k) with a
positive feature map φ(x) = elu(x) + 1. Associativity then turns causal attention into a recurrence over a
(d, dv) state, O(T) time and O(1) memory per generated token:

$$S_t = S_{t-1} + \phi(k_t)\,v_t^\top,\quad z_t = z_{t-1} + \phi(k_t),\quad
  o_t = \frac{\phi(q_t)^\top S_t}{\phi(q_t)^\top z_t + \epsilon}.$$

Mamba's selective state-space model (Gu & Dao, 2023, arXiv:2312.00752) keeps an (Din, N) state per sequence and
makes the step size Δ and the matrices B, C depend on the input. Discretizing A by zero-order hold and B by Euler:

$$h_t = e^{\Delta_t A} \odot h_{t-1} + (\Delta_t B_t)\,x_t,\qquad y_t = h_t C_t + D \odot x_t .$$
"""
import torch
import torch.nn.functional as F


def causal_linear_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    r"""Causal linear attention with the feature map φ(x) = elu(x) + 1 (Katharopoulos et al.).

    q, k: (..., T, d); v: (..., T, dv). φ is applied to q and k (not to v). For each position t,
    out_t = φ(q_t)ᵀ S_t / (φ(q_t)ᵀ z_t + eps) with S_t = Σ_{s≤t} φ(k_s) v_sᵀ (d, dv) and
    z_t = Σ_{s≤t} φ(k_s) (d,): position t sees positions s ≤ t, itself included. Returns (..., T, dv).
    """
    phi_q, phi_k = F.elu(q) + 1, F.elu(k) + 1  # (..., T, d) positive features φ(x) = elu(x) + 1
    S = torch.cumsum(phi_k.unsqueeze(-1) * v.unsqueeze(-2), dim=-3)  # (..., T, d, dv) S_t = Σ_{s≤t} φ(k_s) v_sᵀ
    z = torch.cumsum(phi_k, dim=-2)  # (..., T, d) z_t = Σ_{s≤t} φ(k_s)
    num = torch.einsum("...td,...tde->...te", phi_q, S)  # (..., T, dv) φ(q_t)ᵀ S_t
    den = (phi_q * z).sum(dim=-1, keepdim=True)  # (..., T, 1) φ(q_t)ᵀ z_t
    return num / (den + eps)


def selective_scan(x: torch.Tensor, delta: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor,
                   D: torch.Tensor) -> torch.Tensor:
    r"""Mamba's selective scan (the S6 recurrence), with Δ used as given (no softplus inside).

    x, delta: (Bt, L, Din), delta > 0; A: (Din, N); B, C: (Bt, L, N); D: (Din,). State h: (Bt, Din, N), h_0 = 0.
    For t = 1..L:  h_t = exp(Δ_t A) ⊙ h_{t−1} + (Δ_t B_t) x_t   (zero-order hold for A, Euler for B),
    i.e. h_t[b, i, n] = exp(Δ[b,t,i] A[i,n]) h_{t−1}[b,i,n] + Δ[b,t,i] B[b,t,n] x[b,t,i];
    y_t = h_t C_t + D ⊙ x_t, i.e. y[b,t,i] = Σ_n h_t[b,i,n] C[b,t,n] + D[i] x[b,t,i]. Returns y (Bt, L, Din).
    """
    Bt, L, Din = x.shape
    dA = torch.exp(delta.unsqueeze(-1) * A)  # (Bt, L, Din, N) Ā = exp(Δ A), zero-order hold
    dBx = (delta * x).unsqueeze(-1) * B.unsqueeze(-2)  # (Bt, L, Din, N) B̄ x = Δ B x, Euler
    h = x.new_zeros(Bt, Din, A.size(-1))  # (Bt, Din, N) h_0 = 0
    ys = []
    for t in range(L):
        h = dA[:, t] * h + dBx[:, t]  # h_t = Ā_t ⊙ h_{t−1} + B̄_t x_t
        ys.append((h * C[:, t].unsqueeze(-2)).sum(dim=-1))  # (Bt, Din) h_t C_t
    return torch.stack(ys, dim=1) + D * x  # (Bt, L, Din) y = h C + D ⊙ x
