"""Known-wrong: the mask is block-diagonal by document but not causal, so tokens see later tokens of their own
document."""
import torch


def document_causal_mask(doc_ids):
    return doc_ids[:, None] == doc_ids[None, :]


def packed_position_ids(doc_ids):
    T = doc_ids.size(0)
    idx = torch.arange(T)
    starts = torch.ones(T, dtype=torch.bool)
    starts[1:] = doc_ids[1:] != doc_ids[:-1]
    return idx - torch.where(starts, idx, torch.zeros_like(idx)).cummax(0).values
