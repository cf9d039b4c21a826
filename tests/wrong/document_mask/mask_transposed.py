"""Known-wrong: builds the causal part with triu (s >= t), i.e. the mask transposed: row t (the query) sees the
keys after it instead of before it."""
import torch


def document_causal_mask(doc_ids):
    T = doc_ids.size(0)
    return (doc_ids[:, None] == doc_ids[None, :]) & torch.ones(T, T, dtype=torch.bool).triu()


def packed_position_ids(doc_ids):
    T = doc_ids.size(0)
    idx = torch.arange(T)
    starts = torch.ones(T, dtype=torch.bool)
    starts[1:] = doc_ids[1:] != doc_ids[:-1]
    return idx - torch.where(starts, idx, torch.zeros_like(idx)).cummax(0).values
