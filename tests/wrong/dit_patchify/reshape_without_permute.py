"""Known-wrong: a plain reshape (B, C, H, W) → (B, N, p·p·C) with no permute; the round trip works, but a token is
a run of consecutive memory, not a patch."""


def patchify(x, p):
    B, C, H, W = x.shape
    return x.reshape(B, (H // p) * (W // p), p * p * C)


def unpatchify(tokens, p, C, H, W):
    return tokens.reshape(tokens.size(0), C, H, W)
