/*
 * proc - run an MTA tool without a shell: argument vector, pipes,
 * bounded output, a deadline.
 */
#ifndef RG_CTL_PROC_H
#define RG_CTL_PROC_H

#include <stdbool.h>
#include <stddef.h>

#define PROC_EXIT_EXEC 127	/* the child could not exec the program */
#define PROC_KILL_GRACE_MS 1000	/* SIGTERM, then SIGKILL after this */

struct proc_result {
    int status;			/* exit code, or -1 when killed by a signal */
    int signal;			/* the signal that ended it, or 0 */
    bool timed_out;		/* killed at the deadline */
    bool truncated;		/* more output than max_out (the rest dropped) */
    char *out;			/* stdout, NUL-terminated (may hold NULs) */
    size_t outlen;
    char *err;			/* stderr, NUL-terminated, bounded */
    size_t errlen;
};

int proc_run(const char *const *argv, unsigned timeout_ms, size_t max_out,
	     struct proc_result *r);
void proc_result_free(struct proc_result *r);
int proc_ok(const struct proc_result *r);

#endif
