"""Known-wrong: uses the plain causal mask over the whole packed row, so tokens attend to earlier documents
(cross-contamination between packed examples)."""
import torch


def document_causal_mask(doc_ids):
    T = doc_ids.size(0)
    return torch.ones(T, T, dtype=torch.bool).tril()


def packed_position_ids(doc_ids):
    T = doc_ids.size(0)
    idx = torch.arange(T)
    starts = torch.ones(T, dtype=torch.bool)
    starts[1:] = doc_ids[1:] != doc_ids[:-1]
    return idx - torch.where(starts, idx, torch.zeros_like(idx)).cummax(0).values
