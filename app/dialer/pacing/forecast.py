"""Expected abandonments over the forecast horizon: the maths of the predictive pacer."""

from __future__ import annotations

import math

from app.dialer.pacing.distributions import _normal_cdf


def expected_abandonments(bins, n: float, cv2: float) -> float:
    """Expected abandonments over the horizon with n more calls placed now.

    `bins` are the forecast's edges (see `Predictive._forecast`); `cv2` is the squared
    relative uncertainty of the answer rate, which every edge shares.

    Abandonments by the horizon are the highest (answers by t) - (agents free by
    t + 2 s) reaches over its edges t, beyond where it stands now: answered calls
    beyond the agents are lost once, not again at every later answer. The expected
    maximum of that random path is folded bin by bin (Clark's method: the maximum so
    far and the next edge as correlated normals; the edges share their earlier
    answers and agents, and all share the answer rate's own uncertainty). Taking the
    maximum of the expected path instead misses most of the risk when answers and free
    agents run level: each path peaks at a different edge. The last step adds an
    Edgeworth term for skew: answers are a sum of rare events, so their upper tail
    (the bunch that abandons) is longer than a normal's.
    """
    first = True
    for mu, dmu, var, dvar, demand, k3, dk3 in bins:
        d = demand + n * dmu
        m = mu + n * dmu
        v = var + n * dvar
        total = v + cv2 * d * d
        lean = k3 + n * dk3 + 2.0 * cv2 * cv2 * d * d * d
        if first:
            first = False
            now = m
            top, spread, shared, level, skew = m, total, v, d, lean
            continue
        cov = shared + cv2 * d * level
        theta2 = spread + total - 2.0 * cov
        if theta2 <= 1e-9:
            if m > top:
                top, spread, shared, level, skew = m, total, v, d, lean
            continue
        theta = math.sqrt(theta2)
        alpha = (m - top) / theta
        pa = _normal_cdf(alpha)
        da = 0.3989422804014327 * math.exp(-0.5 * alpha * alpha)
        mean = m * pa + top * (1.0 - pa) + theta * da
        second = ((m * m + total) * pa + (top * top + spread) * (1.0 - pa)
                  + (m + top) * theta * da)
        top, spread = mean, max(second - mean * mean, 1e-9)
        shared = v * pa + shared * (1.0 - pa)
        level = d * pa + level * (1.0 - pa)
        skew = lean * pa + skew * (1.0 - pa)
    sigma = math.sqrt(spread)
    z = top / sigma
    density = 0.3989422804014327 * math.exp(-0.5 * z * z)
    excess = sigma * density + top * _normal_cdf(z) - skew / (6.0 * spread) * z * density
    return max(excess, top, 0.0) - max(now, 0.0)
