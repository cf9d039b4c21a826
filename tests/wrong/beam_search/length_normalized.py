"""Known-wrong: ranks sequences by their average log-prob per token (length normalization); the contract asks for the plain sum."""


def beam_search(log_prob_fn, bos, eos, beam_size, max_len):
    def done(seq):
        return seq[-1] == eos or len(seq) >= max_len

    def key(c):
        return c[0] / (len(c[1]) - 1)

    beams = [(0.0, [bos])]
    while not all(done(seq) for _, seq in beams):
        candidates = []
        for score, seq in beams:
            if done(seq):
                candidates.append((score, seq))
                continue
            for tok, lp in enumerate(log_prob_fn(seq).tolist()):
                candidates.append((score + lp, seq + [tok]))
        candidates.sort(key=key, reverse=True)
        beams = candidates[:beam_size]
    score, seq = max(beams, key=key)
    return seq, float(score)
