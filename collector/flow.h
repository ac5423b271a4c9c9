/*
 * flow - one network flow record and the parsers of the flow text formats
 * the collector reads: nfdump "fmt:" lines in the collector's own field
 * order, nfdump "-o csv" and SiLK "rwcut --delimited" (columns mapped by
 * their header names).
 *
 * Contract: pure and bounded; a line is never modified. A line that is not
 * a flow is FLOW_BAD (counted by the caller with its line number) or
 * FLOW_SKIP (blank, header, nfdump's "No matching flows", csv's Summary
 * trailer), never fatal.
 */
#ifndef RG_FLOW_H
#define RG_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* The fmt: the collector asks nfdump for; flow_parse_fmt reads it. */
#define FLOW_NFDUMP_FMT \
    "fmt:%tsr %td %pr %sa %sp %da %dp %ipkt %ibyt %opkt %obyt %flg %fl"

#define FLOW_TCP 6
#define FLOW_UDP 17
#define FLOW_FIN 0x01
#define FLOW_SYN 0x02
#define FLOW_RST 0x04
#define FLOW_PSH 0x08
#define FLOW_ACK 0x10
#define FLOW_URG 0x20

struct flow {
    int64_t start_ms;		/* flow start, UTC milliseconds */
    uint32_t dur_ms;
    uint8_t proto, tcp_flags;
    uint16_t sp, dp;
    struct addr sa, da;
    uint64_t ipkt, ibyt;	/* source to destination */
    uint64_t opkt, obyt;	/* destination to source (biflows), else 0 */
    uint64_t nflows;		/* records aggregated into this one, >= 1 */
};

enum flow_status { FLOW_OK = 0, FLOW_SKIP, FLOW_BAD };

enum flow_format { FLOW_FMT_AUTO = 0, FLOW_FMT_NFDUMP, FLOW_FMT_CSV, FLOW_FMT_SILK };

enum flow_col {
    FLOW_COL_START = 0, FLOW_COL_DUR, FLOW_COL_PROTO, FLOW_COL_SA,
    FLOW_COL_SP, FLOW_COL_DA, FLOW_COL_DP, FLOW_COL_IPKT, FLOW_COL_IBYT,
    FLOW_COL_OPKT, FLOW_COL_OBYT, FLOW_COL_FLAGS, FLOW_COL_COUNT
};

/* A text reader: the format is known after the first line that is not
 * blank (auto) or given; csv and SiLK map their columns from the header. */
struct flow_reader {
    enum flow_format fmt;
    char delim;			/* ',' csv, '|' SiLK */
    int col[FLOW_COL_COUNT];	/* column index, -1: absent */
    int ncols;
    int in_trailer;		/* csv: past "Summary" */
};

void flow_reader_init(struct flow_reader *r, enum flow_format fmt);
enum flow_status flow_read_line(struct flow_reader *r, const char *line,
				size_t len, struct flow *out);

enum flow_status flow_parse_fmt(const char *line, size_t len, struct flow *out);
int flow_parse_tcp_flags(const char *t, size_t len, uint8_t *out);
int flow_parse_proto(const char *t, size_t len, uint8_t *out);

#endif
