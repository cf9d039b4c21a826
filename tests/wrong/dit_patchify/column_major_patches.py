"""Known-wrong: numbers the patches column by column (top to bottom, then left to right) instead of row-major."""
import torch


def patchify(x, p):
    B, C, H, W = x.shape
    h, w = H // p, W // p
    x = x.reshape(B, C, h, p, w, p).permute(0, 4, 2, 3, 5, 1)  # (B, w, h, p, p, C): the grid transposed
    return x.reshape(B, h * w, p * p * C)


def unpatchify(tokens, p, C, H, W):
    B = tokens.size(0)
    h, w = H // p, W // p
    x = tokens.reshape(B, w, h, p, p, C).permute(0, 5, 2, 3, 1, 4)
    return x.reshape(B, C, H, W)
