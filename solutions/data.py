r"""Sequence packing for training: several documents in one row, kept apart by the attention mask.

Short training examples (SFT conversations, pre-training documents) are concatenated into one fixed-length
sequence to avoid padding. Without care, tokens then attend to earlier, unrelated documents in the same row.
A document-causal (block-diagonal causal) mask lets token $t$ attend to token $s$ only within its own document,

$$M_{ts} = [\,s \le t\,] \wedge [\,\mathrm{doc}_s = \mathrm{doc}_t\,],$$

and the position ids restart at 0 at each document, so every document sees the positions it would see alone.
Packing without cross-contamination: Krell et al. (2021, arXiv:2107.02027); intra-document causal masking in
pre-training: Zhao et al. (2024, arXiv:2402.13991), and Llama 3 (Dubey et al., 2024, arXiv:2407.21783).
"""
import torch


def document_causal_mask(doc_ids: torch.Tensor) -> torch.Tensor:
    """Causal attention mask for a packed sequence that never crosses document boundaries.

    doc_ids: (T,) int64, the document each token belongs to; each document is one contiguous run of tokens,
    and the ids are arbitrary labels (not necessarily 0, 1, 2, … nor sorted). Returns a (T, T) bool mask,
    True = may attend: entry [t, s] is True where s <= t and doc_ids[s] == doc_ids[t].
    """
    T = doc_ids.size(0)
    same_doc = doc_ids.unsqueeze(1) == doc_ids.unsqueeze(0)  # (T, T) [t, s]: doc_t == doc_s
    causal = torch.ones(T, T, dtype=torch.bool, device=doc_ids.device).tril()  # (T, T) [t, s]: s <= t
    return same_doc & causal


def packed_position_ids(doc_ids: torch.Tensor) -> torch.Tensor:
    """Position ids for a packed sequence: 0, 1, 2, … restarting at 0 at the first token of each document.

    doc_ids: (T,) int64 as in `document_causal_mask` (contiguous documents, arbitrary labels).
    Returns (T,) int64.
    """
    T = doc_ids.size(0)
    idx = torch.arange(T, device=doc_ids.device)  # (T,) absolute positions 0 … T-1
    starts = torch.ones(T, dtype=torch.bool, device=doc_ids.device)  # (T,) True where a document begins
    starts[1:] = doc_ids[1:] != doc_ids[:-1]  # a new document starts where the label changes
    start_of_doc = torch.where(starts, idx, torch.zeros_like(idx)).cummax(dim=0).values  # (T,) its doc's first index
    return idx - start_of_doc  # position within the document
