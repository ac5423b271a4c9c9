/*
 * nullmilter - a milter that judges nothing: connect, MAIL, RCPT and end
 * of message callbacks that answer "continue", and no xxfi_negotiate, so
 * libmilter leaves out the steps without a callback by itself. It is the
 * yardstick of bench/peers.sh and of tests/e2e/t_milter_packets.sh: what
 * a milter with these four callbacks costs Postfix at least.
 *
 * Usage: nullmilter inet:PORT@127.0.0.1   (foreground; SIGTERM stops it)
 */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <sysexits.h>

/* nm_connect - continue */
static sfsistat nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    (void) ctx;
    (void) host;
    (void) sa;
    return SMFIS_CONTINUE;
}

/* nm_envelope - MAIL and RCPT: continue */
static sfsistat nm_envelope(SMFICTX *ctx, char **argv)
{
    (void) ctx;
    (void) argv;
    return SMFIS_CONTINUE;
}

/* nm_eom - continue */
static sfsistat nm_eom(SMFICTX *ctx)
{
    (void) ctx;
    return SMFIS_CONTINUE;
}

int main(int argc, char **argv)
{
    struct smfiDesc desc = {
	.xxfi_name = "nullmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_connect = nm_connect,
	.xxfi_envfrom = nm_envelope,
	.xxfi_envrcpt = nm_envelope,
	.xxfi_eom = nm_eom,
    };

    if (argc != 2) {
	fprintf(stderr, "usage: nullmilter inet:PORT@ADDRESS\n");
	return EX_USAGE;
    }
    if (smfi_register(desc) != MI_SUCCESS || smfi_setconn(argv[1]) != MI_SUCCESS
	|| smfi_opensocket(1) != MI_SUCCESS) {
	fprintf(stderr, "nullmilter: cannot listen on %s\n", argv[1]);
	return EX_UNAVAILABLE;
    }
    return smfi_main() == MI_SUCCESS ? 0 : EX_SOFTWARE;
}
