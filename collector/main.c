/*
 * relayguard-collector - rogue SMTP hosts and direct senders from network
 * flows (US-CERT's method, seed 004), the daily "local mail clients"
 * table (seed 000), a history in SQLite and the rogue list the milter
 * reads.
 *
 *   relayguard-collector [-fnV] [-c FILE] analyze [--json] [--report FILE.html] PATH...
 *   relayguard-collector [-c FILE] whitelist add CIDR [REASON...] | remove CIDR | list
 *   relayguard-collector [-f] [-c FILE] run
 *   relayguard-collector [-c FILE] events [--json] [--last N]
 *   relayguard-collector [-c FILE] incidents [--json] [--open]
 *   relayguard-collector [-c FILE] rogue add|remove ADDRESS [--for DURATION]
 *                        [--reason TEXT] | rogue list [--json]
 *   relayguard-collector [-c FILE] listen [--count N] [--seconds S]
 *
 * -c FILE configuration; -n check it and exit (0, or 78 with the errors);
 * -f log to stderr (run); -V version. PATH: an nfcapd file, a directory
 * of them, or "-" for nfdump/csv/SiLK text on standard input. Exit codes
 * are sysexits: 0 done (flags or not), 64 usage, 65 bad argument, 66
 * input, 73 output, 74 database, 78 configuration (also an empty
 * collector.flows.local_networks or an unreadable names_file).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "cmd_events.h"
#include "collect.h"
#include "daemon.h"
#include "follow.h"
#include "log.h"
#include "output.h"
#include "html.h"

#define ERRBUF_LEN 8192

/* usage - the synopsis, then EX_USAGE */
static void usage(void)
{
    fprintf(stderr, "usage: relayguard-collector [-fnV] [-c FILE] analyze [--json] "
	    "[--report FILE.html] PATH...\n"
	    "       relayguard-collector [-c FILE] whitelist add CIDR [REASON...] | "
	    "remove CIDR | list\n"
	    "       relayguard-collector [-f] [-c FILE] run\n"
	    "       relayguard-collector [-c FILE] events [--json] [--last N]\n"
	    "       relayguard-collector [-c FILE] incidents [--json] [--open]\n"
	    "       relayguard-collector [-c FILE] rogue add|remove ADDRESS "
	    "[--for DURATION] [--reason TEXT] | list [--json]\n"
	    "       relayguard-collector [-c FILE] listen [--count N] [--seconds S]\n");
    exit(EX_USAGE);
}

/* now_ms - the wall clock in UTC milliseconds */
static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* status_exit - a run's status as a sysexits code */
static int status_exit(enum coll_status s)
{
    static const int codes[] = {
	[COLL_OK] = EX_OK, [COLL_INPUT] = EX_NOINPUT, [COLL_DB] = EX_IOERR,
	[COLL_NOMEM] = EX_OSERR, [COLL_OUTPUT] = EX_CANTCREAT, [COLL_CONFIG] = EX_CONFIG,
    };

    return codes[s];
}

/* print_json - the analyze --json document */
static int print_json(const struct coll *c)
{
    const struct an_stats *st = &c->an.st;
    struct jb j = {0};
    size_t i;

    jb_raw(&j, "{\n  \"flags\": [");
    for (i = 0; i < c->nflags; i++) {
	jb_raw(&j, i ? ",\n    " : "\n    ");
	out_flag(&j, &c->flags[i], an_find(&c->an, &c->flags[i].host), &c->dc);
    }
    jb_raw(&j, c->nflags ? "\n  ],\n  \"mail_clients\": " : "],\n  \"mail_clients\": ");
    out_clients(&j, c->clients, c->nclients);
    jb_fmt(&j, ",\n  \"stats\": {\"flows_read\": %llu, \"smtp_flows\": %llu, "
	   "\"below_threshold\": %llu, \"nfdump_filtered\": %s, \"transit\": %llu, "
	   "\"malformed_lines\": %llu, \"first\": ", (unsigned long long) st->flows,
	   (unsigned long long) st->smtp, (unsigned long long) st->smtp_below,
	   c->nfdump_filtered ? "true" : "false", (unsigned long long) st->transit,
	   (unsigned long long) c->bad_lines);
    jb_time(&j, st->first_ms);
    jb_raw(&j, ", \"last\": ");
    jb_time(&j, st->last_ms);
    jb_fmt(&j, "},\n  \"history_updated\": %s,\n  \"malformed\": [",
	   c->history_updated ? "true" : "false");
    for (i = 0; i < c->bad_lines && i < COLL_BAD_KEEP; i++) {
	jb_raw(&j, i ? ", {\"source\": " : "{\"source\": ");
	jb_str(&j, c->bad[i].source);
	jb_fmt(&j, ", \"line\": %llu}", (unsigned long long) c->bad[i].line);
    }
    jb_raw(&j, "],\n  \"warnings\": [");
    for (i = 0; i < c->nwarn; i++) {
	jb_raw(&j, i ? ", " : "");
	jb_str(&j, c->warn[i]);
    }
    jb_raw(&j, "]\n}\n");
    if (!j.oom)
	fputs(j.p, stdout);
    jb_free(&j);
    return j.oom ? EX_OSERR : EX_OK;
}

/* print_summary - the analyze text summary */
static int print_summary(const struct coll *c)
{
    const struct an_stats *st = &c->an.st;
    char a[ADDR_STRLEN], smtp[256];
    size_t i;

    coll_smtp_text(c, smtp, sizeof(smtp));
    printf("flows read %llu, %s, malformed lines %llu, flags %zu%s\n",
	   (unsigned long long) st->flows, smtp, (unsigned long long) c->bad_lines,
	   c->nflags, c->history_updated ? "" : " (history not updated)");
    for (i = 0; i < c->nflags; i++) {
	const struct det_flag *f = &c->flags[i];

	printf("  %-14s %-20s connections=%llu peers=%llu%s%s\n", det_kind_name(f->kind),
	       addr_format(&f->host, a, sizeof(a)), (unsigned long long) (f->kind ==
	       DET_VOLUME_JUMP ? f->day_conns : f->conns), (unsigned long long) (f->kind ==
	       DET_FAN_OUT ? f->servers : f->peers), f->traits.name[0] ? " name=" : "",
	       f->traits.name);
    }
    if (c->nclients)
	printf("local mail clients: %-20s %12s %14s %14s %14s\n", "host", "connections",
	       "bytes in", "bytes out", "total");
    for (i = 0; i < c->nclients; i++)
	printf("                    %-20s %12llu %14llu %14llu %14llu\n",
	       addr_format(&c->clients[i].host, a, sizeof(a)),
	       (unsigned long long) c->clients[i].conns,
	       (unsigned long long) c->clients[i].bytes_in,
	       (unsigned long long) c->clients[i].bytes_out,
	       (unsigned long long) (c->clients[i].bytes_in + c->clients[i].bytes_out));
    for (i = 0; i < c->bad_lines && i < COLL_BAD_KEEP; i++)
	printf("malformed: %s line %llu\n", c->bad[i].source,
	       (unsigned long long) c->bad[i].line);
    for (i = 0; i < c->nwarn; i++)
	printf("warning: %s\n", c->warn[i]);
    return EX_OK;
}

/* cmd_analyze - analyze [--json] [--report FILE] PATH... */
static int cmd_analyze(const struct cfg *cfg, int argc, char **argv)
{
    const char *report = NULL;
    int json = 0, i = 1, rc;
    char err[ERRBUF_LEN];
    struct coll c;
    enum coll_status s;

    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
	if (strcmp(argv[i], "--json") == 0)
	    json = 1;
	else if (strcmp(argv[i], "--report") == 0 && i + 1 < argc)
	    report = argv[++i];
	else
	    usage();
    }
    if (i >= argc)
	usage();
    s = coll_init(&c, cfg, now_ms(), err, sizeof(err));
    if (s == COLL_OK)
	s = coll_run(&c, argv + i, (size_t) (argc - i), err, sizeof(err));
    if (s != COLL_OK) {
	fprintf(stderr, "relayguard-collector: %s\n", err);
	coll_free(&c);
	return status_exit(s);
    }
    rc = json ? print_json(&c) : print_summary(&c);
    if (report != NULL && html_write(&c, report, err, sizeof(err)) != 0) {
	fprintf(stderr, "relayguard-collector: %s\n", err);
	rc = EX_CANTCREAT;
    }
    coll_free(&c);
    return rc;
}

/* wl_print - whitelist list: configured, then learned */
static int wl_print(const struct cfg *cfg, struct hist *h)
{
    const struct cidr_list *l = &cfg->collector.flows.mail_servers;
    char c[CIDR_STRLEN], t[32], err[512];
    struct hist_wl *v;
    size_t i, n;

    for (i = 0; i < l->n; i++)
	printf("%-24s config\n", addr_cidr_format(&l->v[i], c, sizeof(c)));
    if (hist_wl_list(h, &v, &n, err, sizeof(err)) != HIST_OK) {
	fprintf(stderr, "relayguard-collector: %s\n", err);
	return EX_IOERR;
    }
    for (i = 0; i < n; i++)
	printf("%-24s learned by=%s at=%s reason=\"%s\"\n", v[i].network, v[i].who,
	       out_time(v[i].at_ms, t, sizeof(t)), v[i].reason);
    free(v);
    return EX_OK;
}

/* cmd_whitelist - whitelist add CIDR [REASON...] | remove CIDR | list */
static int cmd_whitelist(const struct cfg *cfg, int argc, char **argv)
{
    char err[ERRBUF_LEN], reason[256] = "", canon[CIDR_STRLEN];
    struct hist *h;
    struct cidr net;
    int i, rc = EX_OK, removed;

    if (argc < 2 || (strcmp(argv[1], "list") != 0 && argc < 3))
	usage();
    if (strcmp(argv[1], "list") != 0) {
	if (addr_cidr_parse(argv[2], &net, err, sizeof(err)) != 0) {
	    fprintf(stderr, "relayguard-collector: %s: %s\n", argv[2], err);
	    return EX_DATAERR;
	}
	addr_cidr_format(&net, canon, sizeof(canon));
    }
    for (i = 3; i < argc; i++)
	snprintf(reason + strlen(reason), sizeof(reason) - strlen(reason), "%s%s",
		 i > 3 ? " " : "", argv[i]);
    if (hist_open(cfg->collector.database, &h, err, sizeof(err)) != HIST_OK) {
	fprintf(stderr, "relayguard-collector: %s\n", err);
	return EX_IOERR;
    }
    if (strcmp(argv[1], "list") == 0)
	rc = wl_print(cfg, h);
    else if (strcmp(argv[1], "add") == 0) {
	if (hist_wl_add(h, canon, cmd_who(), now_ms(), reason, err, sizeof(err)) != HIST_OK)
	    rc = EX_IOERR;
    } else if (strcmp(argv[1], "remove") == 0) {
	if (hist_wl_remove(h, canon, &removed, err, sizeof(err)) != HIST_OK)
	    rc = EX_IOERR;
	else if (!removed) {
	    snprintf(err, sizeof(err), "%s: not on the learned whitelist", canon);
	    rc = EX_DATAERR;
	}
    } else
	usage();
    if (rc != EX_OK && rc != EX_USAGE)
	fprintf(stderr, "relayguard-collector: %s\n", err);
    hist_close(h);
    return rc;
}

/* events_command - the commands about the milter's events */
static int events_command(const struct cfg *cfg, int argc, char **argv)
{
    static const struct {
	const char *name;
	int (*fn)(const struct cfg *, int, char **);
    } cmds[] = {
	{"events", cmd_events}, {"incidents", cmd_incidents}, {"rogue", cmd_rogue},
	{"listen", cmd_listen},
    };
    size_t i;
    int rc = EX_USAGE;

    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
	if (strcmp(argv[0], cmds[i].name) == 0)
	    rc = cmds[i].fn(cfg, argc, argv);
    if (rc == EX_USAGE)
	usage();
    return rc;
}

/* parse_args - the flags before the command into o; -V answered here */
static void parse_args(int argc, char **argv, struct daemon_opts *o)
{
    if (daemon_parse_args(argc, argv, true, o) != 0)
	usage();
    if (o->version) {
	printf("relayguard-collector %s (nfdump, sqlite %s)\n", RG_VERSION,
	       hist_sqlite_version());
	exit(EX_OK);
    }
}

/* main - configuration, then the command */
int main(int argc, char **argv)
{
    char err[ERRBUF_LEN];
    struct daemon_opts o;
    struct cfg *cfg;
    int rc;

    parse_args(argc, argv, &o);
    if (optind >= argc && !o.check_only)
	usage();		/* before the configuration: say what is missing */
    if ((cfg = cfg_load(o.file, err, sizeof(err))) == NULL) {
	fprintf(stderr, "%s\n", err);
	return EX_CONFIG;
    }
    if (o.check_only) {
	printf("%s: configuration OK\n", o.file);
	cfg_free(cfg);
	return EX_OK;
    }
    argc -= optind;
    argv += optind;
    if (argc < 1)
	usage();
    if (strcmp(argv[0], "analyze") == 0)
	rc = cmd_analyze(cfg, argc, argv);
    else if (strcmp(argv[0], "whitelist") == 0)
	rc = cmd_whitelist(cfg, argc, argv);
    else if (strcmp(argv[0], "run") == 0 && argc == 1)
	rc = follow_run(cfg, o.foreground);
    else
	rc = events_command(cfg, argc, argv);
    cfg_free(cfg);
    return rc;
}
