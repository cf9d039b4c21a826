"""Known-wrong: beams that emit eos are dropped from the beam instead of staying candidates; the answer comes only from the beams still alive at max_len (or the last finished one if none are)."""


def beam_search(log_prob_fn, bos, eos, beam_size, max_len):
    beams, last_finished = [(0.0, [bos])], None
    while beams and len(beams[0][1]) < max_len:
        candidates = []
        for score, seq in beams:
            for tok, lp in enumerate(log_prob_fn(seq).tolist()):
                candidates.append((score + lp, seq + [tok]))
        candidates.sort(key=lambda c: c[0], reverse=True)
        candidates = candidates[:beam_size]
        for c in candidates:
            if c[1][-1] == eos:
                last_finished = c
        beams = [c for c in candidates if c[1][-1] != eos]
    score, seq = beams[0] if beams else last_finished
    return seq, float(score)
