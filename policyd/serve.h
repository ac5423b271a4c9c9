/*
 * serve - relayguard-policyd's sockets: the listener and one poll() loop
 * over every Postfix connection, with its limits, timeouts and the drain
 * at stop.
 */
#ifndef RG_POLICYD_SERVE_H
#define RG_POLICYD_SERVE_H

#include <stddef.h>
#include <sys/types.h>

#include "session.h"

/* What the loop calls back into the daemon for. */
struct serve_hooks {
    void (*tick)(void);		/* about once a second: maintenance */
    void (*reload)(void);	/* SIGUSR1 */
};

/* policyd.socket ("unix:/PATH" or "inet:PORT@ADDRESS"), listening; a unix
 * socket is made with umask|0117 (owner and group only). -1 with err. */
int serve_listen(const char *spec, mode_t umask_bits, char *err,
		 size_t errlen);

/* Block the signals the loop takes (TERM, INT, HUP and USR2 stop it with
 * a drain, USR1 reloads) until it waits for them: call first in main. */
void serve_block_signals(void);

/* Serve until a stop signal, then answer what is in flight (up to
 * policyd.drain_timeout) and return. max_conns is fixed for the run. */
void serve_run(int lfd, unsigned max_conns, struct session_table *t,
	       const struct serve_hooks *h);

#endif
