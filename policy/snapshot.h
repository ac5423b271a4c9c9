/*
 * snapshot - what must survive a reboot of the state file's tmpfs: every
 * user's block, learned countries and first/last seen, every client's
 * block and first/last seen, the site's networks and places (their
 * vouching logins and days), written to a file on disk and put back into
 * an empty state file at start. Windows and address lists are not kept.
 *
 * The file is written whole under a temporary name in its directory,
 * synced, then renamed over the old one (a crash leaves the old one or
 * the new one, never half of either). Reading treats it as untrusted
 * input (snapshot_parse, also the fuzz target): a wrong size, magic,
 * version or checksum rejects the file; a record that does not check
 * out is skipped and counted. Functions return enum snapshot_status and
 * fill err; they never log.
 */
#ifndef RG_SNAPSHOT_H
#define RG_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

enum snapshot_status {
    SNAPSHOT_OK = 0,
    SNAPSHOT_ENOENT,		/* no snapshot file (yet) */
    SNAPSHOT_EIO,		/* open, read, write, rename failed */
    SNAPSHOT_EFORMAT,		/* not a whole, valid snapshot */
};

struct snapshot_counts {
    uint32_t users, clients;	/* records written or put back */
    uint32_t sites;		/* of the site's networks and places */
    uint32_t blocks;		/* of them, with a block in force */
    uint32_t skipped;		/* records that did not check out */
};

typedef int (*snapshot_user_fn) (const struct store_user *u, void *ctx);
typedef int (*snapshot_client_fn) (const struct store_client *c, void *ctx);

int snapshot_write(STORE *st, const char *path, uint32_t now,
		   struct snapshot_counts *out, char *err, size_t errlen);
int snapshot_restore(STORE *st, const char *path, uint32_t now,
		     struct snapshot_counts *out, char *err, size_t errlen);

/* Check a snapshot in memory and hand every valid record to the
 * callbacks (either may be NULL); blocks over at now are dropped. The
 * site's networks and places go to cfn too, after the clients: their
 * ip is a site entry's key (store_site_is_key). */
int snapshot_parse(const unsigned char *buf, size_t len, uint32_t now,
		   snapshot_user_fn ufn, snapshot_client_fn cfn, void *ctx,
		   struct snapshot_counts *out, char *err, size_t errlen);

#endif
