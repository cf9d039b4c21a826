"""lr-schedule: linear warmup from 0 to max_lr, cosine decay to min_lr at total_steps, then min_lr."""
import math

from genprep.learner.checks import expect

HINT = ("step < warmup: max_lr·step/warmup_steps; warmup ≤ step ≤ total: min_lr + ½(max_lr − min_lr)"
        "(1 + cos(π·(step − warmup)/(total − warmup))); step > total: min_lr.")

SCHEDULES = [  # (max_lr, warmup_steps, total_steps, min_lr)
    (1e-3, 10, 50, 1e-5),
    (3e-4, 5, 20, 0.0),
    (1.0, 0, 12, 0.1),
    (2.0, 1, 7, 0.5),
    (6e-4, 4, 5, 6e-5),
]


def closed_form(step, max_lr, warmup, total, min_lr):
    if step < warmup:
        return max_lr * step / warmup
    if step >= total:
        return min_lr
    return min_lr + (max_lr - min_lr) * (math.cos(math.pi * (step - warmup) / (total - warmup)) + 1) / 2


def call(impl, step, max_lr, warmup, total, min_lr=None):
    args = (step, max_lr, warmup, total) if min_lr is None else (step, max_lr, warmup, total, min_lr)
    value = impl.warmup_cosine_lr(*args)
    expect(isinstance(value, float) and not isinstance(value, bool),
           f"warmup_cosine_lr{args} should return a Python float, got {type(value).__name__} {value!r:.60} — "
           "use math.cos and plain arithmetic (or call float(...) on a tensor).")
    return value


def close(a, b):
    return abs(a - b) <= 1e-12 + 1e-9 * abs(b)


def describe(step, warmup, total):
    if step < warmup:
        return "during warmup"
    return "in the cosine phase" if step <= total else "after total_steps"


def test_closed_form_at_every_step(impl):
    for max_lr, warmup, total, min_lr in SCHEDULES:
        for step in range(total + 4):
            got = call(impl, step, max_lr, warmup, total, min_lr)
            want = closed_form(step, max_lr, warmup, total, min_lr)
            expect(close(got, want),
                   f"warmup_cosine_lr(step={step}, max_lr={max_lr}, warmup_steps={warmup}, total_steps={total}, "
                   f"min_lr={min_lr}) returned {got:.9g}, expected {want:.9g} ({describe(step, warmup, total)}). "
                   f"{HINT}")


def test_default_min_lr_is_zero(impl):
    for step in (0, 3, 8, 20, 25):
        got, want = call(impl, step, 0.1, 4, 20), closed_form(step, 0.1, 4, 20, 0.0)
        expect(close(got, want), f"warmup_cosine_lr({step}, 0.1, 4, 20) with the default min_lr returned {got:.9g}, "
               f"expected {want:.9g} — the default min_lr is 0.0.")


def test_warmup_is_linear_from_zero_and_peaks_at_its_end(impl):
    max_lr, warmup, total, min_lr = 1e-3, 8, 40, 2e-4
    first = call(impl, 0, max_lr, warmup, total, min_lr)
    expect(first == 0.0, f"warmup_cosine_lr(0, {max_lr}, {warmup}, {total}, min_lr={min_lr}) returned {first:.6g}, "
           "expected 0.0 — the warmup starts from 0 (not from min_lr): max_lr·step/warmup_steps.")
    before = call(impl, warmup - 1, max_lr, warmup, total, min_lr)
    expect(close(before, max_lr * (warmup - 1) / warmup),
           f"the last warmup step (step {warmup - 1}) returned {before:.6g}, expected max_lr·{warmup - 1}/{warmup} = "
           f"{max_lr * (warmup - 1) / warmup:.6g} — use step/warmup_steps, not (step + 1)/warmup_steps.")
    peak = call(impl, warmup, max_lr, warmup, total, min_lr)
    expect(close(peak, max_lr), f"at step = warmup_steps = {warmup} the schedule must be at its peak max_lr = "
           f"{max_lr} (continuous with the warmup), got {peak:.6g} — the cosine's progress is "
           "(step − warmup)/(total − warmup), which is 0 there.")


def test_no_warmup(impl):
    got = call(impl, 0, 0.5, 0, 10, 0.05)
    expect(close(got, 0.5), f"warmup_cosine_lr(0, 0.5, warmup_steps=0, 10, 0.05) returned {got:.6g}, expected the peak "
           "0.5 — with warmup_steps = 0 the cosine starts at step 0 (and nothing may divide by warmup_steps).")


def test_floor_after_warmup_and_after_the_end(impl):
    max_lr, warmup, total, min_lr = 1.0, 3, 15, 0.2
    values = [call(impl, s, max_lr, warmup, total, min_lr) for s in range(warmup, 3 * total)]
    low = min(values)
    expect(low >= min_lr - 1e-12, f"after warmup the lr fell to {low:.6g}, below min_lr = {min_lr} — decay "
           "min_lr + ½(max_lr − min_lr)(1 + cos(...)), not ½·max_lr(1 + cos(...)).")
    decreasing = all(a >= b - 1e-15 for a, b in zip(values, values[1:]))
    expect(decreasing, "after warmup the lr must never increase — is the cosine's argument clamped at π after "
           "total_steps (return min_lr for step > total_steps)?")
    for step in (total, total + 1, 2 * total, 3 * total):
        got = call(impl, step, max_lr, warmup, total, min_lr)
        expect(close(got, min_lr), f"warmup_cosine_lr({step}, {max_lr}, {warmup}, {total}, {min_lr}) returned "
               f"{got:.6g}, expected min_lr = {min_lr} (at and after total_steps).")
