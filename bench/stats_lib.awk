# stats_lib.awk - the order statistics the milter benchmarks share
# (awk -f stats_lib.awk -f SCRIPT.awk): sort, median, lo_rank (the
# distribution-free confidence interval of a median) and the 20 %
# trimmed mean.
function sort(v, k,   i, j, t) {
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
}
function median(v, k,   c, i) {
    for (i = 1; i <= k; i++) c[i] = v[i]
    sort(c, k)
    return k % 2 ? c[(k + 1) / 2] : (c[k / 2] + c[k / 2 + 1]) / 2
}
# lo_rank - the largest j >= 1 with P(Binomial(k, 1/2) < j) <= 0.025:
# the median lies in [x(j), x(k+1-j)] with at least 95 % confidence
# (fewer than 6 pairs cannot give 95 %: then j = 1, and conf says how
# much); conf: 1 - 2 P(Binomial(k, 1/2) < j)
function lo_rank(k,   j, c, p, cum) {
    cum = 0; p = 0.5 ^ k; c = 1
    for (j = 0; j < k; j++) {
        if (cum + c * p > 0.025) break
        cum += c * p; c = c * (k - j) / (j + 1)
    }
    if (j < 1) { j = 1; cum = p }
    conf = 1 - 2 * cum
    return j
}
function trimmed(v, k,   c, i, t, s, q) {
    for (i = 1; i <= k; i++) c[i] = v[i]
    sort(c, k)
    t = int(k * 0.2); s = 0; q = 0
    for (i = 1 + t; i <= k - t; i++) { s += c[i]; q++ }
    return s / q
}
