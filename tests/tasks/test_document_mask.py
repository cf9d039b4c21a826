"""document-mask: document_causal_mask(doc_ids) and packed_position_ids(doc_ids) for packed sequences."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor

MASK_HINT = ("mask[t, s] is True exactly where s ≤ t (causal: row t is the query, column s the key) AND "
             "doc_ids[s] == doc_ids[t] (same document): compare doc_ids[:, None] == doc_ids[None, :] and AND it with "
             "a lower-triangular (tril) matrix.")
POS_HINT = ("Positions count 0, 1, 2, … inside each document and restart at 0 wherever doc_ids changes from the "
            "previous token; the labels themselves are arbitrary (not 0, 1, 2, … and not sorted), so use where the "
            "label CHANGES, not its value.")


def brute_mask(ids):
    ids = ids.tolist()
    T = len(ids)
    return torch.tensor([[s <= t and ids[s] == ids[t] for s in range(T)] for t in range(T)], dtype=torch.bool)


def brute_positions(ids):
    ids, out = ids.tolist(), []
    for t, label in enumerate(ids):
        out.append(0 if t == 0 or ids[t - 1] != label else out[-1] + 1)
    return torch.tensor(out, dtype=torch.int64)


def packed(lengths, labels):
    """doc_ids for documents of the given lengths, each with its label."""
    return torch.tensor([lab for n, lab in zip(lengths, labels) for _ in range(n)], dtype=torch.int64)


def check_mask(impl, ids, what):
    mask = impl.document_causal_mask(ids)
    T = ids.numel()
    expect_tensor(mask, what, shape=(T, T), dtype=torch.bool)
    want = brute_mask(ids)
    bad = (mask != want).nonzero()
    if len(bad):
        t, s = (int(i) for i in bad[0])
        expect(False, f"{what} is wrong at {len(bad)} of {T * T} entries; first at [t={t}, s={s}]: got "
                      f"{bool(mask[t, s])}, expected {bool(want[t, s])} (doc_ids[t]={int(ids[t])}, "
                      f"doc_ids[s]={int(ids[s])}, s {'≤' if s <= t else '>'} t). {MASK_HINT}")
    return mask


def check_positions(impl, ids, what):
    pos = impl.packed_position_ids(ids)
    expect_tensor(pos, what, shape=(ids.numel(),), dtype=torch.int64)
    want = brute_positions(ids)
    bad = (pos != want).nonzero()
    if len(bad):
        t = int(bad[0])
        expect(False, f"{what} is wrong at {len(bad)} of {ids.numel()} positions; first at t={t}: got {int(pos[t])}, "
                      f"expected {int(want[t])}. doc_ids = {ids.tolist()}, expected {want.tolist()}. {POS_HINT}")
    return pos


def test_mask_matches_brute_force(impl):
    ids = packed([3, 1, 4, 2], [7, 2, 9, 4])
    check_mask(impl, ids, f"document_causal_mask({ids.tolist()})")


def test_one_document_gives_the_causal_mask(impl):
    ids = torch.full((6,), 5, dtype=torch.int64)
    mask = impl.document_causal_mask(ids)
    expect_tensor(mask, "document_causal_mask of one document of 6 tokens", shape=(6, 6), dtype=torch.bool)
    want = torch.ones(6, 6, dtype=torch.bool).tril()
    expect(torch.equal(mask, want),
           f"with a single document the mask must be the causal mask tril(ones(6, 6)) (row t sees columns s ≤ t); got "
           f"{mask.int().tolist()} — is it transposed (s ≥ t), or not causal at all?")


def test_no_attention_across_documents(impl):
    ids = packed([4, 3, 5], [1, 0, 2])
    mask = check_mask(impl, ids, f"document_causal_mask({ids.tolist()})")
    cross = mask & (ids[:, None] != ids[None, :])
    expect(not cross.any(), f"document_causal_mask lets a token attend to another document at {cross.nonzero().tolist()}"
                            f" — AND the causal mask with doc_ids[t] == doc_ids[s].")


def test_masked_attention_equals_attention_per_document(impl):
    # Attention over the packed sequence with the mask must equal causal attention over each document alone.
    g = torch.Generator().manual_seed(0)
    lengths, labels = [3, 5, 2], [4, 1, 8]
    ids = packed(lengths, labels)
    q, k, v = (torch.randn(2, ids.numel(), 4, generator=g) for _ in range(3))
    mask = impl.document_causal_mask(ids)
    expect_tensor(mask, f"document_causal_mask({ids.tolist()})", shape=(10, 10), dtype=torch.bool)
    got = F.scaled_dot_product_attention(q.double(), k.double(), v.double(), attn_mask=mask)
    parts, start = [], 0
    for n in lengths:
        sl = slice(start, start + n)
        parts.append(F.scaled_dot_product_attention(q[:, sl].double(), k[:, sl].double(), v[:, sl].double(),
                                                    is_causal=True))
        start += n
    expect_close(got.float(), torch.cat(parts, dim=1).float(),
                 "SDPA over the packed sequence with your mask vs causal attention over each document separately",
                 atol=1e-6, hint=MASK_HINT)


def test_positions_restart_at_each_document(impl):
    ids = packed([3, 1, 4, 2], [7, 2, 9, 4])
    pos = check_positions(impl, ids, f"packed_position_ids({ids.tolist()})")
    expect(pos.tolist() == [0, 1, 2, 0, 0, 1, 2, 3, 0, 1], f"positions {pos.tolist()}. {POS_HINT}")


def test_positions_with_unsorted_arbitrary_labels(impl):
    # Labels that decrease and are far from 0..n-1: a method that assumes sorted or dense labels fails here.
    ids = packed([2, 3, 1, 3], [100, 3, 42, 0])
    check_positions(impl, ids, f"packed_position_ids({ids.tolist()})")
    ids = packed([4, 2], [-1, 5])
    check_positions(impl, ids, f"packed_position_ids({ids.tolist()})")


def test_one_document_positions_are_arange(impl):
    ids = torch.full((5,), 3, dtype=torch.int64)
    pos = check_positions(impl, ids, "packed_position_ids of one document of 5 tokens")
    expect(pos.tolist() == [0, 1, 2, 3, 4], f"one document must get positions 0..4, got {pos.tolist()}")


def test_deterministic(impl):
    ids = packed([2, 3], [1, 0])
    expect_deterministic(impl.document_causal_mask, ids, what="document_causal_mask")
    expect_deterministic(impl.packed_position_ids, ids, what="packed_position_ids")


@given(st.lists(st.integers(1, 5), min_size=1, max_size=5), st.integers(0, 2**16))
def test_property_random_packings(impl, lengths, seed):
    g = torch.Generator().manual_seed(seed)
    labels = (torch.randperm(50, generator=g)[:len(lengths)] - 10).tolist()  # distinct, unsorted, some negative
    ids = packed(lengths, labels)
    check_mask(impl, ids, f"document_causal_mask({ids.tolist()})")
    check_positions(impl, ids, f"packed_position_ids({ids.tolist()})")
