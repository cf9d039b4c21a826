"""Known-wrong: treats every trajectory as terminated, using 0 instead of the bootstrap value values[..., T] in the last TD error."""
import torch


def gae(rewards, values, gamma=0.99, lam=0.95):
    T = rewards.size(-1)
    next_values = torch.cat([values[..., 1:T], torch.zeros_like(values[..., :1])], dim=-1)
    deltas = rewards + gamma * next_values - values[..., :T]
    adv = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[..., 0])
    for t in reversed(range(T)):
        running = deltas[..., t] + gamma * lam * running
        adv[..., t] = running
    return adv, adv + values[..., :T]
