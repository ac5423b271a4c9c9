/*
 * nfd - run nfdump (its command line is the stable interface; nfdump has
 * no library) with filters pushed down, several at once, and hand each
 * line of their output to a callback; read flow text from a descriptor.
 *
 * Contract: nfd_run forks and execs without a shell, with TZ=UTC; it
 * returns when every job has ended. Each job's standard error is kept
 * (bounded) because nfdump reports broken files there with exit code 0.
 * Nothing is logged here.
 */
#ifndef RG_NFD_H
#define RG_NFD_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define NFD_ARGS_MAX 16
#define NFD_JOBS_MAX 8		/* nfdump processes at once */
#define NFD_ERR_MAX 2048
#define NFD_LINE_MAX 65536	/* longer lines are cut and passed on */

typedef void (*nfd_line_fn) (void *ctx, const char *line, size_t len,
			     uint64_t lineno);

struct nfd_job {
    const char *argv[NFD_ARGS_MAX + 1];
    nfd_line_fn fn;
    void *ctx;
    /* results */
    int exit_code;		/* -1: did not run or was killed */
    char errtext[NFD_ERR_MAX];	/* what it wrote to standard error */
    uint64_t lines;
};

enum nfd_status { NFD_OK = 0, NFD_SYS };

/* The argument vector of one query; the caller keeps strings alive. */
void nfd_query(struct nfd_job *j, const char *nfdump, const char *path,
	       int is_dir, const char *fmt, const char *aggregate,
	       const char *filter);
enum nfd_status nfd_run(struct nfd_job *jobs, size_t n, char *err, size_t errlen);
enum nfd_status nfd_read_fd(int fd, nfd_line_fn fn, void *ctx, uint64_t *lines,
			    char *err, size_t errlen);

/* Filters. */
int nfd_smtp_filter(char *buf, size_t len, uint32_t min_packets,
		    uint32_t min_bytes);
int nfd_net_filter(char *buf, size_t len, const char *dir,
		   const struct cidr_list *nets);
int nfd_hosts_filter(char *buf, size_t len, const struct addr *hosts, size_t n);

#endif
