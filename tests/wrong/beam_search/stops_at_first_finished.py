"""Known-wrong: returns the first candidate that finishes, although a beam still running could end with a higher score."""


def beam_search(log_prob_fn, bos, eos, beam_size, max_len):
    beams = [(0.0, [bos])]
    while True:
        candidates = []
        for score, seq in beams:
            for tok, lp in enumerate(log_prob_fn(seq).tolist()):
                candidates.append((score + lp, seq + [tok]))
        candidates.sort(key=lambda c: c[0], reverse=True)
        for score, seq in candidates:
            if seq[-1] == eos or len(seq) >= max_len:
                return seq, float(score)  # the first finished candidate, not the best finished sequence
        beams = candidates[:beam_size]
