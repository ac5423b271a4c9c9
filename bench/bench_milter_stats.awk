# bench_milter_stats.awk - the figures of bench_milter_cpu.sh from its
# rounds file (one line a round: MODE PAIR CPU_S WALL_S UTIME STIME
# COLLECTOR_S SENDER_S NAME=COUNT...; MODE on, off or null: events on
# to a reader that drops them). Variables: m (messages a round),
# sent, dropped, missing (perf events the machine lacks), hz (CLK_TCK:
# the tk_ fields are per-thread ticks), out (the file
# for bench_collector.sh's summary: median, wall median, CI low, CI high).
{
    p = $2
    if ($1 == "on") { on[p] = $3; won[p] = $4; snd[p] = $8 }
    else if ($1 == "off") { off[p] = $3; woff[p] = $4 }
    else { nul[p] = $3 }
    ut[$1] += $5; st[$1] += $6; col[$1, p] = $7; n[$1]++
    for (i = 9; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] ~ /^tk_/) { tk[$1, kv[1]] += kv[2]; continue }
        cnt[$1, kv[1]] += kv[2]; names[kv[1]] = 1
    }
    pairs[p] = 1
}
END {
    k = 0
    for (p in pairs) if ((p in on) && (p in off)) {
        k++; r[k] = off[p] / on[p]; w[k] = woff[p] / won[p]
        a[k] = on[p]; b[k] = off[p]; sn[k] = snd[p]; son += on[p]; soff += off[p]
        cn[k] = col["on", p]
    }
    if (k == 0) { print "bench_milter_cpu: no complete pair of rounds"; exit 1 }
    med = median(r, k); j = lo_rank(k)
    for (i = 1; i <= k; i++) c[i] = r[i]
    sort(c, k)
    lo = c[j]; hi = c[k + 1 - j]
    verdict = lo >= 0.98 ? "met" : hi < 0.98 ? "NOT met" : "undecided (the interval holds 0.98: too noisy for " k " pairs)"
    printf "milter (miltertest): CPU per message events off %.1f us, on %.1f us; with/without = %.3f CPU (median of %d ABBA pairs of %d messages), %.3f wall; events sent %s, dropped %s\n",
        median(b, k) / m * 1e6, median(a, k) / m * 1e6, med, k, m, median(w, k), sent, dropped
    printf "  spread: %.1f %% CI of the median %.3f .. %.3f (pairs ranked %d and %d of %d), 20 %% trimmed mean %.3f, ratio of summed CPU %.3f, per pair min %.3f max %.3f: target 0.98 %s\n",
        100 * conf, lo, hi, j, k + 1 - j, k, trimmed(r, k), soff / son, c[1], c[k], verdict
    # null: events on, to a reader that drops them
    kn = 0
    for (p in pairs) if ((p in nul) && (p in on) && (p in off)) {
        kn++; rn[kn] = off[p] / nul[p]; rc[kn] = nul[p] / on[p]; an[kn] = nul[p]
    }
    if (kn > 0) {
        jn = lo_rank(kn)
        for (i = 1; i <= kn; i++) { c1[i] = rn[i]; c2[i] = rc[i] }
        sort(c1, kn); sort(c2, kn)
        printf "  where the difference lies (events on, to a reader that drops them: null): null %.1f us a message; off/null %.3f (%.1f %% CI %.3f .. %.3f: the milter's own sending), null/on %.3f (CI %.3f .. %.3f: the collector working beside it)\n",
            median(an, kn) / m * 1e6, median(rn, kn), 100 * conf, c1[jn], c1[kn + 1 - jn], median(rc, kn), c2[jn], c2[kn + 1 - jn]
    }
    printf "  per pair (off/on CPU):"
    for (i = 1; i <= k; i++) printf " %.3f", r[i]
    printf "\n"
    tot["on"] = son; tot["off"] = soff
    printf "  user/system split (/proc ticks, all rounds): off %.0f %% user, on %.0f %% user; i.e. per message off %.1f + %.1f us, on %.1f + %.1f us (user + system)\n",
        100 * ut["off"] / (ut["off"] + st["off"]), 100 * ut["on"] / (ut["on"] + st["on"]),
        soff / (m * k) * 1e6 * ut["off"] / (ut["off"] + st["off"]), soff / (m * k) * 1e6 * st["off"] / (ut["off"] + st["off"]),
        son / (m * k) * 1e6 * ut["on"] / (ut["on"] + st["on"]), son / (m * k) * 1e6 * st["on"] / (ut["on"] + st["on"])
    # which thread pays: the per-thread split from /proc (ticks of 1/hz s)
    for (md in n) {
        pm = hz * m * n[md] / 1e6	# ticks a microsecond a message
        mu[md] = (ut[md] - tk[md, "tk_snd_u"]) / pm; ms[md] = (st[md] - tk[md, "tk_snd_s"]) / pm
        su[md] = tk[md, "tk_snd_u"] / pm; ss[md] = tk[md, "tk_snd_s"] / pm
    }
    printf "  per thread (/proc ticks, all rounds), us a message user + system: mail threads off %.1f + %.1f, on %.1f + %.1f",
        mu["off"], ms["off"], mu["on"], ms["on"]
    if (n["null"]) printf " (null %.1f + %.1f)", mu["null"], ms["null"]
    printf "; sender thread on %.2f + %.2f", su["on"], ss["on"]
    if (n["null"]) printf " (null %.2f + %.2f)", su["null"], ss["null"]
    printf "\n"
    printf "  exact counts per message of the milter process (perf stat, all rounds), off -> on%s:", n["null"] ? " (null)" : ""
    for (e in names) {
        printf " %s %.3f -> %.3f", e, cnt["off", e] / (m * n["off"]), cnt["on", e] / (m * n["on"])
        if (n["null"]) printf " (%.3f)", cnt["null", e] / (m * n["null"])
        printf ";"
    }
    printf "\n"
    if (missing != "") printf "  not on this machine (perf):%s\n", missing
    printf "  of the milter's CPU with events on, the sender thread (rg-events) %.2f us a message; the collector (not in the figure) %.1f us a message during the rounds, %.1f us after them\n",
        median(sn, k) / m * 1e6, median(cn, k) / m * 1e6, tk["on", "tk_col_after"] / hz / (m * n["on"]) * 1e6
    printf "%.3f %.3f %.3f %.3f\n", med, median(w, k), lo, hi >out
}
