"""Known-wrong: unpatchify permutes to (B, C, h, w, p, p) before merging, so each image row mixes pixels of
different patches; the inverse needs (B, C, h, p, w, p)."""
import torch


def patchify(x, p):
    B, C, H, W = x.shape
    h, w = H // p, W // p
    x = x.reshape(B, C, h, p, w, p).permute(0, 2, 4, 3, 5, 1)
    return x.reshape(B, h * w, p * p * C)


def unpatchify(tokens, p, C, H, W):
    B = tokens.size(0)
    h, w = H // p, W // p
    x = tokens.reshape(B, h, w, p, p, C).permute(0, 5, 1, 2, 3, 4)  # should be (0, 5, 1, 3, 2, 4)
    return x.reshape(B, C, H, W)
