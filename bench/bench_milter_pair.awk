# bench_milter_pair.awk - the figures of bench_milter_pair.sh from its
# blocks file (one line a block: R ON FIRST CPU_ON CPU_OFF CPU_COLLECTOR
# SND_ON, nanoseconds; ON the instance in the "on" role, FIRST the one
# each message reached first). Variables: m (messages a block to each
# instance), control ("", same or burn:NS), burn (NS), sent, dropped,
# stored (events), load, out (the file for bench_collector.sh's summary:
# median, "-" (no wall figure), CI low, CI high).
{
    k++; r[k] = $5 / $4; son += $4; soff += $5; con[k] = $4; coff[k] = $5
    col[k] = $6; snd[k] = $7
    # by combination: which instance had the role, which went first
    c = $2 ($2 == $3 ? " first" : " second"); nc[c]++; rc[c, nc[c]] = r[k]
    # the instances apart from the roles: a / b
    ab[k] = $2 == "a" ? $4 / $5 : $5 / $4
}
END {
    if (k == 0) { print "bench_milter_pair: no block"; exit 1 }
    med = median(r, k); j = lo_rank(k)
    for (i = 1; i <= k; i++) s[i] = r[i]
    sort(s, k)
    lo = s[j]; hi = s[k + 1 - j]
    what = control == "" ? "with/without events" : control == "same" ? "control same/same (both off)" : "control off+" burn " ns/off (both off)"
    printf "milter pair (miltertest, two instances at once): CPU per message off role %.1f us, on role %.1f us; %s = %.3f CPU (median of %d blocks of %d messages each)\n",
        median(coff, k) / m / 1e3, median(con, k) / m / 1e3, what, med, k, m
    verdict = lo >= 0.98 ? "met" : hi < 0.98 ? "NOT met" : "undecided (the interval holds 0.98)"
    printf "  spread: %.1f %% CI of the median %.3f .. %.3f (blocks ranked %d and %d of %d), 20 %% trimmed mean %.3f, ratio of summed CPU %.3f, per block min %.3f max %.3f",
        100 * conf, lo, hi, j, k + 1 - j, k, trimmed(r, k), soff / son, s[1], s[k]
    if (control == "") printf ": target 0.98 %s\n", verdict
    else if (control == "same") printf ": the method's resolution (1.000 expected)\n"
    else {
        e = (soff / (k * m)) / (soff / (k * m) + burn)
        printf ": expected %.3f (%.1f us + %.1f us a message), %s\n", e, soff / (k * m) / 1e3, burn / 1e3,
            (lo <= e && e <= hi) ? "inside the interval" : "OUTSIDE the interval"
        if (hi >= 1) printf "  the extra cost was NOT detected (the interval reaches 1)\n"
        else printf "  the extra cost was detected (the interval lies below 1)\n"
    }
    printf "  by combination (instance in the on role, its socket first or second), median:"
    for (c in nc) {
        for (i = 1; i <= nc[c]; i++) t[i] = rc[c, i]
        printf " %s %.3f (%d);", c, median(t, nc[c]), nc[c]
    }
    jab = lo_rank(k)
    for (i = 1; i <= k; i++) s[i] = ab[i]
    sort(s, k)
    printf "\n  instance a / instance b CPU (the roles cancelled: the processes' own asymmetry) median %.3f (CI %.3f .. %.3f)\n",
        median(ab, k), s[jab], s[k + 1 - jab]
    printf "  per block (off/on CPU):"
    for (i = 1; i <= k; i++) printf " %.3f", r[i]
    printf "\n"
    if (control == "")
        printf "  of the on role's CPU, the sender thread (rg-events) %.2f us a message; the collector (not in the figure) %.1f us an event during the blocks; events sent %d, dropped %d, stored %d\n",
            median(snd, k) / m / 1e3, median(col, k) / m / 1e3, sent, dropped, stored
    printf "  load at the end %s\n", load
    printf "%.3f - %.3f %.3f\n", med, lo, hi >out
}
