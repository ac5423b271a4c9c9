/*
 * event - sign and open the collector's event datagrams, the key file,
 * and the receiver's replay window (see event.h).
 *
 * Contract: pure functions but event_key_load (reads the key file).
 * event_open treats the datagram as hostile: its length is bounded before
 * anything is read, the MAC compared in constant time before the record
 * is parsed. The replay window belongs to one receiver thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"

#define MAGIC_LEN 4
#define VERSION_OFF 4

/* event_key_load - read a key file: 16..256 bytes, owner-only mode */
int event_key_load(const char *path, struct event_key *k, char *err,
		   size_t errlen)
{
    struct stat sb;
    ssize_t n;
    int fd, rc = EVENT_EKEY;

    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return EVENT_EKEY;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
	snprintf(err, errlen, "%s: not a regular file", path);
	goto out;
    }
    if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
	snprintf(err, errlen, "%s: mode %04o lets other users read or change the "
		 "event key; chmod 0600 %s", path, (unsigned) (sb.st_mode & 07777), path);
	goto out;
    }
    n = read(fd, k->k, sizeof(k->k));
    while (n > 0 && (k->k[n - 1] == '\n' || k->k[n - 1] == '\r'))
	n--;
    if (n < EVENT_KEY_MIN || (size_t) sb.st_size > sizeof(k->k) + 2) {
	snprintf(err, errlen, "%s: a key must have %d to %d bytes", path,
		 EVENT_KEY_MIN, EVENT_KEY_MAX);
	goto out;
    }
    k->len = (size_t) n;
    rc = EVENT_OK;
  out:
    close(fd);
    return rc;
}

/* Each thread keeps an HMAC context keyed once: OpenSSL's one-shot
 * HMAC() fetches the algorithm and sets the key up on every call. */
struct mac_cache {
    EVP_MAC_CTX *ctx;
    unsigned char k[EVENT_KEY_MAX];
    size_t len;			/* 0: not keyed */
};

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static bool cache_ok;

/* cache_free - a thread's context, at its exit */
static void cache_free(void *p)
{
    struct mac_cache *c = p;

    EVP_MAC_CTX_free(c->ctx);
    OPENSSL_cleanse(c->k, sizeof(c->k));
    free(c);
}

/* cache_init - the thread-specific slot, once */
static void cache_init(void)
{
    cache_ok = pthread_key_create(&cache_key, cache_free) == 0;
}

/* cache_get - this thread's context, made on first use; NULL if none */
static struct mac_cache *cache_get(void)
{
    struct mac_cache *c;
    EVP_MAC *m;

    if (pthread_once(&cache_once, cache_init) != 0 || !cache_ok)
	return NULL;
    if ((c = pthread_getspecific(cache_key)) != NULL)
	return c;
    if ((c = calloc(1, sizeof(*c))) == NULL)
	return NULL;
    m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    c->ctx = m ? EVP_MAC_CTX_new(m) : NULL;
    EVP_MAC_free(m);
    if (c->ctx == NULL || pthread_setspecific(cache_key, c) != 0) {
	cache_free(c);
	return NULL;
    }
    return c;
}

/* keyed_ctx - this thread's context ready for a MAC under k; NULL if none */
static EVP_MAC_CTX *keyed_ctx(const struct event_key *k)
{
    struct mac_cache *c = cache_get();
    OSSL_PARAM p[2];

    if (c == NULL)
	return NULL;
    if (c->len == k->len && CRYPTO_memcmp(c->k, k->k, k->len) == 0)
	return EVP_MAC_init(c->ctx, NULL, 0, NULL) == 1 ? c->ctx : NULL;
    p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0);
    p[1] = OSSL_PARAM_construct_end();
    c->len = 0;
    if (EVP_MAC_init(c->ctx, k->k, k->len, p) != 1)
	return NULL;
    memcpy(c->k, k->k, k->len);
    c->len = k->len;
    return c->ctx;
}

/* mac - HMAC-SHA256 of data (the one-shot HMAC() if no context) */
static void mac(const struct event_key *k, const uint8_t *data, size_t len,
		uint8_t out[EVREC_MAC_LEN])
{
    EVP_MAC_CTX *ctx = keyed_ctx(k);
    unsigned int mlen = 0;
    size_t n = 0;

    if (ctx != NULL && EVP_MAC_update(ctx, data, len) == 1
	&& EVP_MAC_final(ctx, out, &n, EVREC_MAC_LEN) == 1 && n == EVREC_MAC_LEN)
	return;
    HMAC(EVP_sha256(), k->k, (int) k->len, data, len, out, &mlen);
}

/* event_seal - append the MAC to an encoded record; the datagram's
 * length, 0 if it does not fit */
size_t event_seal(const struct event_key *k, uint8_t *buf, size_t len, size_t cap)
{
    if (len == 0 || len > EVENT_MAX - EVREC_MAC_LEN || cap < len + EVREC_MAC_LEN)
	return 0;
    mac(k, buf, len, buf + len);
    return len + EVREC_MAC_LEN;
}

/* event_open - check and parse one datagram */
enum evrec_status event_open(const struct event_key *k, const uint8_t *buf,
			     size_t len, struct evrec *r)
{
    uint8_t want[EVREC_MAC_LEN];

    memset(r, 0, sizeof(*r));
    if (len > EVENT_MAX)
	return EVREC_ELONG;
    if (len >= MAGIC_LEN && memcmp(buf, EVREC_MAGIC, MAGIC_LEN) != 0)
	return EVREC_EMAGIC;
    if (len > VERSION_OFF && buf[VERSION_OFF] != EVREC_VERSION)
	return EVREC_EVERSION;	/* another layout: its MAC may sit elsewhere */
    if (len < EVREC_FIXED + EVREC_MAC_LEN)
	return EVREC_ESHORT;
    mac(k, buf, len - EVREC_MAC_LEN, want);
    if (CRYPTO_memcmp(want, buf + len - EVREC_MAC_LEN, EVREC_MAC_LEN) != 0)
	return EVREC_ESIG;
    return evrec_decode(buf, len - EVREC_MAC_LEN, r);
}

/* event_is_batch - whether a datagram is a batch (its magic) */
bool event_is_batch(const uint8_t *buf, size_t len)
{
    return len >= MAGIC_LEN && memcmp(buf, EVBATCH_MAGIC, MAGIC_LEN) == 0;
}

/* event_batch_head - a batch's header for count records, EVBATCH_HEAD
 * bytes at out; 0 when count is out of range */
size_t event_batch_head(uint8_t *out, size_t count)
{
    if (count == 0 || count > EVBATCH_RECORDS_MAX)
	return 0;
    memcpy(out, EVBATCH_MAGIC, MAGIC_LEN);
    out[4] = EVBATCH_VERSION;
    out[5] = 0;
    out[6] = (uint8_t) (count >> 8), out[7] = (uint8_t) count;
    return EVBATCH_HEAD;
}

/* event_batch_split - the records of a batch datagram, at most max of
 * them into rec; EVREC_OK, EVREC_EVERSION or EVREC_EBATCH (then none) */
enum evrec_status event_batch_split(const uint8_t *buf, size_t len,
				    struct event_span *rec, size_t max, size_t *n)
{
    size_t count, o = EVBATCH_HEAD, l, i;

    *n = 0;
    if (len > EVBATCH_MAX || len < EVBATCH_HEAD || !event_is_batch(buf, len))
	return EVREC_EBATCH;
    if (buf[4] != EVBATCH_VERSION)
	return EVREC_EVERSION;
    count = (size_t) buf[6] << 8 | buf[7];
    if (buf[5] != 0 || count == 0 || count > EVBATCH_RECORDS_MAX || count > max)
	return EVREC_EBATCH;
    for (i = 0; i < count; i++) {
	if (len - o < EVBATCH_LEN_SIZE)
	    return EVREC_EBATCH;
	l = (size_t) buf[o] << 8 | buf[o + 1];
	o += EVBATCH_LEN_SIZE;
	if (l == 0 || l > EVENT_MAX || l > len - o)
	    return EVREC_EBATCH;
	rec[i].p = buf + o, rec[i].len = l;
	o += l;
    }
    if (o != len)
	return EVREC_EBATCH;
    *n = count;
    return EVREC_OK;
}

/* event_replay_init - an empty window */
void event_replay_init(struct event_replay *w, int64_t window_ms)
{
    memset(w, 0, sizeof(*w));
    w->window_ms = window_ms;
}

/* source_for - the slot of (node, boot id); a new or evicted one */
static struct event_source *source_for(struct event_replay *w, const struct evrec *r)
{
    struct event_source *s, *old = NULL;
    size_t i;

    for (i = 0; i < w->n; i++) {
	s = &w->src[i];
	if (s->bootid == r->bootid && strcmp(s->node, r->node) == 0)
	    return s;
	if (old == NULL || s->heard_ms < old->heard_ms)
	    old = s;
    }
    s = w->n < EVENT_SOURCES_MAX ? &w->src[w->n++] : old;
    memset(s, 0, sizeof(*s));
    s->bootid = r->bootid;
    snprintf(s->node, sizeof(s->node), "%s", r->node);
    return s;
}

/* event_replay_check - EVREC_OK for a fresh event (and remember it),
 * EVREC_EREPLAY or EVREC_ESTALE */
enum evrec_status event_replay_check(struct event_replay *w, const struct evrec *r,
				     int64_t now_ms)
{
    struct event_source *s;
    int64_t t = r->time_ms > INT64_MAX ? INT64_MAX : (int64_t) r->time_ms;
    uint64_t back;

    if (t < now_ms - w->window_ms || t > now_ms + w->window_ms)
	return EVREC_ESTALE;
    if (r->seq == 0)
	return EVREC_EREPLAY;	/* sequences start at 1 */
    s = source_for(w, r);
    s->heard_ms = now_ms;
    if (r->seq > s->top) {
	back = r->seq - s->top;
	if (s->top == 0)
	    s->first = r->seq;
	else if (back > 1)	/* a gap */
	    s->missing += back - 1, w->missing += back - 1;
	s->seen = back >= EVENT_REPLAY_BITS ? 0 : s->seen << back;
	s->seen |= 1;
	s->top = r->seq;
	return EVREC_OK;
    }
    back = s->top - r->seq;
    if (back >= EVENT_REPLAY_BITS || (s->seen >> back) & 1)
	return EVREC_EREPLAY;
    s->seen |= (uint64_t) 1 << back;
    if (r->seq > s->first && s->missing > 0)	/* late, not lost */
	s->missing--, w->missing--;
    return EVREC_OK;
}
