/*
 * event - the signed datagram the milter sends the collector per verdict:
 * an event record (event_rec.h, which documents the layout) followed by
 * HMAC-SHA256 over it; and the receiver's replay defence.
 *
 * A batch datagram (event_rec.h: "RGEB") carries several sealed records;
 * event_batch_split finds them, and each is opened like a datagram.
 *
 * The key file (collector.key_file) holds 16..256 bytes and must be
 * readable by its owner only (mode 0600 or stricter): a key other local
 * users can read lets them forge events.
 *
 * Replay defence, per (node, boot id): the highest sequence seen and a
 * bitmap of the EVENT_REPLAY_BITS before it (events may arrive a little
 * out of order over UDP); a sequence seen or older than that is a replay.
 * Sequence numbers skipped after the first one heard are counted as
 * missing (lost on the way: a full socket, UDP), less those that arrive
 * late.
 * An event whose time is more than the window away from the receiver's
 * clock is stale. Sources beyond EVENT_SOURCES_MAX evict the one heard
 * from least recently.
 */
#ifndef RG_EVENT_H
#define RG_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event_rec.h"

#define EVENT_MAX EVREC_MAX	/* a datagram, record and MAC */
#define EVENT_KEY_MIN 16
#define EVENT_KEY_MAX 256
#define EVENT_REPLAY_BITS 64
#define EVENT_SOURCES_MAX 64

struct event_key {
    unsigned char k[EVENT_KEY_MAX];
    size_t len;
};

enum event_status { EVENT_OK = 0, EVENT_EKEY };

struct event_source {
    char node[EVREC_NODE_MAX + 1];
    uint64_t bootid, top, seen;	/* seen: bit i = sequence top - i */
    int64_t heard_ms;
    uint64_t first;		/* the first sequence heard: gaps count after it */
    uint64_t missing;		/* sequence numbers skipped, not (yet) seen */
};

struct event_replay {
    int64_t window_ms;		/* accepted clock difference, each way */
    uint64_t missing;		/* the sources' missing, summed (evicted ones too) */
    struct event_source src[EVENT_SOURCES_MAX];
    size_t n;
};

int event_key_load(const char *path, struct event_key *k, char *err,
		   size_t errlen);
size_t event_seal(const struct event_key *k, uint8_t *buf, size_t len, size_t cap);
enum evrec_status event_open(const struct event_key *k, const uint8_t *buf,
			     size_t len, struct evrec *r);
/* one record's place in a batch datagram */
struct event_span {
    const uint8_t *p;
    size_t len;
};

bool event_is_batch(const uint8_t *buf, size_t len);
size_t event_batch_head(uint8_t *out, size_t count);
enum evrec_status event_batch_split(const uint8_t *buf, size_t len,
				    struct event_span *rec, size_t max, size_t *n);
void event_replay_init(struct event_replay *w, int64_t window_ms);
enum evrec_status event_replay_check(struct event_replay *w, const struct evrec *r,
				     int64_t now_ms);

#endif
