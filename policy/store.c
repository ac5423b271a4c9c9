/*
 * store - the state file: creation, attach and header validation,
 * replacement with its entries carried over, statistics and the shared
 * counters.
 *
 * Contract: store_open returns a handle that every thread of the process
 * may share; the handle is immutable after open and every table access
 * goes through the stripe locks (store_lock.c, store_table.c). The header
 * is untrusted input: it is read with pread, each field checked, the
 * whole geometry recomputed from the capacities and compared, the file
 * size matched and a checksum verified before anything is mapped. A
 * failed check is STORE_EFORMAT with the reason in err. With
 * STORE_RECREATE the file is replaced instead, never silently: what can
 * still be read of it is carried into the new file (store_migrate.c) and
 * store_open_info tells the caller what was found, kept and lost, for
 * its log. A valid file of other capacities than configured is resized
 * the same way, unless another process has it attached: then it is used
 * as it is (two processes configured differently would otherwise
 * replace each other's file for ever).
 *
 * Creation and replacement never expose a half-built file: the new file
 * is built (and filled) under a temporary name in the same directory,
 * then link()ed (create: loses cleanly to a concurrent creator) or
 * rename()d (replace) into place. Attachers hold an flock on the file
 * while they check it, so two processes never replace the same file
 * twice, and re-check that the path still names the file they locked.
 * Every attached handle also holds a shared OFD lock on the file's first
 * byte (store_lock.c), which is how an attacher knows whether it is
 * alone: alone, it makes every stripe lock new and checks every stripe,
 * so no damaged lock word survives a restart. The header's boot id does
 * the same for the first attacher after a reboot of a file kept on disk.
 *
 * STORE_READONLY (relayguardctl's reading commands): the file is opened
 * O_RDONLY and mapped PROT_READ, without the flock and without the
 * after-boot repair; such a handle takes no lock and writes nothing
 * (store_ro.c reads it under the stripes' write sequence).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "errbuf.h"
#include "cfg.h"
#include "store_int.h"

#define BOOT_ID_PATH	"/proc/sys/kernel/random/boot_id"
#define BOOT_ID_TEXT	36	/* 8-4-4-4-12 hex digits */
#define TMP_SUFFIX	".XXXXXX"
#define DEFAULT_MODE	0600
#define OPEN_TRIES	4
#define STORE_RETRY	(-1)	/* internal: the file changed, try again */
#define FNV_OFFSET	2166136261u
#define FNV_PRIME	16777619u
#define KNOWN_FLAGS	(STORE_CREATE | STORE_RECREATE | STORE_READONLY \
			 | STORE_OWNED)

_Static_assert(sizeof(struct store_ip) == 40, "packed IP entry");
_Static_assert(sizeof(struct store_stripe) <= STORE_STRIPE_SIZE, "stripe");
_Static_assert(sizeof(struct store_hdr) <= STORE_HDR_SIZE, "header");
_Static_assert(offsetof(struct store_hdr, counters)
	       == offsetof(struct store_hdr, boot_id) + STORE_LINE,
	       "site_start fits the line of boot_id: the layout is format 7's");
_Static_assert(STORE_IPS_MAX <= UINT8_MAX && STORE_CLIENT_LOGINS <= UINT8_MAX,
	       "counts kept in a byte");
_Static_assert((STORE_STRIPES & (STORE_STRIPES - 1)) == 0, "stripes");

/* store_abi_of - a fingerprint of the in-file structures of a format
 * this build reads: STORE_VERSION, or STORE_VERSION_7, whose user slot
 * is this one without ext (store_int.h); 0 for any other */
uint32_t store_abi_of(uint32_t version)
{
    uint32_t urec = (uint32_t) sizeof(struct store_urec)
	- (version == STORE_VERSION_7 ? STORE_EXT_LEN : 0);
    uint32_t h = FNV_OFFSET;
    const uint32_t words[] = {
	sizeof(pthread_mutex_t), sizeof(struct store_stripe),
	sizeof(struct store_hdr), offsetof(struct store_hdr, counters),
	sizeof(struct store_link), sizeof(struct store_ip),
	urec, offsetof(struct store_urec, win),
	sizeof(struct store_crec), offsetof(struct store_crec, logins),
	sizeof(struct store_win), sizeof(struct store_block),
	STORE_LOGIN_MAX, STORE_QIDS, STORE_QID_MAX, STORE_COUNTRIES, STORE_NETS,
	STORE_CLIENT_LOGINS, STORE_HDR_COUNTERS,
    };

    if (version != STORE_VERSION && version != STORE_VERSION_7)
	return 0;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
	for (int b = 0; b < 32; b += 8)
	    h = (h ^ ((words[i] >> b) & 0xff)) * FNV_PRIME;
    return h;
}

/* store_abi - the fingerprint of this build's format */
uint32_t store_abi(void)
{
    return store_abi_of(STORE_VERSION);
}

/* round_up - round to a power-of-two multiple */
static uint64_t round_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* store_user_stride_of - bytes of one user slot of a format read:
 * whole cache lines, so a slot shares no line with its neighbours */
uint32_t store_user_stride_of(uint32_t version, uint32_t ips_per_user)
{
    uint64_t urec = sizeof(struct store_urec);

    if (version == STORE_VERSION_7)
	urec -= STORE_EXT_LEN;
    return (uint32_t) round_up(urec + (uint64_t) ips_per_user
			       * sizeof(struct store_ip), STORE_LINE);
}

/* store_user_stride - bytes of one user slot (1280 with 16 IPs) */
uint32_t store_user_stride(uint32_t ips_per_user)
{
    return store_user_stride_of(STORE_VERSION, ips_per_user);
}

/* client_stride - bytes of one client slot, whole cache lines */
static uint32_t client_stride(void)
{
    return (uint32_t) round_up(sizeof(struct store_crec), STORE_LINE);
}

/* store_geom_make - lay one table out from *off on; advance *off. The
 * slots start on a page, so a slot of 1024 bytes never spans two. */
int store_geom_make(uint32_t max, uint32_t stride, uint64_t *off,
		    struct store_geom *g)
{
    uint32_t cap;

    if (max == 0 || max > STORE_MAX_ENTRIES)
	return -1;
    cap = (max + STORE_STRIPES - 1) / STORE_STRIPES;
    memset(g, 0, sizeof(*g));
    g->cap = cap;
    g->stride = stride;
    g->stripes_off = round_up(*off, STORE_LINE);
    g->slots_off = round_up(g->stripes_off
			    + STORE_STRIPES * STORE_STRIPE_SIZE, STORE_PAGE);
    g->end_off = round_up(g->slots_off
			  + (uint64_t) STORE_STRIPES * cap * stride,
			  STORE_PAGE);
    *off = g->end_off;
    return 0;
}

/* header_layout_of - fill every derived field of a header of a format
 * this build reads; -1 if invalid */
static int header_layout_of(struct store_hdr *h, uint32_t version,
			    uint32_t max_users, uint32_t max_clients,
			    uint32_t ips)
{
    uint64_t off = STORE_HDR_SIZE;

    if (ips == 0 || ips > STORE_IPS_MAX || store_abi_of(version) == 0)
	return -1;
    h->magic = STORE_MAGIC;
    h->version = version;
    h->abi = store_abi_of(version);
    h->hdr_size = STORE_HDR_SIZE;
    h->nstripes = STORE_STRIPES;
    h->max_users = max_users;
    h->max_clients = max_clients;
    h->ips_per_user = ips;
    if (store_geom_make(max_users, store_user_stride_of(version, ips), &off,
			&h->users)
	|| store_geom_make(max_clients, client_stride(), &off,
			   &h->clients))
	return -1;
    h->file_size = off;
    return off > (uint64_t) SIZE_MAX / 2 ? -1 : 0;
}

/* header_layout - this build's format */
static int header_layout(struct store_hdr *h, uint32_t max_users,
			 uint32_t max_clients, uint32_t ips)
{
    return header_layout_of(h, STORE_VERSION, max_users, max_clients, ips);
}

/* header_check - SipHash under the zero key of the immutable part */
static uint64_t header_check(const struct store_hdr *h)
{
    static const uint8_t zero_key[STORE_KEY_LEN];

    return store_siphash(zero_key, h, offsetof(struct store_hdr, check));
}

/* header_validate - every field of an untrusted header */
static int header_validate(const struct store_hdr *h, uint64_t size,
			   char *err, size_t errlen)
{
    struct store_hdr want;

    memset(&want, 0, sizeof(want));
    if (h->magic != STORE_MAGIC)
	return errbuf_set(err, errlen, "not a relayguard state file (magic)"),
	    STORE_EFORMAT;
    if (h->version != STORE_VERSION)
	return errbuf_set(err, errlen, "format version %u, this build uses %u",
			  h->version, STORE_VERSION), STORE_EFORMAT;
    if (h->abi != store_abi())
	return errbuf_set(err, errlen, "ABI word %#x, this build uses %#x",
			  h->abi, store_abi()), STORE_EFORMAT;
    if (h->hdr_size != STORE_HDR_SIZE || h->nstripes != STORE_STRIPES
	|| h->pad0 != 0)
	return errbuf_set(err, errlen, "header size %u or stripes %u wrong",
			  h->hdr_size, h->nstripes), STORE_EFORMAT;
    if (header_layout(&want, h->max_users, h->max_clients, h->ips_per_user)
	|| memcmp(&want.users, &h->users, sizeof(want.users))
	|| memcmp(&want.clients, &h->clients, sizeof(want.clients))
	|| want.file_size != h->file_size)
	return errbuf_set(err, errlen, "capacities (users %u, clients %u, "
			  "ips %u) do not match the layout", h->max_users,
			  h->max_clients, h->ips_per_user), STORE_EFORMAT;
    if (h->file_size != size)
	return errbuf_set(err, errlen, "file is %llu bytes, header says %llu",
			  (unsigned long long) size,
			  (unsigned long long) h->file_size), STORE_EFORMAT;
    if (h->check != header_check(h))
	return errbuf_set(err, errlen, "header checksum mismatch"),
	    STORE_EFORMAT;
    return STORE_OK;
}

/* caps_differ - a valid file made with other capacities than p asks
 * for (0 in p: take the file's)? 1 with err saying so */
static int caps_differ(const struct store_hdr *h,
		       const struct store_params *p, char *err, size_t errlen)
{
    if ((p->max_users && p->max_users != h->max_users)
	|| (p->max_clients && p->max_clients != h->max_clients)
	|| (p->ips_per_user && p->ips_per_user != h->ips_per_user))
	return errbuf_set(err, errlen, "file has users %u, clients %u, ips %u;"
			  " configured %u, %u, %u", h->max_users,
			  h->max_clients, h->ips_per_user, p->max_users,
			  p->max_clients, p->ips_per_user), 1;
    return 0;
}

/* layout_readable - can an invalid header's layout still be trusted to
 * read entries by? The same format and build (or format 7 of this
 * build: store_migrate.c carries its slots into 8), capacities whose layout
 * fills this file or more (a file cut short keeps the slots before the
 * cut: want->file_size is the size there is, the salvage reads no
 * further); *want is that layout, with the old key */
static int layout_readable(const struct store_hdr *h, uint64_t size,
			   struct store_hdr *want)
{
    memset(want, 0, sizeof(*want));
    if (h->abi != store_abi_of(h->version)
	|| header_layout_of(want, h->version, h->max_users, h->max_clients,
			    h->ips_per_user)
	|| memcmp(&want->users, &h->users, sizeof(want->users))
	|| memcmp(&want->clients, &h->clients, sizeof(want->clients))
	|| want->file_size < size || size < want->users.slots_off)
	return 0;
    want->file_size = size;
    memcpy(want->key, h->key, sizeof(want->key));
    return 1;
}

/* boot_id - this boot's id, or zeros if the kernel does not say */
static void boot_id(uint8_t id[STORE_BOOT_LEN])
{
    char text[BOOT_ID_TEXT + 1];
    ssize_t n;
    int fd, k = 0;

    memset(id, 0, STORE_BOOT_LEN);
    if ((fd = open(BOOT_ID_PATH, O_RDONLY | O_CLOEXEC)) < 0)
	return;
    n = read(fd, text, BOOT_ID_TEXT);
    close(fd);
    if (n != BOOT_ID_TEXT)
	return;
    for (int i = 0; i < BOOT_ID_TEXT && k < 2 * STORE_BOOT_LEN; i++) {
	char c = text[i];
	int v = c >= '0' && c <= '9' ? c - '0'
	    : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

	if (v >= 0) {
	    id[k / 2] = (uint8_t) (id[k / 2] << 4 | v);
	    k++;
	}
    }
}

/* stripes_init - initialise every stripe lock of a new file */
static int stripes_init(STORE *st)
{
    for (unsigned s = 0; s < STORE_STRIPES; s++)
	if (store_mutex_init(&st->users.stripes[s].mu) != 0
	    || store_mutex_init(&st->clients.stripes[s].mu) != 0)
	    return -1;
    return 0;
}

/* tab_setup - a table's pointers from its validated geometry */
static void tab_setup(STORE *st, struct store_tab *t,
		      const struct store_geom *g, int is_user)
{
    t->stripes = (struct store_stripe *) (void *) (st->base + g->stripes_off);
    t->slots = st->base + g->slots_off;
    t->cap = g->cap;
    t->stride = g->stride;
    t->is_user = is_user;
    t->kept = is_user ? NULL : store_client_kept;
    if (is_user) {
	t->koff = offsetof(struct store_urec, login);
	t->klen = STORE_LOGIN_MAX;
	t->block_off = offsetof(struct store_urec, block);
    } else {
	t->koff = offsetof(struct store_crec, ip);
	t->klen = sizeof(((struct store_crec *) 0)->ip);
	t->block_off = offsetof(struct store_crec, block);
    }
}

/* handle_setup - map a validated file and point the handle into it */
static int handle_setup(STORE *st, int fd, const struct store_hdr *h,
			char *err, size_t errlen)
{
    struct stat sb;
    void *map;

    if (fstat(fd, &sb) != 0)
	return errbuf_set(err, errlen, "fstat %s: %s", st->path,
			  strerror(errno)), STORE_EIO;
    map = mmap(NULL, h->file_size, (st->flags & STORE_READONLY) ? PROT_READ
	       : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
	return errbuf_set(err, errlen, "mmap %s: %s", st->path,
			  strerror(errno)), STORE_EIO;
    /* Every update lands on a random slot: with 4 KiB pages most of them
     * also miss the TLB. A tmpfs mounted with huge=advise takes 2 MiB
     * pages when asked (huge=always or within_size needs no asking; a
     * plain tmpfs ignores this). Best effort: nothing depends on it. */
    (void) madvise(map, h->file_size, MADV_HUGEPAGE);
    st->base = map;
    st->size = h->file_size;
    st->fd = fd;
    st->dev = sb.st_dev;
    st->ino = sb.st_ino;
    st->hdr = map;
    memcpy(st->key, h->key, sizeof(st->key));
    st->version = h->version;
    st->max_users = h->max_users;
    st->max_clients = h->max_clients;
    st->ips_per_user = h->ips_per_user;
    tab_setup(st, &st->users, &h->users, 1);
    tab_setup(st, &st->clients, &h->clients, 0);
    return STORE_OK;
}

/* handle_drop - undo handle_setup */
static void handle_drop(STORE *st)
{
    if (st->base != NULL)
	munmap(st->base, st->size);
    if (st->fd >= 0)
	close(st->fd);
    st->base = NULL;
    st->hdr = NULL;
    st->fd = -1;
}

/* file_build - size, fill and initialise a new file on fd */
static int file_build(STORE *st, int fd, struct store_hdr *h, mode_t mode,
		      const STORE *src, char *err, size_t errlen)
{
    int rc;

    if (fchmod(fd, mode ? mode : DEFAULT_MODE) != 0
	|| ftruncate(fd, (off_t) h->file_size) != 0)
	return errbuf_set(err, errlen, "create %s: %s", st->path,
			  strerror(errno)), STORE_EIO;
    /* reserve the space now: a full disk must fail here, not SIGBUS later */
    if ((rc = posix_fallocate(fd, 0, (off_t) h->file_size)) != 0
	&& rc != EOPNOTSUPP && rc != EINVAL)
	return errbuf_set(err, errlen, "allocate %llu bytes for %s: %s",
			  (unsigned long long) h->file_size, st->path,
			  strerror(rc)), STORE_EIO;
    if (src != NULL)		/* carried entries keep their login hashes */
	memcpy(h->key, src->key, sizeof(h->key));
    else if (RAND_bytes(h->key, sizeof(h->key)) != 1)
	return errbuf_set(err, errlen, "RAND_bytes failed"), STORE_EIO;
    h->check = header_check(h);
    if ((rc = handle_setup(st, fd, h, err, errlen)) != STORE_OK)
	return rc;
    memcpy(st->hdr, h, sizeof(*h));
    boot_id(st->hdr->boot_id);
    if (stripes_init(st) != 0)
	return errbuf_set(err, errlen, "cannot initialise stripe locks"),
	    STORE_EIO;
    (void) store_lk_attach(fd);	/* see locks_attach */
    return STORE_OK;
}

/* file_create - build a new file under a temporary name (filled from
 * src if given, see store_migrate.c), then publish */
static int file_create(STORE *st, const struct store_params *p,
		       uint64_t generation, int replace, STORE *src,
		       int valid, char *err, size_t errlen)
{
    struct store_hdr h;
    char *tmp;
    int fd, rc;

    memset(&h, 0, sizeof(h));
    if (header_layout(&h, p->max_users, p->max_clients, p->ips_per_user))
	return errbuf_set(err, errlen, "cannot create %s: max_users and "
			  "max_clients 1..%u, ips_per_user 1..%u needed",
			  st->path, STORE_MAX_ENTRIES, STORE_IPS_MAX),
	    STORE_EARG;
    if ((tmp = malloc(strlen(st->path) + sizeof(TMP_SUFFIX))) == NULL)
	return errbuf_set(err, errlen, "out of memory"), STORE_EIO;
    strcpy(stpcpy(tmp, st->path), TMP_SUFFIX);
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
	errbuf_set(err, errlen, "create %s: %s", tmp, strerror(errno));
	free(tmp);
	return STORE_EIO;
    }
    rc = file_build(st, fd, &h, p->mode, src, err, errlen);
    if (rc == STORE_OK)
	__atomic_store_n(&st->hdr->generation, generation, __ATOMIC_RELAXED);
    if (rc == STORE_OK && src != NULL
	&& (rc = store_migrate(st, src, valid, p->now, &st->info)) != STORE_OK)
	errbuf_set(err, errlen, "carrying entries into a new %s: %s",
		   st->path, store_strerror(rc));
    if (rc == STORE_OK && !replace)
	st->info.how = STORE_OPENED_CREATED;
    if (rc == STORE_OK && (replace ? rename(tmp, st->path)
			   : link(tmp, st->path)) != 0) {
	rc = !replace && errno == EEXIST ? STORE_RETRY : STORE_EIO;
	errbuf_set(err, errlen, "publish %s: %s", st->path, strerror(errno));
    }
    if (!replace || rc != STORE_OK)
	unlink(tmp);
    if (rc != STORE_OK) {
	if (st->fd < 0)
	    close(fd);
	handle_drop(st);
    }
    free(tmp);
    return rc;
}

/* boot_recover - first attach since boot: fresh locks, checked stripes
 * (already done when renewed: nobody else was attached) */
static void boot_recover(STORE *st, int renewed)
{
    uint8_t id[STORE_BOOT_LEN], zero[STORE_BOOT_LEN] = { 0 };

    boot_id(id);
    if (memcmp(id, zero, sizeof(id)) == 0
	|| memcmp(id, st->hdr->boot_id, sizeof(id)) == 0)
	return;
    if (!renewed && memcmp(st->hdr->boot_id, zero, sizeof(id)) != 0
	&& store_locks_renew(st) != 0)
	return;			/* store_lock repairs what is left */
    memcpy(st->hdr->boot_id, id, sizeof(id));
}

/* locks_attach - take our share of the file's "attached" lock; alone,
 * make every stripe lock new, else repair only the unusable ones. On a
 * file system without OFD locks nobody can tell who is there, so every
 * attacher only repairs. A STORE_READONLY handle changes nothing here:
 * a lock it takes is repaired when met (store_lock). */
static void locks_attach(STORE *st, int fd)
{
    int others = store_lk_others(fd), renewed = 0;

    if (store_lk_attach(fd) != 0)
	others = 1;
    if (st->flags & STORE_READONLY)
	return;
    if (others == 0)
	renewed = store_locks_renew(st) == 0;
    else
	store_locks_validate(st);
    boot_recover(st, renewed);
}

/* header_read - read and validate the header of an open file */
static int header_read(int fd, const struct stat *sb, struct store_hdr *h,
		       char *err, size_t errlen)
{
    ssize_t n;

    memset(h, 0, sizeof(*h));
    if (sb->st_size < STORE_HDR_SIZE)
	return errbuf_set(err, errlen, "truncated: %lld bytes, the header "
			  "alone needs %d", (long long) sb->st_size,
			  STORE_HDR_SIZE), STORE_EFORMAT;
    n = pread(fd, h, sizeof(*h), 0);
    if (n != (ssize_t) sizeof(*h))
	return errbuf_set(err, errlen, "read header: %s",
			  n < 0 ? strerror(errno) : "short read"), STORE_EIO;
    return header_validate(h, (uint64_t) sb->st_size, err, errlen);
}

/* same_file - does the path still name the file we hold? */
static int same_file(const char *path, const struct stat *sb)
{
    struct stat now;

    return sb->st_nlink > 0 && stat(path, &now) == 0
	&& now.st_dev == sb->st_dev && now.st_ino == sb->st_ino;
}

/* others_besides - is the file attached by another handle than prev
 * (this process's own, on a reload)? Cannot tell counts as yes. */
static int others_besides(int fd, const struct stat *sb, const STORE *prev)
{
    int same = prev != NULL && prev->fd >= 0 && prev->dev == sb->st_dev
	&& prev->ino == sb->st_ino, others;

    if (same)
	store_lk_detach(prev->fd);
    others = store_lk_others(fd) != 0;
    if (same)
	store_lk_attach(prev->fd);
    return others;
}

/* file_replace - a new file for an invalid one or one of other
 * capacities (valid), carrying over what can be read of the old */
static int file_replace(STORE *st, const struct store_params *p, int fd,
			const struct store_hdr *h, uint64_t size, int valid,
			char *err, size_t errlen)
{
    struct store_hdr lay;
    STORE src;
    int rc, readable = layout_readable(h, size, &lay);

    memset(&src, 0, sizeof(src));
    src.fd = -1;
    src.path = st->path;
    src.flags = 0;		/* walked under its locks (store_migrate.c) */
    src.lock_ref = st->lock_ref;
    src.lock_timeout_ms = st->lock_timeout_ms;
    st->info.how = valid ? STORE_OPENED_RESIZED : STORE_OPENED_REPLACED;
    if (!valid)
	snprintf(st->info.why, sizeof(st->info.why), "%s", err);
    if (readable && handle_setup(&src, fd, &lay, err, errlen) != STORE_OK)
	readable = 0;
    st->info.readable = readable;
    if (readable) {
	st->info.old_users = h->max_users;
	st->info.old_clients = h->max_clients;
	st->info.old_ips = h->ips_per_user;
    }
    rc = file_create(st, p, h->magic == STORE_MAGIC ? h->generation + 1 : 1,
		     1, readable ? &src : NULL, valid, err, errlen);
    if (src.base != NULL)
	munmap(src.base, src.size);
    return rc;
}

/* attach_locked - check the flocked file; use it, replace it, or fail.
 * A file of other capacities that another process uses is kept as it
 * is: replacing it would make that process replace ours in turn. */
static int attach_locked(STORE *st, int fd, const struct store_params *p,
			 char *err, size_t errlen)
{
    struct store_hdr h;
    struct stat sb;
    int rc;

    if (fstat(fd, &sb) != 0)
	return errbuf_set(err, errlen, "fstat %s: %s", st->path,
			  strerror(errno)), STORE_EIO;
    if (!same_file(st->path, &sb))
	return STORE_RETRY;
    if ((p->flags & STORE_OWNED) && sb.st_uid != geteuid())
	return errbuf_set(err, errlen, "%s belongs to uid %ld, not to us (uid "
			  "%ld)", st->path, (long) sb.st_uid,
			  (long) geteuid()), STORE_EIO;
    rc = header_read(fd, &sb, &h, err, errlen);
    if (rc == STORE_OK && caps_differ(&h, p, err, errlen)) {
	if (!others_besides(fd, &sb, p->prev)) {
	    if (!(p->flags & STORE_RECREATE))
		return STORE_EFORMAT;
	    return file_replace(st, p, fd, &h, (uint64_t) sb.st_size, 1, err,
				errlen);
	}
	st->info.how = STORE_OPENED_KEPT;
	st->info.old_users = h.max_users;
	st->info.old_clients = h.max_clients;
	st->info.old_ips = h.ips_per_user;
    } else if (rc == STORE_EFORMAT && (p->flags & STORE_RECREATE))
	return file_replace(st, p, fd, &h, (uint64_t) sb.st_size, 0, err,
			    errlen);
    if (rc != STORE_OK)
	return rc;
    if ((rc = handle_setup(st, fd, &h, err, errlen)) != STORE_OK)
	return rc;
    locks_attach(st, fd);
    return STORE_OK;
}

/* attach_readonly - map a valid file for reading only: no flock (a
 * reader must not be able to stall the milter, nor be stalled), no repair
 * (store_ro.c) */
static int attach_readonly(STORE *st, const struct store_params *p,
			   char *err, size_t errlen)
{
    struct store_hdr h;
    struct stat sb;
    int fd, rc;

    /* O_NONBLOCK: a FIFO in its place must not hang us */
    if ((fd = open(st->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK))
	< 0)
	return errbuf_set(err, errlen, "open %s: %s", st->path,
			  strerror(errno)), STORE_EIO;
    if (fstat(fd, &sb) != 0) {
	errbuf_set(err, errlen, "fstat %s: %s", st->path, strerror(errno));
	rc = STORE_EIO;
    } else if (!S_ISREG(sb.st_mode)) {
	errbuf_set(err, errlen, "%s is not a regular file", st->path);
	rc = STORE_EFORMAT;
    } else {
	rc = header_read(fd, &sb, &h, err, errlen);
	if (rc == STORE_OK && caps_differ(&h, p, err, errlen))
	    rc = STORE_EFORMAT;
    }
    if (rc == STORE_OK)
	rc = handle_setup(st, fd, &h, err, errlen);
    if (rc == STORE_OK && (rc = store_ro_attach(st)) != STORE_OK)
	errbuf_set(err, errlen, "%s: %s", st->path, store_strerror(rc));
    if (st->fd != fd)
	close(fd);
    return rc;
}

/* attach_once - open the path and attach, create it or replace it */
static int attach_once(STORE *st, const struct store_params *p, char *err,
		       size_t errlen)
{
    int fd, rc;

    memset(&st->info, 0, sizeof(st->info));
    if (p->flags & STORE_READONLY)
	return attach_readonly(st, p, err, errlen);
    fd = open(st->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT && (p->flags & STORE_CREATE))
	return file_create(st, p, 1, 0, NULL, 0, err, errlen);
    if (fd < 0)
	return errbuf_set(err, errlen, "open %s: %s%s", st->path,
			  strerror(errno), errno == EACCES
			  ? " (locking needs write access to the file)" : ""),
	    STORE_EIO;
    while (flock(fd, LOCK_EX) != 0)
	if (errno != EINTR) {
	    errbuf_set(err, errlen, "flock %s: %s", st->path, strerror(errno));
	    close(fd);
	    return STORE_EIO;
	}
    rc = attach_locked(st, fd, p, err, errlen);
    if (rc == STORE_OK && st->fd == fd)
	flock(fd, LOCK_UN);
    else
	close(fd);		/* replaced, failed or retried: drops the flock */
    return rc;
}

/* params_check - reject impossible parameters before touching files */
static int params_check(const struct store_params *p, STORE **out,
			char *err, size_t errlen)
{
    if (p == NULL || out == NULL || p->path == NULL || p->path[0] == '\0')
	return errbuf_set(err, errlen, "no state file path"), STORE_EARG;
    if ((p->flags & ~(unsigned) KNOWN_FLAGS)
	|| ((p->flags & STORE_READONLY)
	    && (p->flags & (STORE_CREATE | STORE_RECREATE))))
	return errbuf_set(err, errlen, "bad flags %#x", p->flags), STORE_EARG;
    if (p->ips_per_user > STORE_IPS_MAX || p->max_users > STORE_MAX_ENTRIES
	|| p->max_clients > STORE_MAX_ENTRIES
	|| p->lock_timeout_ms > STORE_TIMEOUT_MAX_MS)
	return errbuf_set(err, errlen,
			  "capacity or lock timeout out of range"), STORE_EARG;
    return STORE_OK;
}

/* store_open - attach to (maybe create or replace) the state file */
int store_open(const struct store_params *p, STORE **out, char *err,
	       size_t errlen)
{
    STORE *st;
    int rc;

    if ((rc = params_check(p, out, err, errlen)) != STORE_OK)
	return rc;
    *out = NULL;
    if ((st = calloc(1, sizeof(*st))) == NULL
	|| (st->path = strdup(p->path)) == NULL) {
	free(st);
	return errbuf_set(err, errlen, "out of memory"), STORE_EIO;
    }
    st->fd = -1;
    st->flags = p->flags;
    st->lock_ref = store_lock_reference();
    st->lock_timeout_ms = p->lock_timeout_ms ? p->lock_timeout_ms
	: STORE_LOCK_DEFAULT_MS;
    rc = STORE_RETRY;
    for (int i = 0; i < OPEN_TRIES && rc == STORE_RETRY; i++)
	rc = attach_once(st, p, err, errlen);
    if (rc == STORE_RETRY) {
	errbuf_set(err, errlen, "%s keeps changing under us", p->path);
	rc = STORE_EIO;
    }
    if (rc != STORE_OK) {
	store_close(st);
	return rc;
    }
    *out = st;
    return STORE_OK;
}

/* store_params_from_cfg - open parameters from the configured state section */
void store_params_from_cfg(const struct cfg_state *s, unsigned flags,
			   mode_t mode, struct store_params *out)
{
    memset(out, 0, sizeof(*out));
    out->path = s->path;
    out->max_users = s->max_users;
    out->max_clients = s->max_clients;
    out->ips_per_user = s->ips_per_user;
    out->lock_timeout_ms = s->lock_timeout_ms;
    out->flags = flags;
    out->mode = mode;
}

/* store_open_info - what store_open found and did, for its caller's log */
void store_open_info(const STORE *st, struct store_open_info *out)
{
    if (st == NULL)
	memset(out, 0, sizeof(*out));
    else
	*out = st->info;
}

/* store_close - detach; the file stays */
void store_close(STORE *st)
{
    if (st == NULL)
	return;
    handle_drop(st);
    store_ro_detach(st);
    free(st->path);
    free(st);
}

/* store_stale - has the path been replaced or removed since we attached? */
int store_stale(const STORE *st)
{
    struct stat sb;

    if (st == NULL || stat(st->path, &sb) != 0)
	return 1;
    return sb.st_dev != st->dev || sb.st_ino != st->ino;
}

/* counter_at - where counter idx (< STORE_NCOUNTERS) lives in a header
 * page: struct store_hdr's array, or the page's spare bytes after it */
static uint64_t *counter_at(struct store_hdr *h, unsigned idx)
{
    if (idx < STORE_HDR_COUNTERS)
	return &h->counters[idx];
    return (uint64_t *) (void *) ((unsigned char *) h + STORE_MORE_OFF)
	+ (idx - STORE_HDR_COUNTERS);
}

/* store_counter_add - bump a shared counter */
int store_counter_add(STORE *st, unsigned idx, uint64_t n)
{
    if (st == NULL || idx >= STORE_NCOUNTERS || (st->flags & STORE_READONLY))
	return STORE_EARG;
    store_stat_add(counter_at(st->hdr, idx), n);
    return STORE_OK;
}

/* store_counter_set - set a shared gauge (one writer at a time) */
int store_counter_set(STORE *st, unsigned idx, uint64_t v)
{
    if (st == NULL || idx >= STORE_NCOUNTERS || (st->flags & STORE_READONLY))
	return STORE_EARG;
    __atomic_store_n(counter_at(st->hdr, idx), v, __ATOMIC_RELAXED);
    return STORE_OK;
}

/* store_counter_get - read a shared counter (a read-only handle: from
 * its copy of the header page) */
uint64_t store_counter_get(const STORE *st, unsigned idx)
{
    if (st == NULL || idx >= STORE_NCOUNTERS)
	return 0;
    if (st->ro_hdr != NULL)
	return *counter_at(st->ro_hdr, idx);
    return __atomic_load_n(counter_at(st->hdr, idx), __ATOMIC_RELAXED);
}

/* store_get_stats - sizes, fill and event counts */
int store_get_stats(STORE *st, struct store_stats *out)
{
    const struct store_hdr *h = st->hdr;
    int rc = STORE_OK;

    memset(out, 0, sizeof(*out));
    if (st->ro_hdr != NULL) {	/* the fill comes from a guarded walk */
	if ((rc = store_ro_header(st)) != STORE_OK
	    || (rc = store_ro_fill(st, &out->users, &out->clients))
	    != STORE_OK)
	    return rc;
	h = st->ro_hdr;
    } else {
	for (unsigned s = 0; s < STORE_STRIPES; s++) {
	    out->users += store_stripe_count(&st->users, s);
	    out->clients += store_stripe_count(&st->clients, s);
	}
    }
    out->max_users = st->users.cap * STORE_STRIPES;
    out->max_clients = st->clients.cap * STORE_STRIPES;
    out->ips_per_user = st->ips_per_user;
    out->evictions = __atomic_load_n(&h->evictions, __ATOMIC_RELAXED);
    out->site_evictions = __atomic_load_n(&h->site_evictions,
					  __ATOMIC_RELAXED);
    out->lock_timeouts = __atomic_load_n(&h->lock_timeouts, __ATOMIC_RELAXED);
    out->owner_dead_recoveries = __atomic_load_n(&h->owner_dead,
						 __ATOMIC_RELAXED);
    out->stripe_resets = __atomic_load_n(&h->stripe_resets,
					 __ATOMIC_RELAXED);
    out->generation = __atomic_load_n(&h->generation, __ATOMIC_RELAXED);
    out->file_size = st->size;
    out->user_stride = st->users.stride;
    out->client_stride = st->clients.stride;
    out->user_bytes = (size_t) ((h->users.end_off - h->users.stripes_off)
				/ ((uint64_t) STORE_STRIPES * st->users.cap));
    return rc;
}

/* store_strerror - text of a status */
const char *store_strerror(int status)
{
    static const char *const text[] = {
	[STORE_OK] = "ok",
	[STORE_NOTFOUND] = "no such entry",
	[STORE_TIMEOUT] = "stripe lock wait timed out",
	[STORE_FULL] = "table full: every entry is blocked",
	[STORE_EIO] = "state file I/O error",
	[STORE_EFORMAT] = "state file invalid",
	[STORE_EARG] = "bad argument",
	[STORE_ESHRUNK] = "state file shrank while being read (truncated?)",
    };

    if (status < 0 || (size_t) status >= sizeof(text) / sizeof(text[0]))
	return "unknown store status";
    return text[status];
}

/* store_site_start - see store.h */
uint32_t store_site_start(STORE *st, uint32_t now)
{
    uint32_t t;

    if (st->ro_hdr != NULL)	/* read-only: the copy, never the mapping */
	return st->ro_hdr->site_start;
    t = __atomic_load_n(&st->hdr->site_start, __ATOMIC_RELAXED);

    if (t != 0 || now == 0)
	return t;
    if (__atomic_compare_exchange_n(&st->hdr->site_start, &t, now, false,
				    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
	return now;
    return t;			/* another writer set it first */
}

/* store_site_start_keep - see store.h */
void store_site_start_keep(STORE *st, uint32_t t)
{
    uint32_t cur = __atomic_load_n(&st->hdr->site_start, __ATOMIC_RELAXED);

    while (t != 0 && (cur == 0 || t < cur)
	   && !__atomic_compare_exchange_n(&st->hdr->site_start, &cur, t,
					   false, __ATOMIC_RELAXED,
					   __ATOMIC_RELAXED))
	;
}
