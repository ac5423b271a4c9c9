/*
 * mountinfo_test - a made-up mount table (proc(5)'s mountinfo format)
 * for the suites that test store_huge_pages (check_store.c) and what
 * relayguardctl stats says of it (check_ctl_state.c).
 */
#ifndef MOUNTINFO_TEST_H
#define MOUNTINFO_TEST_H

#include <check.h>
#include <stdio.h>

/* mountinfo_write - write at path a mount table: / on ext4, /tmp on a
 * tmpfs with huge=always, a line not of the format, and last fstype with
 * super options opts mounted on mp */
static inline void mountinfo_write(const char *path, const char *mp,
				   const char *fstype, const char *opts)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    fprintf(f, "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
	    "25 22 0:21 / /tmp rw,nosuid shared:5 - tmpfs tmpfs rw,huge=always\n"
	    "a broken line\n"
	    "30 25 0:40 / %s rw master:7 - %s none %s\n", mp, fstype, opts);
    fclose(f);
}

#endif /* MOUNTINFO_TEST_H */
