"""loss-scaler: dynamic loss scaling (GradScaler's rule) — back off on overflow, grow after growth_interval clean steps."""
import random

import pytest
import torch

from genprep.learner.checks import expect, expect_close

HINT = ("update(found_inf): on overflow scale *= backoff_factor and the clean-step count goes back to 0; on a clean "
        "step the count goes up by 1, and when it reaches growth_interval scale *= growth_factor and the count "
        "goes back to 0.")


def replay(flags, init, growth, backoff, interval):
    """Closed-form replay of GradScaler's rule: the scale after each update."""
    scale, clean, out = init, 0, []
    for overflow in flags:
        if overflow:
            scale, clean = scale * backoff, 0
        else:
            clean += 1
            if clean == interval:
                scale, clean = scale * growth, 0
        out.append(scale)
    return out


def scale_of(scaler, what):
    s = getattr(scaler, "scale", None)
    expect(isinstance(s, (float, int)) or (isinstance(s, torch.Tensor) and s.numel() == 1),
           f"{what}: LossScaler.scale should be a float (or a 0-dim tensor), got {type(s).__name__}")
    return float(s)


def run(impl, flags, init, growth, backoff, interval, what, as_tensor=False):
    scaler = impl.LossScaler(init_scale=init, growth_factor=growth, backoff_factor=backoff, growth_interval=interval)
    want = replay(flags, init, growth, backoff, interval)
    expect(abs(scale_of(scaler, what) - init) <= 1e-9 * init,
           f"{what}: the scale must start at init_scale = {init}, got {scale_of(scaler, what)}")
    history = []
    for k, overflow in enumerate(flags):
        scaler.update(torch.tensor(overflow) if as_tensor else overflow)
        got = scale_of(scaler, what)
        history.append("inf" if overflow else "ok")
        expect(abs(got - want[k]) <= 1e-6 * want[k],
               f"{what}: after the updates [{', '.join(history[-8:])}] (update {k + 1}, last 8 shown) the scale is "
               f"{got:g}, expected {want[k]:g}. {HINT}")


def test_scale_trajectory_matches_replay_of_random_overflows(impl):
    configs = [(1024.0, 2.0, 0.5, 3), (2.0 ** 10, 4.0, 0.25, 1), (100.0, 1.5, 0.8, 5)]
    for seed, (init, growth, backoff, interval) in enumerate(configs):
        rng = random.Random(seed)
        flags = [rng.random() < 0.25 for _ in range(60)]
        run(impl, flags, init, growth, backoff, interval,
            f"LossScaler(init_scale={init:g}, growth_factor={growth}, backoff_factor={backoff}, "
            f"growth_interval={interval}) over 60 random updates")


def test_overflow_resets_the_clean_step_count(impl):
    flags = [False, False, True, False, False, False, False]
    run(impl, flags, 1024.0, 2.0, 0.5, 3,
        "LossScaler(1024, growth_interval=3) with updates ok, ok, inf, ok, ok, ok, ok")


def test_grows_after_exactly_growth_interval_clean_steps_and_counts_again(impl):
    run(impl, [False] * 7, 8.0, 2.0, 0.5, 3, "LossScaler(8, growth_interval=3) after 7 clean updates")


def test_default_settings(impl):
    scaler = impl.LossScaler()
    expect(scale_of(scaler, "LossScaler()") == 65536.0,
           f"LossScaler() must start at scale 65536.0 (2¹⁶), got {scale_of(scaler, 'LossScaler()')}")
    for _ in range(1999):
        scaler.update(False)
    got = scale_of(scaler, "LossScaler()")
    expect(got == 65536.0, f"LossScaler() after 1999 clean updates has scale {got:g}, expected 65536 — the default "
           "growth_interval is 2000.")
    scaler.update(False)
    got = scale_of(scaler, "LossScaler()")
    expect(got == 131072.0, f"LossScaler() after 2000 clean updates has scale {got:g}, expected 131072 (×2).")
    scaler.update(True)
    got = scale_of(scaler, "LossScaler()")
    expect(got == 65536.0, f"after an overflow the default backoff_factor 0.5 should halve 131072, got {got:g}.")


def test_update_accepts_0_dim_bool_tensors(impl):
    rng = random.Random(7)
    flags = [rng.random() < 0.3 for _ in range(30)]
    run(impl, flags, 512.0, 2.0, 0.5, 2, "LossScaler(512, growth_interval=2) fed torch.tensor(True/False)",
        as_tensor=True)


def test_unscale_divides_and_detects_inf_and_nan(impl):
    scaler = impl.LossScaler(init_scale=1000.0, growth_interval=1)
    g = torch.Generator().manual_seed(0)
    grads = [1000 * torch.randn(3, 4, generator=g), 1000 * torch.randn(5, generator=g)]
    out, found = scaler.unscale([t.clone() for t in grads])
    expect(isinstance(out, (list, tuple)) and len(out) == 2,
           f"unscale(grads) should return (list of 2 unscaled tensors, found_inf), got {type(out).__name__}")
    for i, (o, t) in enumerate(zip(out, grads)):
        expect_close(o, t / 1000.0, f"unscale(grads)[0][{i}] with scale 1000", atol=0.0, rtol=1e-6,
                     hint="Unscaling divides every gradient by the current scale (the loss was multiplied by it).")
    expect(not bool(found), "unscale reported found_inf = True for finite gradients.")
    expect(scale_of(scaler, "LossScaler(1000)") == 1000.0,
           "unscale changed the scale — only update(found_inf) may change it.")
    for bad, name in ((float("inf"), "inf"), (float("-inf"), "-inf"), (float("nan"), "NaN")):
        grads2 = [t.clone() for t in grads]
        grads2[1][3] = bad
        _, found = scaler.unscale(grads2)
        expect(bool(found), f"unscale did not report an overflow for a gradient containing {name} — check every "
               "tensor with torch.isfinite (isinf alone misses NaN, which an fp16 overflow also produces).")
    scaler.update(False)  # growth_interval=1: the scale doubles, and unscale must use the new value
    out, _ = scaler.unscale([grads[0].clone()])
    expect_close(out[0], grads[0] / 2000.0, "unscale after one clean update (scale now 2000)", atol=0.0, rtol=1e-6,
                 hint="unscale must divide by the CURRENT scale.")


# torch._amp_update_scale_ is the op torch.amp.GradScaler.update() runs; it also works on CPU tensors. It is private:
# if a PyTorch lacks it this test is skipped, and the closed-form replay above still rejects every known mistake.
@pytest.mark.skipif(not hasattr(torch, "_amp_update_scale_"), reason="this PyTorch has no torch._amp_update_scale_")
def test_matches_the_kernel_behind_grad_scaler_update(impl):
    kernel = torch._amp_update_scale_
    rng = random.Random(11)
    flags = [rng.random() < 0.2 for _ in range(40)]
    scale, tracker = torch.tensor(256.0), torch.tensor(0, dtype=torch.int32)
    scaler = impl.LossScaler(init_scale=256.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=4)
    for k, overflow in enumerate(flags):
        kernel(scale, tracker, torch.tensor(float(overflow)), 2.0, 0.5, 4)
        scaler.update(overflow)
        got = scale_of(scaler, "LossScaler(256, growth_interval=4)")
        expect(abs(got - scale.item()) <= 1e-6 * scale.item(),
               f"after update {k + 1} of a random overflow sequence LossScaler(256, growth_interval=4) has scale "
               f"{got:g}, while GradScaler's update kernel gives {scale.item():g}. {HINT}")
