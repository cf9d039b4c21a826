"""Known-wrong: puts eps inside the square root, √(v̂ + eps), which damps every update whose √v̂ is below √eps = 1e-4."""
import torch


def adamw_step(param, grad, exp_avg, exp_avg_sq, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    beta1, beta2 = betas
    param = param * (1 - lr * weight_decay)
    exp_avg = beta1 * exp_avg + (1 - beta1) * grad
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad * grad
    m_hat = exp_avg / (1 - beta1 ** step)
    v_hat = exp_avg_sq / (1 - beta2 ** step)
    param = param - lr * m_hat / torch.sqrt(v_hat + eps)
    return param, exp_avg, exp_avg_sq
