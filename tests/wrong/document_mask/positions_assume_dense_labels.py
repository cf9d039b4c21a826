"""Known-wrong: computes each document's start offset from bincount(doc_ids).cumsum(), which assumes the labels are
0, 1, 2, ... in order of appearance; arbitrary or unsorted labels give wrong offsets (or an error)."""
import torch


def document_causal_mask(doc_ids):
    T = doc_ids.size(0)
    return (doc_ids[:, None] == doc_ids[None, :]) & torch.ones(T, T, dtype=torch.bool).tril()


def packed_position_ids(doc_ids):
    counts = torch.bincount(doc_ids)
    offsets = torch.cumsum(counts, 0) - counts
    return torch.arange(doc_ids.size(0)) - offsets[doc_ids]
