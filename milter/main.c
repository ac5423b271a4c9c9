/*
 * relayguard-milter - command line and start-up of the milter daemon.
 *
 * -c FILE  configuration (default /etc/relayguard/relayguard.conf)
 * -n       check the configuration and exit (0, or 78 with the errors)
 * -f       stay in the foreground and log to stderr
 * -V       print the version and exit
 */
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>
#include <unistd.h>

#include "cfg.h"

#define ERRBUF_LEN 8192

/* usage - the one-line synopsis, then EX_USAGE */
static void usage(void)
{
    fprintf(stderr, "usage: relayguard-milter [-fnV] [-c FILE]\n");
    exit(EX_USAGE);
}

/* main - parse flags, load the configuration, run */
int main(int argc, char **argv)
{
    const char *file = CFG_DEFAULT_FILE;
    char err[ERRBUF_LEN];
    int check_only = 0, ch;
    struct cfg *c;

    while ((ch = getopt(argc, argv, "c:fnV")) != -1) {
	switch (ch) {
	case 'c':
	    file = optarg;
	    break;
	case 'f':
	    break;
	case 'n':
	    check_only = 1;
	    break;
	case 'V':
	    printf("relayguard-milter %s\n", RG_VERSION);
	    return 0;
	default:
	    usage();
	}
    }
    if (optind != argc)
	usage();
    if ((c = cfg_load(file, err, sizeof(err))) == NULL) {
	fprintf(stderr, "relayguard-milter: configuration error\n%s\n", err);
	return EX_CONFIG;
    }
    if (check_only) {
	printf("%s: configuration ok (%zu rules)\n", file, c->policy.nrules);
	cfg_free(c);
	return 0;
    }
    fprintf(stderr, "relayguard-milter: the daemon is not built yet\n");
    cfg_free(c);
    return EX_SOFTWARE;
}
