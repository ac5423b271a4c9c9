/*
 * fuzz_flow - the body shared by the flow text targets (fuzz_flow_fmt,
 * fuzz_flow_csv, fuzz_flow_silk): the input is split into lines and read
 * by one flow_reader of the target's format, as standard input is.
 *
 * Properties: a line is never read past its length (ASan, each line in a
 * buffer of its exact size); parsing is deterministic; a flow has at least
 * one record and a valid protocol; for fmt, a flow printed back in the
 * collector's fmt field order parses to the same flow.
 */
#ifndef RG_FUZZ_FLOW_H
#define RG_FUZZ_FLOW_H

#include "flow.h"
#include "fuzz_common.h"

/* same_flow - field by field (padding may differ) */
static int same_flow(const struct flow *a, const struct flow *b)
{
    return a->start_ms == b->start_ms && a->dur_ms == b->dur_ms
	&& a->proto == b->proto && a->tcp_flags == b->tcp_flags
	&& a->sp == b->sp && a->dp == b->dp && addr_equal(&a->sa, &b->sa)
	&& addr_equal(&a->da, &b->da) && a->ipkt == b->ipkt && a->ibyt == b->ibyt
	&& a->opkt == b->opkt && a->obyt == b->obyt && a->nflows == b->nflows;
}

/* round_trip - print an fmt flow back and parse it again */
static void round_trip(const struct flow *f)
{
    char line[512], sa[ADDR_STRLEN], da[ADDR_STRLEN];
    struct flow g;
    int n;

    if (f->start_ms < 0)
	return;
    n = snprintf(line, sizeof(line), "%lld.%03lld %u.%03u %u %s %u %s %u %llu %llu %llu "
		 "%llu 0x%02x %llu", (long long) (f->start_ms / 1000),
		 (long long) (f->start_ms % 1000), f->dur_ms / 1000, f->dur_ms % 1000,
		 f->proto, addr_format(&f->sa, sa, sizeof(sa)), f->sp,
		 addr_format(&f->da, da, sizeof(da)), f->dp, (unsigned long long) f->ipkt,
		 (unsigned long long) f->ibyt, (unsigned long long) f->opkt,
		 (unsigned long long) f->obyt, f->tcp_flags, (unsigned long long) f->nflows);
    FUZZ_CHECK(n > 0 && (size_t) n < sizeof(line), "line fits");
    FUZZ_CHECK(flow_parse_fmt(line, (size_t) n, &g) == FLOW_OK, "printed flow parses");
    FUZZ_CHECK(same_flow(f, &g), "flow round trip");
}

/* fuzz_flow_lines - every line of the input through one reader */
static int fuzz_flow_lines(const uint8_t *data, size_t size, enum flow_format fmt)
{
    struct flow_reader r, r2;
    size_t pos = 0;

    flow_reader_init(&r, fmt);
    flow_reader_init(&r2, fmt);
    while (pos <= size) {
	const uint8_t *nl = memchr(data + pos, '\n', size - pos);
	size_t n = nl ? (size_t) (nl - data) - pos : size - pos;
	char *line = malloc(n ? n : 1);	/* exact size: ASan bounds */
	struct flow f, g;
	enum flow_status s, s2;

	if (line == NULL)
	    abort();
	memcpy(line, data + pos, n);
	s = flow_read_line(&r, line, n, &f);
	s2 = flow_read_line(&r2, line, n, &g);
	FUZZ_CHECK(s == s2, "deterministic status");
	if (s == FLOW_OK) {
	    FUZZ_CHECK(same_flow(&f, &g), "deterministic flow");
	    FUZZ_CHECK(f.nflows >= 1, "at least one record");
	    if (r.fmt == FLOW_FMT_NFDUMP)
		round_trip(&f);
	}
	free(line);
	if (nl == NULL)
	    break;
	pos += n + 1;
    }
    return 0;
}

#endif
