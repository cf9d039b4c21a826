"""lr-schedule: linear warmup from 0 to max_lr, cosine decay to min_lr at total_steps, then min_lr."""
import math

from genprep.learner.checks import expect, say

HINT = say(en="step < warmup: max_lr·step/warmup_steps; warmup ≤ step ≤ total: min_lr + ½(max_lr − min_lr)"
              "(1 + cos(π·(step − warmup)/(total − warmup))); step > total: min_lr.",
           zh="step < warmup：max_lr·step/warmup_steps；warmup ≤ step ≤ total：min_lr + ½(max_lr − min_lr)"
              "(1 + cos(π·(step − warmup)/(total − warmup)))；step > total：min_lr。")
MISTAKES = {
    "no_floor": say(en="no floor after total_steps, so the cosine climbs back up; return min_lr for step > total_steps.",
                    zh="total_steps 之后没有下限，余弦又爬了回去；step > total_steps 时要返回 min_lr。"),
    "ignores_min_lr": say(en="the cosine decays max_lr to 0, ½·max_lr·(1 + cos(...)); decay towards min_lr: "
                             "min_lr + ½(max_lr − min_lr)(1 + cos(...)).",
                          zh="余弦把 max_lr 衰减到了 0，½·max_lr·(1 + cos(...))；应衰减到 min_lr："
                             "min_lr + ½(max_lr − min_lr)(1 + cos(...))。"),
    "over_total": say(en="the cosine's progress measured as step/total_steps; it is (step − warmup)/(total − warmup), "
                         "0 at the end of warmup.",
                      zh="余弦的进度算成了 step/total_steps；应为 (step − warmup)/(total − warmup)，warmup 结束时为 0。"),
    "warmup_from_min_lr": say(en="the warmup starts from min_lr; it starts from 0: max_lr·step/warmup_steps.",
                              zh="warmup 从 min_lr 开始了；应从 0 开始：max_lr·step/warmup_steps。"),
    "warmup_off_by_one": say(en="the warmup uses (step + 1)/warmup_steps; use step/warmup_steps (0 at step 0).",
                             zh="warmup 用的是 (step + 1)/warmup_steps；应为 step/warmup_steps（step 0 时为 0）。"),
}


def mistake_value(mistake, step, max_lr, warmup, total, min_lr):
    """What one known mistake returns at this step."""
    def cosine(progress, low):
        return low + (max_lr - low) * (math.cos(math.pi * progress) + 1) / 2
    if step < warmup:
        if mistake == "warmup_from_min_lr":
            return min_lr + (max_lr - min_lr) * step / warmup
        if mistake == "warmup_off_by_one":
            return max_lr * (step + 1) / warmup
        return max_lr * step / warmup
    if step > total and mistake != "no_floor":
        return min_lr
    if mistake == "over_total":
        return cosine(step / total, min_lr)
    if mistake == "ignores_min_lr":
        return cosine((step - warmup) / (total - warmup), 0.0)
    return cosine((step - warmup) / (total - warmup), min_lr)


def cause_of(got, step, max_lr, warmup, total, min_lr, default=HINT):
    """The known mistake that returns `got` at this step, else `default`."""
    for mistake, cause in MISTAKES.items():
        if close(got, mistake_value(mistake, step, max_lr, warmup, total, min_lr)):
            return say(en="Your value is exactly what a known mistake gives: " + cause.en,
                       zh="你的值与一个常见错误的结果完全一致：" + cause.zh)
    return default

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
    try:
        value = impl.warmup_cosine_lr(*args)
    except ZeroDivisionError:
        if warmup != 0:
            raise
        expect(False, say(en=f"warmup_cosine_lr{args} divided by zero: with warmup_steps = 0 there is no warmup, so "
                             "never compute step / warmup_steps then — test step < warmup_steps first.",
                          zh=f"warmup_cosine_lr{args} 除以了 0：warmup_steps = 0 时没有 warmup，此时不能计算 "
                             "step / warmup_steps——先判断 step < warmup_steps。"))
    shown = f"{type(value).__name__} {value!r:.60}"
    expect(isinstance(value, float) and not isinstance(value, bool),
           say(en=f"warmup_cosine_lr{args} should return a Python float, got {shown} — use math.cos and plain "
                  "arithmetic (or call float(...) on a tensor).",
               zh=f"warmup_cosine_lr{args} 应返回 Python float，实际得到 {shown}——用 math.cos 和普通算术"
                  "（或对张量调用 float(...)）。"))
    return value


def close(a, b):
    return abs(a - b) <= 1e-12 + 1e-9 * abs(b)


def describe(step, warmup, total):
    if step < warmup:
        return say(en="during warmup", zh="warmup 阶段")
    return say(en="in the cosine phase", zh="余弦阶段") if step <= total else \
        say(en="after total_steps", zh="total_steps 之后")


def test_closed_form_at_every_step(impl):
    for max_lr, warmup, total, min_lr in SCHEDULES:
        for step in range(total + 4):
            got = call(impl, step, max_lr, warmup, total, min_lr)
            want = closed_form(step, max_lr, warmup, total, min_lr)
            if close(got, want):
                continue
            call_ = f"warmup_cosine_lr(step={step}, max_lr={max_lr}, warmup_steps={warmup}, total_steps={total}, " \
                    f"min_lr={min_lr})"
            phase, cause = describe(step, warmup, total), cause_of(got, step, max_lr, warmup, total, min_lr)
            expect(False, say(en=f"{call_} returned {got:.9g}, expected {want:.9g} ({phase.en}). {cause.en}",
                              zh=f"{call_} 返回 {got:.9g}，应为 {want:.9g}（{phase.zh}）。{cause.zh}"))


def test_default_min_lr_is_zero(impl):
    for step in (0, 3, 8, 20, 25):
        got, want = call(impl, step, 0.1, 4, 20), closed_form(step, 0.1, 4, 20, 0.0)
        cause = cause_of(got, step, 0.1, 4, 20, 0.0, say(en="The default min_lr is 0.0.", zh="min_lr 的默认值是 0.0。"))
        expect(close(got, want),
               say(en=f"warmup_cosine_lr({step}, 0.1, 4, 20) with the default min_lr returned {got:.9g}, expected "
                      f"{want:.9g}. {cause.en}",
                   zh=f"使用默认 min_lr 时 warmup_cosine_lr({step}, 0.1, 4, 20) 返回 {got:.9g}，应为 {want:.9g}——"
                      f"{cause.zh}"))


def test_warmup_is_linear_from_zero_and_peaks_at_its_end(impl):
    max_lr, warmup, total, min_lr = 1e-3, 8, 40, 2e-4
    first = call(impl, 0, max_lr, warmup, total, min_lr)
    cause = cause_of(first, 0, max_lr, warmup, total, min_lr,
                     say(en="The warmup starts from 0 (not from min_lr): max_lr·step/warmup_steps.",
                         zh="warmup 从 0 开始（不是从 min_lr）：max_lr·step/warmup_steps。"))
    expect(first == 0.0,
           say(en=f"warmup_cosine_lr(0, {max_lr}, {warmup}, {total}, min_lr={min_lr}) returned {first:.6g}, expected "
                  f"0.0. {cause.en}",
               zh=f"warmup_cosine_lr(0, {max_lr}, {warmup}, {total}, min_lr={min_lr}) 返回 {first:.6g}，应为 0.0——"
                  f"{cause.zh}"))
    before = call(impl, warmup - 1, max_lr, warmup, total, min_lr)
    want = max_lr * (warmup - 1) / warmup
    cause = cause_of(before, warmup - 1, max_lr, warmup, total, min_lr,
                     say(en="Use step/warmup_steps, not (step + 1)/warmup_steps.",
                         zh="用 step/warmup_steps，不要用 (step + 1)/warmup_steps。"))
    expect(close(before, want),
           say(en=f"the last warmup step (step {warmup - 1}) returned {before:.6g}, expected max_lr·{warmup - 1}/{warmup} "
                  f"= {want:.6g}. {cause.en}",
               zh=f"warmup 的最后一步（step {warmup - 1}）返回 {before:.6g}，应为 max_lr·{warmup - 1}/{warmup} "
                  f"= {want:.6g}——{cause.zh}"))
    peak = call(impl, warmup, max_lr, warmup, total, min_lr)
    cause = cause_of(peak, warmup, max_lr, warmup, total, min_lr,
                     say(en="The cosine's progress is (step − warmup)/(total − warmup), which is 0 there.",
                         zh="余弦的进度是 (step − warmup)/(total − warmup)，在这里为 0。"))
    expect(close(peak, max_lr),
           say(en=f"at step = warmup_steps = {warmup} the schedule must be at its peak max_lr = {max_lr} (continuous "
                  f"with the warmup), got {peak:.6g}. {cause.en}",
               zh=f"在 step = warmup_steps = {warmup} 处学习率必须达到峰值 max_lr = {max_lr}（与 warmup 衔接），"
                  f"实际为 {peak:.6g}——{cause.zh}"))


def test_no_warmup(impl):
    got = call(impl, 0, 0.5, 0, 10, 0.05)
    expect(close(got, 0.5),
           say(en=f"warmup_cosine_lr(0, 0.5, warmup_steps=0, 10, 0.05) returned {got:.6g}, expected the peak 0.5 — with "
                  "warmup_steps = 0 the cosine starts at step 0 (and nothing may divide by warmup_steps).",
               zh=f"warmup_cosine_lr(0, 0.5, warmup_steps=0, 10, 0.05) 返回 {got:.6g}，应为峰值 0.5——"
                  "warmup_steps = 0 时余弦从 step 0 开始（并且任何地方都不能除以 warmup_steps）。"))


def test_floor_after_warmup_and_after_the_end(impl):
    max_lr, warmup, total, min_lr = 1.0, 3, 15, 0.2
    values = [call(impl, s, max_lr, warmup, total, min_lr) for s in range(warmup, 3 * total)]
    low = min(values)
    expect(low >= min_lr - 1e-12,
           say(en=f"after warmup the lr fell to {low:.6g}, below min_lr = {min_lr} — decay "
                  "min_lr + ½(max_lr − min_lr)(1 + cos(...)), not ½·max_lr(1 + cos(...)).",
               zh=f"warmup 之后学习率降到了 {low:.6g}，低于 min_lr = {min_lr}——应按 "
                  "min_lr + ½(max_lr − min_lr)(1 + cos(...)) 衰减，而不是 ½·max_lr(1 + cos(...))。"))
    decreasing = all(a >= b - 1e-15 for a, b in zip(values, values[1:]))
    expect(decreasing,
           say(en="after warmup the lr must never increase — is the cosine's argument clamped at π after "
                  "total_steps (return min_lr for step > total_steps)?",
               zh="warmup 之后学习率绝不能上升——total_steps 之后余弦的自变量是否限制在了 π"
                  "（step > total_steps 时返回 min_lr）？"))
    for step in (total, total + 1, 2 * total, 3 * total):
        got = call(impl, step, max_lr, warmup, total, min_lr)
        cause = cause_of(got, step, max_lr, warmup, total, min_lr, say(en="", zh=""))
        expect(close(got, min_lr),
               say(en=f"warmup_cosine_lr({step}, {max_lr}, {warmup}, {total}, {min_lr}) returned {got:.6g}, expected "
                      f"min_lr = {min_lr} (at and after total_steps). {cause.en}".rstrip(),
                   zh=f"warmup_cosine_lr({step}, {max_lr}, {warmup}, {total}, {min_lr}) 返回 {got:.6g}，应为 "
                      f"min_lr = {min_lr}（在 total_steps 及之后）。{cause.zh}"))
