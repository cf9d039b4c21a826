"""dcgan-architecture: DCGenerator z (B, z_dim) -> (B, 1, 8, 8) in [−1, 1]; DCDiscriminator images -> (B,) logits."""
import contextlib

import torch
import torch.nn.functional as F

from genprep.checks import expect, expect_tensor
from genprep.datasets import digits
from genprep.optim import Adam  # torch.optim would import torch._dynamo: ~1 s per run

HINT = ("Generator: transposed convolutions (kernel 4, stride 2, padding 1 doubles H and W) from a small feature "
        "map up to 8×8, tanh at the output. Discriminator: strided convolutions down to one logit per image, "
        "no sigmoid (the losses take logits), output flattened to (B,).")


@contextlib.contextmanager
def one_thread():
    # tiny models: thread start-up and contention cost far more than they save, badly so on a busy machine
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def digit_images():
    """sklearn's 1797 bundled 8×8 digit images (pixel values 0..16), scaled to [−1, 1], as (N, 1, 8, 8)."""
    pixels, _ = digits()
    return torch.tensor(pixels, dtype=torch.float32).reshape(-1, 1, 8, 8) / 8.0 - 1.0


def test_shapes_compose(impl):
    for z_dim, base, B in ((16, 32, 5), (7, 8, 3)):
        G, D = impl.DCGenerator(z_dim, base=base), impl.DCDiscriminator(base=base)
        z = torch.randn(B, z_dim)
        x = G(z)
        expect_tensor(x, f"DCGenerator({z_dim}, base={base})(z of shape ({B}, {z_dim}))", shape=(B, 1, 8, 8),
                      dtype=torch.float32)
        logits = D(x)
        expect_tensor(logits, f"DCDiscriminator(base={base})(G(z)) for a batch of {B}", shape=(B,),
                      dtype=torch.float32)
    G, D = impl.DCGenerator(10), impl.DCDiscriminator()
    expect_tensor(G(torch.randn(4, 10)), "DCGenerator(10) with the default base", shape=(4, 1, 8, 8))
    expect_tensor(D(torch.rand(4, 1, 8, 8) * 2 - 1), "DCDiscriminator() on real-sized images (4, 1, 8, 8)", shape=(4,))


def test_generator_output_covers_the_data_range(impl):
    G = impl.DCGenerator(16, base=16)
    with torch.no_grad():
        x = G(100 * torch.randn(64, 16))  # huge inputs saturate whatever the output nonlinearity is
        y = G(torch.randn(64, 16))
    lo, hi = min(x.min().item(), y.min().item()), max(x.max().item(), y.max().item())
    expect(-1.0 - 1e-6 <= lo and hi <= 1.0 + 1e-6,
           f"the generator's outputs range over [{lo:.3g}, {hi:.3g}] but must stay in [−1, 1] like the data — "
           "end the generator with tanh.")
    expect(lo < -0.05 and hi > 0.05,
           f"the generator's outputs range over [{lo:.3g}, {hi:.3g}]; it must be able to produce negative values "
           "(most pixels of the data are −1). A sigmoid output lives in [0, 1] and can never match data "
           "scaled to [−1, 1]; use tanh.")


def test_gradients_reach_every_parameter(impl):
    G, D = impl.DCGenerator(8, base=8), impl.DCDiscriminator(base=8)
    real = torch.rand(6, 1, 8, 8) * 2 - 1
    loss = F.softplus(D(G(torch.randn(6, 8)))).mean() + F.softplus(-D(real)).mean()
    loss.backward()
    for net_name, net in (("DCGenerator", G), ("DCDiscriminator", D)):
        params = list(net.named_parameters())
        expect(len(params) > 0, f"{net_name} has no parameters — register its layers as submodules")
        for name, p in params:
            expect(p.grad is not None and bool(p.grad.abs().sum() > 0),
                   f"{net_name} parameter {name!r} got no gradient from D(G(z)) — is the layer used in forward, "
                   "and is nothing detached or computed with numpy?")


def bce(logits, target):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def split_digits():
    X = digit_images()
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(0))
    return X[perm[:1500]], X[perm[1500:]]  # 1500 for training, 297 held out


def adam(module):
    return Adam(module.parameters(), lr=2e-3, betas=(0.5, 0.999))


def test_short_training_moves_the_discriminator_accuracy_off_chance(impl):
    # D alone, against a fixed untrained G: telling digits from G's samples is easy for any working D
    # (the reference is at ~100% after 10 steps), and impossible for one whose "logits" are not logits.
    train, held_out = split_digits()
    g = torch.Generator().manual_seed(1)
    torch.manual_seed(0)
    z_dim, B, steps = 16, 64, 30
    G, D = impl.DCGenerator(z_dim, base=16), impl.DCDiscriminator(base=16)
    opt_D = adam(D)
    with one_thread():
        for _ in range(steps):
            real = train[torch.randint(0, len(train), (B,), generator=g)]
            with torch.no_grad():
                fake = G(torch.randn(B, z_dim, generator=g))
            opt_D.zero_grad()
            (bce(D(real), 1.0) + bce(D(fake), 0.0)).backward()
            opt_D.step()
        with torch.no_grad():  # same mode as in training: separate real and fake batches
            real_right = (D(held_out) > 0).float().mean().item()
            fake_right = (D(G(torch.randn(len(held_out), z_dim, generator=g))) < 0).float().mean().item()
    accuracy = 0.5 * (real_right + fake_right)
    expect(accuracy > 0.8,
           f"after {steps} Adam steps training D alone on 8×8 digits (label 1) against samples of an untrained G "
           f"(label 0), D's accuracy on held-out digits and fresh samples is {accuracy:.3f} (real {real_right:.2f}, "
           f"fake {fake_right:.2f}); it should be far above chance (> 0.8), reading logit > 0 as 'real'. Does D "
           "return raw logits (no sigmoid), one per image, and do gradients reach all its layers? " + HINT)


def test_short_adversarial_training_moves_the_generator_towards_the_data(impl):
    train, _ = split_digits()
    g = torch.Generator().manual_seed(2)
    torch.manual_seed(0)
    z_dim, B, steps = 16, 64, 100
    G, D = impl.DCGenerator(z_dim, base=16), impl.DCDiscriminator(base=16)
    opt_G, opt_D = adam(G), adam(D)

    def mean_image_error():
        with torch.no_grad():
            return (G(torch.randn(500, z_dim, generator=g)).mean(0) - train.mean(0)).pow(2).mean().item()

    error_before = mean_image_error()
    with one_thread():
        for _ in range(steps):
            real = train[torch.randint(0, len(train), (B,), generator=g)]
            fake = G(torch.randn(B, z_dim, generator=g))
            opt_D.zero_grad()
            (bce(D(real), 1.0) + bce(D(fake.detach()), 0.0)).backward()
            opt_D.step()
            opt_G.zero_grad()
            bce(D(fake), 1.0).backward()
            opt_G.step()
        error_after = mean_image_error()
    # the reference ends near 0.03 from about 0.4; 'halved' leaves a wide margin for other designs
    expect(error_after < 0.5 * error_before,
           f"after {steps} adversarial steps on 8×8 digits the squared error between G's mean image and the data's "
           f"mean image went from {error_before:.3f} to {error_after:.3f}; it should at least halve as G learns where "
           "the strokes and the (−1) background are. " + HINT)
