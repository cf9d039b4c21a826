"""Known-wrong: returns the advantages as the value targets, forgetting to add back V(s_t); the critic would then regress towards A ≈ 0."""
import torch


def gae(rewards, values, gamma=0.99, lam=0.95):
    T = rewards.size(-1)
    deltas = rewards + gamma * values[..., 1:] - values[..., :-1]
    adv = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[..., 0])
    for t in reversed(range(T)):
        running = deltas[..., t] + gamma * lam * running
        adv[..., t] = running
    return adv, adv.clone()
