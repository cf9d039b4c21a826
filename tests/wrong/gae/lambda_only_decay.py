"""Known-wrong: decays the trace by λ instead of γλ (A_t = δ_t + λ·A_{t+1}), dropping the discount from the sum of TD errors."""
import torch


def gae(rewards, values, gamma=0.99, lam=0.95):
    T = rewards.size(-1)
    deltas = rewards + gamma * values[..., 1:] - values[..., :-1]
    adv = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[..., 0])
    for t in reversed(range(T)):
        running = deltas[..., t] + lam * running
        adv[..., t] = running
    return adv, adv + values[..., :T]
