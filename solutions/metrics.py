r"""Evaluation metrics for generative models: the Fréchet distance behind FID,
the Inception Score, and perplexity.

**Fréchet distance.** FID fits a Gaussian to Inception features of real and of
generated images and reports the squared 2-Wasserstein (Fréchet) distance
between the two Gaussians:

$$d^2 = \lVert\mu_1-\mu_2\rVert^2 + \operatorname{Tr}\big(\Sigma_1+\Sigma_2-2(\Sigma_1^{1/2}\Sigma_2\Sigma_1^{1/2})^{1/2}\big).$$

Heusel et al., *GANs Trained by a Two Time-Scale Update Rule Converge to a
Local Nash Equilibrium*, arXiv:1706.08500.

**Inception Score.** With a classifier's $p(y\mid x)$ on generated samples and
the marginal $p(y) = \mathbb E_x[p(y\mid x)]$,

$$\mathrm{IS} = \exp\big(\mathbb E_x\, D_{\mathrm{KL}}(p(y\mid x)\,\|\,p(y))\big),$$

high when each sample is confidently one class and the classes are diverse.
Salimans et al., *Improved Techniques for Training GANs*, arXiv:1606.03498.

**Perplexity.** $\mathrm{PPL} = \exp\big(-\frac1N\sum_t \log p(x_t\mid x_{<t})\big)$
over the $N$ non-padding tokens: the exponential of the mean token
cross-entropy in nats.

**pass@k.** With $n$ samples per problem of which $c$ pass the unit tests,
the probability that at least one of $k$ samples drawn without replacement
passes is estimated without bias by

$$\text{pass@}k = 1 - \binom{n-c}{k}\Big/\binom{n}{k} = 1 - \prod_{i=n-c+1}^{n}\Big(1 - \frac{k}{i}\Big),$$

the product form never forming a huge binomial. Chen et al., *Evaluating
Large Language Models Trained on Code*, arXiv:2107.03374.

**BLEU** (corpus level): modified n-gram precisions $p_n$ (each n-gram's count
clipped by its largest count in any one reference, pooled over the corpus),
their geometric mean, and a brevity penalty for a corpus shorter than its
references, $\mathrm{BLEU} = \mathrm{BP}\cdot\exp\big(\tfrac1N\sum_n \log p_n\big)$,
$\mathrm{BP} = \min(1, e^{1 - r/c})$. Papineni et al., *BLEU: a Method for
Automatic Evaluation of Machine Translation*, ACL 2002, doi:10.3115/1073083.1073135.

**ROUGE-L**: precision and recall of the longest common subsequence (LCS)
of candidate and reference, combined as
$F_\beta = (1+\beta^2)PR/(R+\beta^2P)$. Lin, *ROUGE: A Package for Automatic
Evaluation of Summaries*, ACL Workshop 2004.
"""
from __future__ import annotations

import math
from collections import Counter

import torch


def _sqrt_psd(m: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of a symmetric positive semi-definite matrix via eigh."""
    w, v = torch.linalg.eigh(m)  # m = V diag(w) Vᵀ
    return (v * w.clamp(min=0).sqrt()) @ v.transpose(-2, -1)  # V diag(√w) Vᵀ


def frechet_distance(mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor,
                     sigma2: torch.Tensor) -> torch.Tensor:
    r"""Squared Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2).

    mu1, mu2: (d,); sigma1, sigma2: (d, d) symmetric positive semi-definite.
    Returns a 0-dim tensor in the inputs' dtype:
    ‖μ1 − μ2‖² + Tr(Σ1 + Σ2 − 2(Σ1^{½} Σ2 Σ1^{½})^{½}).
    """
    dtype = mu1.dtype
    mu1, mu2, sigma1, sigma2 = (t.double() for t in (mu1, mu2, sigma1, sigma2))
    root1 = _sqrt_psd(sigma1)  # Σ1^{½}
    middle = root1 @ sigma2 @ root1  # symmetric PSD, similar to Σ1Σ2
    middle = 0.5 * (middle + middle.T)  # remove round-off asymmetry before eigvalsh
    trace_sqrt = torch.linalg.eigvalsh(middle).clamp(min=0).sqrt().sum()  # Tr((Σ1^{½}Σ2Σ1^{½})^{½})
    mean_term = (mu1 - mu2).pow(2).sum()  # squared Euclidean distance
    return (mean_term + torch.trace(sigma1) + torch.trace(sigma2) - 2.0 * trace_sqrt).to(dtype)


def inception_score(probs: torch.Tensor) -> torch.Tensor:
    r"""exp(mean_x KL(p(y|x) ‖ p(y))) for probs (N, C) whose rows are p(y|x); a 0-dim tensor.

    p(y) is the mean of the rows (over samples, dim 0). Uses 0·log 0 = 0, so
    one-hot rows are fine. The result lies in [1, C].
    """
    marginal = probs.mean(dim=0, keepdim=True)  # (1, C) = p(y)
    kl = (torch.xlogy(probs, probs) - torch.xlogy(probs, marginal)).sum(dim=1)  # (N,) Σ_y p log(p / p(y))
    return kl.mean().exp()


def perplexity(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    r"""exp of the mean negative log-likelihood of the targets, over non-ignored positions; 0-dim.

    logits: (..., V) with the class dim last; targets: (...) int64, the same
    leading shape. Positions where targets == ignore_index (padding) count
    neither in the sum nor in the number of tokens.
    """
    V = logits.size(-1)
    logits, targets = logits.reshape(-1, V), targets.reshape(-1)  # (N, V), (N,)
    keep = targets != ignore_index  # (N,)
    logits, targets = logits[keep], targets[keep]
    log_normalizer = torch.logsumexp(logits, dim=-1)  # (n,) stable log Σ_v e^{ℓ_v}
    nll = log_normalizer - logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (n,) −log p(target)
    return nll.mean().exp()


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k estimator of Chen et al.: 1 − C(n − c, k) / C(n, k), as a Python float.

    n samples were generated for a problem, c of them correct; 1 ≤ k ≤ n and
    0 ≤ c ≤ n. Returns 1.0 when n − c < k (every k-subset contains a correct
    sample). Must stay accurate for n up to 10⁴, where C(n, k) overflows a float.
    """
    if n - c < k:
        return 1.0
    fail_all = 1.0
    for i in range(n - c + 1, n + 1):  # C(n−c, k)/C(n, k) = Π_{i=n−c+1}^{n} (1 − k/i)
        fail_all *= 1.0 - k / i
    return 1.0 - fail_all


def _lcs_length(a: list, b: list) -> int:
    """Length of the longest common subsequence by dynamic programming, O(len(a)·len(b))."""
    prev = [0] * (len(b) + 1)  # prev[j] = LCS(a[:i−1], b[:j])
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            cur[j] = prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1])  # extend a match or skip one token
        prev = cur
    return prev[-1]


def rouge_l(candidate: list, reference: list, beta: float = 1.0) -> tuple[float, float, float]:
    """ROUGE-L of one candidate against one reference; returns (precision, recall, f) as floats.

    candidate, reference: lists of tokens (any hashable items). With L the
    length of their longest common subsequence (tokens in the same order, not
    necessarily adjacent): precision = L / len(candidate), recall =
    L / len(reference), f = (1 + β²)·P·R / (R + β²·P). All three are 0.0
    when L = 0. β > 1 weights recall more.
    """
    lcs = _lcs_length(list(candidate), list(reference))
    if lcs == 0:
        return 0.0, 0.0, 0.0
    precision = lcs / len(candidate)
    recall = lcs / len(reference)
    f = (1 + beta ** 2) * precision * recall / (recall + beta ** 2 * precision)  # F_β
    return precision, recall, f


def _ngrams(tokens: list, n: int) -> Counter:
    """Counts of the n-grams (as tuples) of a token list."""
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def corpus_bleu(candidates: list[list], references: list[list[list]], max_n: int = 4) -> float:
    """Corpus-level BLEU with uniform weights; returns a Python float in [0, 1].

    candidates: list of token lists; references: for each candidate, a list of
    one or more reference token lists. For n = 1…max_n, the modified
    precision p_n = Σ_candidates Σ_ngrams min(count in the candidate, largest
    count in any single reference of that candidate) / Σ_candidates (number of
    n-grams in the candidate), pooled over the whole corpus (not averaged over
    sentences). BLEU = BP · exp(mean_n log p_n), and 0.0 when some p_n is 0.
    Brevity penalty BP = exp(1 − r/c) if c < r else 1, with c the total
    candidate length and r the sum over candidates of the reference length
    closest to the candidate's length (ties go to the shorter reference).
    Every candidate has at least max_n tokens.
    """
    matched = [0] * max_n  # clipped n-gram matches per order, summed over the corpus
    total = [0] * max_n  # candidate n-grams per order, summed over the corpus
    c_len = r_len = 0
    for cand, refs in zip(candidates, references):
        c_len += len(cand)
        r_len += min((abs(len(ref) - len(cand)), len(ref)) for ref in refs)[1]  # closest length, ties → shorter
        for n in range(1, max_n + 1):
            counts = _ngrams(cand, n)
            max_ref = Counter()
            for ref in refs:
                max_ref |= _ngrams(ref, n)  # elementwise max of counts over the references
            matched[n - 1] += sum(min(cnt, max_ref[g]) for g, cnt in counts.items())  # clipped counts
            total[n - 1] += max(len(cand) - n + 1, 0)
    if min(matched) == 0:
        return 0.0
    log_precision = sum(math.log(m / t) for m, t in zip(matched, total)) / max_n  # mean_n log p_n
    brevity = 1.0 if c_len >= r_len else math.exp(1.0 - r_len / c_len)  # BP
    return brevity * math.exp(log_precision)
