/*
 * fuzz_store_header - store_open on hostile state files, then reads (and,
 * in one mode, writes) through whatever it accepted.
 *
 * The state file is untrusted input on attach: store_open must answer
 * STORE_OK, STORE_EFORMAT or STORE_EIO and never crash; a store it
 * accepts must survive store_get_stats, the walks and lookups, and with
 * a writable handle updates, blocks and resets, whatever its tables hold.
 *
 * Input: one mode byte, then the file.
 *   MODE_PATCH   the file is a valid populated store built at start-up
 *                (fixed key, so runs are reproducible) with patches
 *                applied: 3 bytes offset, 1 byte length, the bytes;
 *                otherwise the rest of the input is the file itself.
 *   MODE_CHECK   recompute the header checksum (it is an integrity check
 *                under a zero key, not a secret: anyone can forge it).
 *   MODE_FIT     size the file as its header says (up to FILE_MAX).
 *   MODE_BOOT    patch mode: another boot's id, so attach re-initialises
 *                the locks and checks every stripe; raw mode: this boot's
 *                id, so the file's own lock words are used.
 *   MODE_WRITE   open read-write (no CREATE/RECREATE) and modify.
 *   MODE_SALVAGE open with STORE_RECREATE and the base's capacities: an
 *                invalid file is salvaged (or one of other capacities
 *                resized) into a new one, which must then be whole; the
 *                salvage reads the hostile slots.
 * When a read-write attach ran the boot recovery, every stripe must pass
 * store_stripe_check after attach and again after the modifications (a
 * read-only handle repairs nothing: it must only read safely).
 *
 * Lock words: a writable attacher alone with the file (as here) or the
 * first after a reboot makes every lock new (a read-only one repairs a
 * lock when it meets a bad one), so the pthread_mutex_t bytes may
 * be anything (check_store_damage covers noise there). The harness still
 * keeps the file's lock word and restores the rest of each mutex from a
 * valid one in raw mode, which exercises the stripe checks with the
 * lock states the kernel and glibc may leave behind.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "store_int.h"

#define MODE_PATCH	0x01
#define MODE_CHECK	0x02
#define MODE_FIT	0x04
#define MODE_BOOT	0x08
#define MODE_WRITE	0x10
#define MODE_SALVAGE	0x20

#define FILE_MAX	(16u << 20)	/* larger headers are not sized */
#define BASE_USERS	128		/* 2 slots per stripe: evictions */
#define BASE_CLIENTS	128
#define BASE_IPS	4
#define BASE_POPULATE	96		/* users and clients in the base */
#define T0		UINT32_C(1700000000)
#define NOW		(T0 + 3600)
#define LOCK_MS		1		/* garbage lock words time out fast */
#define PATCH_HEAD	4		/* offset (3 bytes) and length */
#define NLOGINS		6
#define ERR_LEN		256

static const uint8_t fixed_key[STORE_KEY_LEN] = "relayguard-fuzz";
static const char *const logins[NLOGINS] = {
    "user0@example.org", "user1@example.org", "user95@example.org",
    "new@example.org", " MiXeD@Example.ORG ",
    "a-very-long-login-name-that-does-not-fit@one-slot.example.org",
};

static char path[256];
static uint8_t *base;		/* the populated valid file */
static size_t base_size;
static uint8_t *img;		/* this run's file */
static int fd = -1;

/* remove_file - atexit: leave no state file behind */
static void remove_file(void)
{
    if (path[0])
	unlink(path);
}

/* fix_check - recompute the header checksum of an image */
static void fix_check(uint8_t *p, size_t size)
{
    static const uint8_t zero[STORE_KEY_LEN];
    struct store_hdr h;

    if (size < sizeof(h))
	return;
    memcpy(&h, p, sizeof(h));
    h.check = store_siphash(zero, &h, offsetof(struct store_hdr, check));
    memcpy(p, &h, sizeof(h));
}

/* ip_n - the n-th test address, IPv4 and IPv6 alternating */
static struct addr ip_n(unsigned n)
{
    char text[ADDR_STRLEN];
    struct addr a;

    if (n % 2)
	snprintf(text, sizeof(text), "2001:db8::%x", n);
    else
	snprintf(text, sizeof(text), "192.0.2.%u", n % 256);
    if (addr_parse(text, &a) != 0)
	abort();
    return a;
}

/* observe - one user and one client observation */
static int observe(STORE *st, const char *login, unsigned n, uint32_t now,
		   struct store_user *u, struct store_client *c)
{
    struct store_user_obs uo = { .login = login, .ip = ip_n(n), .msgs = 1,
	.rcpts = n % 7, .bytes = 1000u * n, .qid = "4XyZq1" };
    struct store_client_obs co = { .ip = ip_n(n), .login = login, .msgs = 1 };
    int rc;

    uo.geo.cc[0] = (char) ('A' + n % 26);
    uo.geo.cc[1] = 'E';
    uo.geo.asn = 64496 + n;
    uo.geo.has_loc = (uint8_t) (n % 2);
    uo.geo.lat_c = (int16_t) (n * 100);
    if ((rc = store_user_update(st, &uo, now, u)) != STORE_OK)
	return rc;
    return store_client_update(st, &co, now, c);
}

/* build_base - a valid store with a fixed key and entries in it */
static void build_base(const char *dir)
{
    struct store_params p = { .path = path, .max_users = BASE_USERS,
	.max_clients = BASE_CLIENTS, .ips_per_user = BASE_IPS,
	.lock_timeout_ms = 1000, .flags = STORE_CREATE, .mode = 0600 };
    struct store_block b = { .until = NOW + 3600, .action = 3,
	.setby = STORE_BY_ADMIN, .reason = "fuzz" };
    struct store_user *u = malloc(sizeof(*u));
    struct store_client *c = malloc(sizeof(*c));
    struct store_hdr h;
    char err[ERR_LEN], login[STORE_LOGIN_MAX];
    struct stat sb;
    STORE *st;

    snprintf(path, sizeof(path), "%s/rg-fuzz-store.%ld", dir, (long) getpid());
    unlink(path);
    atexit(remove_file);
    if (u == NULL || c == NULL || store_open(&p, &st, err, sizeof(err)) != STORE_OK)
	abort();
    store_close(st);
    /* a fixed key (and a checksum to match) so runs are reproducible */
    if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0
	|| pread(fd, &h, sizeof(h), 0) != (ssize_t) sizeof(h))
	abort();
    memcpy(h.key, fixed_key, sizeof(h.key));
    fix_check((uint8_t *) &h, sizeof(h));
    if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t) sizeof(h))
	abort();
    p.flags = 0;
    if (store_open(&p, &st, err, sizeof(err)) != STORE_OK)
	abort();
    for (unsigned i = 0; i < BASE_POPULATE; i++) {
	snprintf(login, sizeof(login), "user%u@example.org", i);
	if (observe(st, login, i, T0 + i, u, c) != STORE_OK
	    || observe(st, login, i + 1000, T0 + i + 60, u, c) != STORE_OK)
	    abort();
    }
    if (store_user_block(st, "user1@example.org", &b, T0 + 100) != STORE_OK
	|| store_client_block(st, &c->ip, &b, T0 + 100) != STORE_OK)
	abort();
    store_close(st);
    if (fstat(fd, &sb) != 0 || (base_size = (size_t) sb.st_size) == 0
	|| (base = malloc(base_size)) == NULL
	|| pread(fd, base, base_size, 0) != (ssize_t) base_size
	|| (img = malloc(FILE_MAX)) == NULL)
	abort();
    free(u);
    free(c);
}

/* LLVMFuzzerInitialize - build the base store in a RAM file system */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct stat sb;
    const char *dir = getenv("FUZZ_TMPDIR");

    (void) argc;
    (void) argv;
    if (dir == NULL)
	dir = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp";
    build_base(dir);
    return 0;
}

/* apply_patches - copy the base and apply the input's patches */
static size_t apply_patches(const uint8_t *in, size_t n)
{
    size_t i = 0;

    memcpy(img, base, base_size);
    while (i + PATCH_HEAD <= n) {
	size_t off = ((size_t) in[i] << 16 | (size_t) in[i + 1] << 8 | in[i + 2])
	    % base_size;
	size_t len = in[i + 3];

	i += PATCH_HEAD;
	if (len > n - i)
	    len = n - i;
	if (len > base_size - off)
	    len = base_size - off;
	memcpy(img + off, in + i, len);
	i += len;
    }
    return base_size;
}

/* file_image - this run's file in img; its length */
static size_t file_image(unsigned mode, const uint8_t *in, size_t n,
			 size_t *size)
{
    struct store_hdr *h = (struct store_hdr *) (void *) img;
    size_t len;

    if (mode & MODE_PATCH) {
	len = apply_patches(in, n);
	if (mode & MODE_BOOT)	/* another boot's id (zero means unknown) */
	    for (size_t i = 0; i < sizeof(h->boot_id); i++)
		h->boot_id[i] = (uint8_t) ~h->boot_id[i];
    } else {
	len = n < FILE_MAX ? n : FILE_MAX;
	memcpy(img, in, len);
	if ((mode & MODE_BOOT) && len >= sizeof(*h))
	    memcpy(h->boot_id, ((struct store_hdr *) (void *) base)->boot_id,
		   sizeof(h->boot_id));
    }
    if (mode & MODE_CHECK)
	fix_check(img, len);
    *size = len;
    if ((mode & MODE_FIT) && len >= sizeof(*h) && h->file_size <= FILE_MAX)
	*size = (size_t) h->file_size;
    return len;
}

/* recovered - did attach run the boot recovery on this image? (a file
 * from another boot; a zero id means "boot unknown", not "another boot") */
static int recovered(size_t len)
{
    const struct store_hdr *h = (const void *) img, *b = (const void *) base;
    static const uint8_t zero[STORE_BOOT_LEN];

    return len >= sizeof(*h) && memcmp(b->boot_id, zero, sizeof(zero)) != 0
	&& memcmp(h->boot_id, zero, sizeof(zero)) != 0
	&& memcmp(h->boot_id, b->boot_id, sizeof(h->boot_id)) != 0;
}

/* lock_words - within one boot: valid mutexes with the file's lock words */
static void lock_words(size_t len)
{
    const struct store_hdr *h = (const void *) img, *b = (const void *) base;
    const uint8_t *mu = base + b->users.stripes_off;	/* a valid mutex */
    uint64_t off[2];
    uint32_t word;

    if (len < sizeof(*h))
	return;
    off[0] = h->users.stripes_off;	/* before the copies overwrite them */
    off[1] = h->clients.stripes_off;
    for (int t = 0; t < 2; t++) {
	if (off[t] > len || len - off[t] < STORE_STRIPES * sizeof(struct store_stripe))
	    continue;
	for (unsigned s = 0; s < STORE_STRIPES; s++) {
	    /* where store_tab.stripes[s] is */
	    uint8_t *m = img + off[t] + s * sizeof(struct store_stripe);

	    memcpy(&word, m, sizeof(word));	/* __lock comes first */
	    memcpy(m, mu, sizeof(pthread_mutex_t));
	    memcpy(m, &word, sizeof(word));
	}
    }
}

/* all_stripes_whole - every stripe of both tables passes the check */
static void all_stripes_whole(const STORE *st, const char *when)
{
    for (unsigned s = 0; s < STORE_STRIPES; s++) {
	FUZZ_CHECK(store_stripe_check(st, &st->users, s) == 0, when);
	FUZZ_CHECK(store_stripe_check(st, &st->clients, s) == 0, when);
    }
}

/* What a walk saw. */
struct walk {
    unsigned n;
    uint32_t ips_per_user;
};

/* user_seen - walk callback: a copy is bounded and terminated */
static int user_seen(const struct store_user *u, void *ctx)
{
    struct walk *w = ctx;

    FUZZ_CHECK(u->nips <= w->ips_per_user, "nips bounded");
    FUZZ_CHECK(memchr(u->login, 0, sizeof(u->login)) != NULL, "login terminated");
    FUZZ_CHECK(memchr(u->block.reason, 0, sizeof(u->block.reason)) != NULL,
	       "reason terminated");
    for (int i = 0; i < STORE_QIDS; i++)
	FUZZ_CHECK(memchr(u->qids[i], 0, STORE_QID_MAX) != NULL, "qid terminated");
    w->n++;
    return 0;
}

/* client_seen - walk callback */
static int client_seen(const struct store_client *c, void *ctx)
{
    FUZZ_CHECK(c->nlogins <= STORE_CLIENT_LOGINS, "nlogins bounded");
    FUZZ_CHECK(memchr(c->block.reason, 0, sizeof(c->block.reason)) != NULL,
	       "reason terminated");
    ++*(unsigned *) ctx;
    return 0;
}

/* status_ok - a status a call on a damaged store may return */
static int status_ok(int rc)
{
    return rc == STORE_OK || rc == STORE_NOTFOUND || rc == STORE_TIMEOUT
	|| rc == STORE_FULL || rc == STORE_EFORMAT;
}

/* read_all - stats, walks and lookups */
static void read_all(STORE *st)
{
    struct store_stats stats;
    struct store_user *u = malloc(sizeof(*u));
    struct store_client c;
    struct addr ip = ip_n(1);
    struct walk wu = { 0, st->ips_per_user };
    unsigned nc = 0;

    if (u == NULL)
	abort();
    store_get_stats(st, &stats);
    FUZZ_CHECK(stats.file_size == st->size, "stats file size");
    FUZZ_CHECK(status_ok(store_user_each(st, NOW, user_seen, &wu)),
	       "user walk status");
    FUZZ_CHECK(status_ok(store_client_each(st, NOW, client_seen, &nc)),
	       "client walk status");
    FUZZ_CHECK(wu.n <= (uint64_t) st->users.cap * STORE_STRIPES, "users walked");
    FUZZ_CHECK(nc <= (uint64_t) st->clients.cap * STORE_STRIPES, "clients walked");
    for (int i = 0; i < NLOGINS; i++)
	FUZZ_CHECK(status_ok(store_user_get(st, logins[i], NOW, u)),
		   "user get status");
    FUZZ_CHECK(status_ok(store_client_get(st, &ip, NOW, &c)), "client get status");
    (void) store_counter_get(st, 0);
    free(u);
}

/* write_all - updates, blocks, resets through a writable handle */
static void write_all(STORE *st)
{
    struct store_block b = { .until = NOW + 60, .action = 4,
	.setby = STORE_BY_RULE, .rule_id = 1, .reason = "fuzz-rule" };
    struct store_user *u = malloc(sizeof(*u));
    struct store_client *c = malloc(sizeof(*c));
    struct addr ip = ip_n(2);

    if (u == NULL || c == NULL)
	abort();
    for (unsigned i = 0; i < NLOGINS; i++)
	FUZZ_CHECK(status_ok(observe(st, logins[i], i, NOW + i, u, c)),
		   "update status");
    FUZZ_CHECK(status_ok(store_user_block(st, logins[3], &b, NOW)), "block status");
    FUZZ_CHECK(status_ok(store_client_block(st, &ip, &b, NOW)), "block status");
    FUZZ_CHECK(status_ok(store_user_reset(st, logins[0], NOW)), "reset status");
    FUZZ_CHECK(status_ok(store_client_reset(st, &ip, NOW)), "reset status");
    FUZZ_CHECK(status_ok(store_user_unblock(st, logins[1], NOW)), "unblock status");
    FUZZ_CHECK(status_ok(store_client_unblock(st, &ip, NOW)), "unblock status");
    FUZZ_CHECK(store_counter_add(st, 1, 1) == STORE_OK, "counter add");
    free(u);
    free(c);
}

/* LLVMFuzzerTestOneInput - write the state file, attach, use it */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct store_params p = { .path = path, .lock_timeout_ms = LOCK_MS };
    char err[ERR_LEN] = "";
    unsigned mode;
    size_t len, fsize;
    STORE *st = NULL;
    int rc, rec;

    if (size == 0)
	return 0;
    mode = data[0];
    len = file_image(mode, data + 1, size - 1, &fsize);
    /* a read-only handle leaves the locks to be repaired when met */
    if (!(rec = recovered(len) && (mode & (MODE_WRITE | MODE_SALVAGE))))
	lock_words(len);
    if (ftruncate(fd, 0) != 0
	|| (len > 0 && pwrite(fd, img, len < fsize ? len : fsize, 0) < 0)
	|| ftruncate(fd, (off_t) fsize) != 0)
	abort();
    p.flags = (mode & MODE_WRITE) ? 0 : STORE_READONLY;
    if (mode & MODE_SALVAGE) {
	p.flags = STORE_RECREATE;
	p.max_users = BASE_USERS;
	p.max_clients = BASE_CLIENTS;
	p.ips_per_user = BASE_IPS;
    }
    rc = store_open(&p, &st, err, sizeof(err));
    FUZZ_CHECK(rc == STORE_OK || rc == STORE_EFORMAT || rc == STORE_EIO,
	       "store_open status");
    FUZZ_CHECK((rc == STORE_OK) == (st != NULL), "handle only on success");
    if (rc != STORE_OK) {
	FUZZ_CHECK(err[0] != 0, "a failed open says why");
	return 0;
    }
    if ((rec && (mode & MODE_WRITE)) || (mode & MODE_SALVAGE))
	all_stripes_whole(st, "stripes whole after recovery or salvage");
    read_all(st);
    if (mode & MODE_WRITE) {
	write_all(st);
	if (rec)
	    all_stripes_whole(st, "stripes whole after updates");
	read_all(st);
    }
    store_close(st);
    if ((mode & MODE_SALVAGE) && (close(fd) != 0
				  || (fd = open(path, O_RDWR | O_CLOEXEC)) < 0))
	abort();		/* the path may name a new file now */
    return 0;
}
