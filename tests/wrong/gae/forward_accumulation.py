"""Known-wrong: runs the recursion forward in time (A_t = δ_t + γλ·A_{t−1}), summing past TD errors instead of future ones."""
import torch


def gae(rewards, values, gamma=0.99, lam=0.95):
    T = rewards.size(-1)
    deltas = rewards + gamma * values[..., 1:] - values[..., :-1]
    adv = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[..., 0])
    for t in range(T):
        running = deltas[..., t] + gamma * lam * running
        adv[..., t] = running
    return adv, adv + values[..., :T]
