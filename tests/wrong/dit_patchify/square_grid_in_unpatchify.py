"""Known-wrong: unpatchify infers the grid as h = w = √N (as DiT's own code does, for square latents) instead of
using H and W; non-square images break."""
import torch


def patchify(x, p):
    B, C, H, W = x.shape
    h, w = H // p, W // p
    x = x.reshape(B, C, h, p, w, p).permute(0, 2, 4, 3, 5, 1)
    return x.reshape(B, h * w, p * p * C)


def unpatchify(tokens, p, C, H, W):
    B, N, _ = tokens.shape
    h = w = int(N ** 0.5)
    x = tokens[:, : h * w].reshape(B, h, w, p, p, C).permute(0, 5, 1, 3, 2, 4)
    return x.reshape(B, C, h * p, w * p)
