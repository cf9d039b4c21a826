"""Known-wrong: positions restart at 1 instead of 0 at each document (off by one against the positions a document
gets when it is alone: 0, 1, 2, ...)."""
import torch


def document_causal_mask(doc_ids):
    T = doc_ids.size(0)
    return (doc_ids[:, None] == doc_ids[None, :]) & torch.ones(T, T, dtype=torch.bool).tril()


def packed_position_ids(doc_ids):
    T = doc_ids.size(0)
    idx = torch.arange(T)
    starts = torch.ones(T, dtype=torch.bool)
    starts[1:] = doc_ids[1:] != doc_ids[:-1]
    return idx - torch.where(starts, idx, torch.zeros_like(idx)).cummax(0).values + 1
