"""Known-wrong: off by one in the values, δ_t = r_t + γV_t − V_{t+1}, as if values[..., 0] were the next state's value."""
import torch


def gae(rewards, values, gamma=0.99, lam=0.95):
    T = rewards.size(-1)
    deltas = rewards + gamma * values[..., :-1] - values[..., 1:]
    adv = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[..., 0])
    for t in reversed(range(T)):
        running = deltas[..., t] + gamma * lam * running
        adv[..., t] = running
    return adv, adv + values[..., 1:]
