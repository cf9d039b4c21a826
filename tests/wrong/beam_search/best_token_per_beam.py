"""Known-wrong: extends each beam only by its own best token, so the beams never branch and beam search degenerates to greedy decoding."""


def beam_search(log_prob_fn, bos, eos, beam_size, max_len):
    def done(seq):
        return seq[-1] == eos or len(seq) >= max_len

    beams = [(0.0, [bos])]
    while not all(done(seq) for _, seq in beams):
        candidates = []
        for score, seq in beams:
            if done(seq):
                candidates.append((score, seq))
                continue
            lp = log_prob_fn(seq)
            tok = int(lp.argmax())
            candidates.append((score + float(lp[tok]), seq + [tok]))
        candidates.sort(key=lambda c: c[0], reverse=True)
        beams = candidates[:beam_size]
    score, seq = beams[0]
    return seq, float(score)
