"""genprep.learner.optim.Adam follows torch.optim.Adam step by step."""
import torch

from genprep.learner.optim import Adam


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))


def _train(model, opt, steps=25):
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        x = torch.randn(16, 5, generator=g)
        loss = (model(x) - x[:, :3].sin()).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_matches_torch_adam_over_many_steps():
    for kwargs in ({"lr": 1e-2}, {"lr": 3e-3, "betas": (0.5, 0.999)}, {"lr": 0.1, "betas": (0.8, 0.9), "eps": 1e-6}):
        ours, theirs = _model(), _model()
        _train(ours, Adam(ours.parameters(), **kwargs))
        _train(theirs, torch.optim.Adam(theirs.parameters(), **kwargs))
        moved = max((a - b).abs().max().item() for a, b in zip(ours.parameters(), _model().parameters()))
        assert moved > 1e-2  # the comparison below is not between two untouched models
        for a, b in zip(ours.parameters(), theirs.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_parameters_without_gradient_stay_put():
    frozen, trained = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(3))
    opt = Adam([frozen, trained], lr=0.1)
    (trained * torch.arange(3.0)).sum().backward()
    opt.step()
    assert torch.equal(frozen, torch.ones(3))
    assert torch.allclose(trained, torch.tensor([1.0, 0.9, 0.9]))  # first Adam step moves by lr·sign(g)
    opt.zero_grad()
    assert trained.grad is None
