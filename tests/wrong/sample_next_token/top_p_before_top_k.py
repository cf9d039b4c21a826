"""Known-wrong: applies top-p to the unfiltered distribution and top-k afterwards; the contract (and the usual pipeline) is top-k first, then top-p on the renormalized remainder."""
import torch


def filter_logits(logits, temperature=1.0, top_k=None, top_p=None):
    logits = logits / temperature
    if top_p is not None:
        sorted_logits, order = logits.sort(dim=-1, descending=True)
        probs = sorted_logits.softmax(dim=-1)
        remove_sorted = probs.cumsum(dim=-1) - probs >= top_p
        remove_sorted[..., 0] = False
        logits = logits.masked_fill(remove_sorted.scatter(-1, order, remove_sorted), float("-inf"))
    if top_k is not None and top_k < logits.size(-1):
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    return logits


def sample_next_token(logits, temperature=1.0, top_k=None, top_p=None, generator=None):
    probs = filter_logits(logits, temperature, top_k, top_p).softmax(dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
