/*
 * runtime - what the callbacks work with: the configuration, GeoIP, the
 * store and the collector key, as one reference-counted snapshot swapped
 * in whole by a reload; and the rogue list, swapped when its file changes.
 *
 * Contract: rt_acquire() in connect, rt_release() in close; a connection
 * keeps the snapshot it started with. The lock guards only pointer swaps
 * and reference counts, never I/O.
 */
#ifndef RG_MILTER_RUNTIME_H
#define RG_MILTER_RUNTIME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include "addr.h"
#include "cfg.h"
#include "event.h"
#include "geo.h"
#include "store.h"

struct evq;

struct runtime {
    unsigned refs;
    struct cfg *cfg;
    GEO *geo;
    STORE *st;
    struct event_key key;	/* valid when key.len > 0 */
    int evfd;			/* collector socket, -1: none */
    struct sockaddr_storage evaddr;
    socklen_t evaddrlen;	/* 0: the socket is connected */
    atomic_llong evconn;	/* unix: second of the last connect, 0: none */
    struct evq *evq;		/* events on their way to evfd; NULL: sent inline */
};

int rt_load(const char *file, struct runtime **out, char *err, size_t errlen);
void rt_install(struct runtime *rt);
struct runtime *rt_acquire(void);
void rt_release(struct runtime *rt);
void rt_shutdown(void);

bool rt_rogue_listed(const struct addr *a);
void rt_rogue_refresh(const struct runtime *rt);
void rt_store_refresh(void);
void rt_geo_refresh(struct runtime *rt);
void rt_snapshot(struct runtime *rt, bool force);

#endif
