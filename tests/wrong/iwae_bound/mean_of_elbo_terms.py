"""Known-wrong: averages the log-weights, (1/K) Σ_k log w_k — a K-sample estimate of the ordinary ELBO, not the
tighter IWAE bound (the log must come after the average)."""


def iwae_bound(log_p_xz, log_q_zx):
    return (log_p_xz - log_q_zx).mean(dim=-1)
