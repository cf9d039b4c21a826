"""document-mask: document_causal_mask(doc_ids) and packed_position_ids(doc_ids) for packed sequences."""
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from genprep.learner.checks import expect, expect_close, expect_deterministic, expect_tensor, say

MASK_HINT = say(en="mask[t, s] is True exactly where s ≤ t (causal: row t is the query, column s the key) AND "
                   "doc_ids[s] == doc_ids[t] (same document): compare doc_ids[:, None] == doc_ids[None, :] and AND it "
                   "with a lower-triangular (tril) matrix.",
                zh="mask[t, s] 恰好在 s ≤ t（因果：第 t 行是查询，第 s 列是键）且 doc_ids[s] == doc_ids[t]（同一文档）"
                   "时为 True：比较 doc_ids[:, None] == doc_ids[None, :]，再与下三角（tril）矩阵做与运算。")
POS_HINT = say(en="Positions count 0, 1, 2, … inside each document and restart at 0 wherever doc_ids changes from the "
                  "previous token; the labels themselves are arbitrary (not 0, 1, 2, … and not sorted), so use where "
                  "the label CHANGES, not its value.",
               zh="位置在每个文档内按 0, 1, 2, … 计数，只要 doc_ids 与前一个 token 不同就从 0 重新开始；标签本身是任意的"
                  "（不是 0, 1, 2, …，也没有排序），所以要看标签在哪里发生变化，而不是看它的值。")


def mask_cause(mask, ids):
    """The usual cause of a wrong mask (a Msg), or MASK_HINT."""
    T = ids.numel()
    same = ids[:, None] == ids[None, :]
    tril = torch.ones(T, T, dtype=torch.bool).tril()
    if torch.equal(mask, tril):
        return say(en="This is the plain causal mask: tokens attend to earlier DOCUMENTS too. AND it with "
                      "doc_ids[:, None] == doc_ids[None, :].",
                   zh="这是普通的因果掩码：token 也会关注之前的其他文档。要再与 doc_ids[:, None] == doc_ids[None, :] "
                      "做与运算。")
    if torch.equal(mask, same):
        return say(en="The mask is block-diagonal by document but not causal: tokens see later tokens of their own "
                      "document. AND it with tril.",
                   zh="掩码按文档分块对角，但不是因果的：token 能看到同一文档中后面的 token。要再与 tril 做与运算。")
    if torch.equal(mask, same & tril.T):
        return say(en="The mask is transposed (triu, s ≥ t): row t is the query and must see the keys s ≤ t. Use tril.",
                   zh="掩码转置了（triu，s ≥ t）：第 t 行是查询，应看到 s ≤ t 的键。要用 tril。")
    return MASK_HINT


def positions_cause(pos, ids, want):
    """The usual cause of wrong positions (a Msg), or POS_HINT."""
    if torch.equal(pos, torch.arange(ids.numel())):
        return say(en="Positions run 0..T−1 over the whole packed row; restart them at 0 at each document.",
                   zh="位置在整个打包序列上从 0 数到 T−1；应在每个文档开头重新从 0 开始。")
    if torch.equal(pos, want + 1):
        return say(en="Positions start at 1; each document starts at 0, as it would alone.",
                   zh="位置从 1 开始了；每个文档都应像单独出现时一样从 0 开始。")
    return POS_HINT


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
        cause, rel = mask_cause(mask, ids), "≤" if s <= t else ">"
        expect(False, say(en=f"{what} is wrong at {len(bad)} of {T * T} entries; first at [t={t}, s={s}]: got "
                             f"{bool(mask[t, s])}, expected {bool(want[t, s])} (doc_ids[t]={int(ids[t])}, "
                             f"doc_ids[s]={int(ids[s])}, s {rel} t). {cause.en}",
                          zh=f"{what} 在 {T * T} 个元素中错了 {len(bad)} 个；第一个在 [t={t}, s={s}]：得到 "
                             f"{bool(mask[t, s])}，应为 {bool(want[t, s])}（doc_ids[t]={int(ids[t])}，"
                             f"doc_ids[s]={int(ids[s])}，s {rel} t）。{cause.zh}"))
    return mask


def check_positions(impl, ids, what):
    pos = impl.packed_position_ids(ids)
    expect_tensor(pos, what, shape=(ids.numel(),), dtype=torch.int64)
    want = brute_positions(ids)
    bad = (pos != want).nonzero()
    if len(bad):
        t = int(bad[0])
        cause = positions_cause(pos, ids, want)
        expect(False, say(en=f"{what} is wrong at {len(bad)} of {ids.numel()} positions; first at t={t}: got "
                             f"{int(pos[t])}, expected {int(want[t])}. doc_ids = {ids.tolist()}, expected "
                             f"{want.tolist()}. {cause.en}",
                          zh=f"{what} 在 {ids.numel()} 个位置中错了 {len(bad)} 个；第一个在 t={t}：得到 {int(pos[t])}，"
                             f"应为 {int(want[t])}。doc_ids = {ids.tolist()}，应得到 {want.tolist()}。{cause.zh}"))
    return pos


def test_mask_matches_brute_force(impl):
    ids = packed([3, 1, 4, 2], [7, 2, 9, 4])
    check_mask(impl, ids, f"document_causal_mask({ids.tolist()})")


def test_one_document_gives_the_causal_mask(impl):
    ids = torch.full((6,), 5, dtype=torch.int64)
    mask = impl.document_causal_mask(ids)
    expect_tensor(mask, say(en="document_causal_mask of one document of 6 tokens",
                            zh="只有一个 6 token 文档时的 document_causal_mask"), shape=(6, 6), dtype=torch.bool)
    want = torch.ones(6, 6, dtype=torch.bool).tril()
    cause = mask_cause(mask, ids)
    expect(torch.equal(mask, want),
           say(en=f"with a single document the mask must be the causal mask tril(ones(6, 6)) (row t sees columns "
                  f"s ≤ t); got {mask.int().tolist()} — is it transposed (s ≥ t), or not causal at all? {cause.en}",
               zh=f"只有一个文档时，掩码必须是因果掩码 tril(ones(6, 6))（第 t 行看到 s ≤ t 的列）；实际是 "
                  f"{mask.int().tolist()}——是不是转置了（s ≥ t），或者根本不是因果的？{cause.zh}"))


def test_no_attention_across_documents(impl):
    ids = packed([4, 3, 5], [1, 0, 2])
    mask = check_mask(impl, ids, f"document_causal_mask({ids.tolist()})")
    cross = mask & (ids[:, None] != ids[None, :])
    expect(not cross.any(),
           say(en=f"document_causal_mask lets a token attend to another document at {cross.nonzero().tolist()} — AND "
                  "the causal mask with doc_ids[t] == doc_ids[s].",
               zh=f"document_causal_mask 让 token 在 {cross.nonzero().tolist()} 处关注了另一个文档——要把因果掩码与 "
                  "doc_ids[t] == doc_ids[s] 做与运算。"))


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
                 say(en="SDPA over the packed sequence with your mask vs causal attention over each document separately",
                     zh="用你的掩码在打包序列上做 SDPA，与在每个文档上单独做因果注意力的比较"),
                 atol=1e-6, hint=mask_cause(mask, ids))


def test_positions_restart_at_each_document(impl):
    ids = packed([3, 1, 4, 2], [7, 2, 9, 4])
    pos = check_positions(impl, ids, f"packed_position_ids({ids.tolist()})")
    expect(pos.tolist() == [0, 1, 2, 0, 0, 1, 2, 3, 0, 1],
           say(en=f"positions {pos.tolist()}. {POS_HINT.en}", zh=f"位置为 {pos.tolist()}。{POS_HINT.zh}"))


def test_positions_with_unsorted_arbitrary_labels(impl):
    # Labels that decrease and are far from 0..n-1: a method that assumes sorted or dense labels fails here.
    ids = packed([2, 3, 1, 3], [100, 3, 42, 0])
    check_positions(impl, ids, f"packed_position_ids({ids.tolist()})")
    ids = packed([4, 2], [-1, 5])
    check_positions(impl, ids, f"packed_position_ids({ids.tolist()})")


def test_one_document_positions_are_arange(impl):
    ids = torch.full((5,), 3, dtype=torch.int64)
    pos = check_positions(impl, ids, f"packed_position_ids({ids.tolist()})")
    expect(pos.tolist() == [0, 1, 2, 3, 4], say(en=f"one document must get positions 0..4, got {pos.tolist()}",
                                                zh=f"单个文档的位置必须是 0..4，实际是 {pos.tolist()}"))


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
