"""Known-wrong: position ids 0..T-1 over the whole packed row, not restarted at each document, so later documents
see positions they would never see alone."""
import torch


def document_causal_mask(doc_ids):
    T = doc_ids.size(0)
    return (doc_ids[:, None] == doc_ids[None, :]) & torch.ones(T, T, dtype=torch.bool).tril()


def packed_position_ids(doc_ids):
    return torch.arange(doc_ids.size(0))
