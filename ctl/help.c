/*
 * help - the text of "relayguardctl COMMAND --help": each command's
 * synopsis, what it does, its options and what its exit codes mean for
 * it. The global usage (relayguardctl --help) stays in ctl.c.
 *
 * Contract: constant text, no allocation; ctl_help returns NULL for a
 * name that is no command. The man page relayguardctl(8) says the same
 * at length; keep the two in step (tests/man/check-man.sh checks that
 * every command has a section there).
 */
#include <string.h>

#include "ctl.h"

struct help {
    const char *cmd;
    const char *text;
};

#define EXITS_READ \
    "exit: 0 ok, 2 usage, 69 state unavailable, 78 bad configuration\n"
#define EXITS_ENTRY \
    "exit: 0 ok, 1 not known to the state, 2 usage, 69 state unavailable,\n" \
    "      78 bad configuration\n"

static const struct help helps[] = {
    {"users",
     "usage: " CTL_PROG " [-c FILE] [--json] users\n"
     "       [--sort ips|countries|messages|recipients] [--limit N]"
     " [--window DUR]\n"
     "The riskiest logins now: distinct addresses, countries and AS numbers,\n"
     "messages and recipients inside the window, last seen, block.\n"
     "  --sort KEY    countries (default; then addresses, messages,"
     " recipients),\n"
     "                ips, messages or recipients\n"
     "  --limit N     rows in the table (default 25, 0 = all; --json lists"
     " all)\n"
     "  --window DUR  how far back the counts reach (default 1h, at most"
     " 1d)\n"
     "Reads the state file read-only: read access to it is enough.\n"
     EXITS_READ},
    {"clients",
     "usage: " CTL_PROG " [-c FILE] [--json] clients\n"
     "       [--sort messages|recipients|users] [--limit N] [--window DUR]\n"
     "Client addresses by messages, with their kind (internal, trusted,\n"
     "external, by the configured networks) and how many logins used"
     " them.\n"
     "  --sort KEY    messages (default), recipients or users\n"
     "  --limit N     rows in the table (default 25, 0 = all)\n"
     "  --window DUR  how far back the counts reach (default 1h, at most"
     " 1d)\n"
     EXITS_READ},
    {"sites",
     "usage: " CTL_PROG " [-c FILE] [--json] sites [--limit N]\n"
     "What the engine learned of the site on its own: its networks (each\n"
     "/24 or /48 vouched for by logins at familiar places of their own) and\n"
     "its places (AS numbers, countries), with the logins that vouched for\n"
     "each within 30 days, the days they did, the last vouch, and whether\n"
     "it counts as the site's now (policy.site_logins logins on\n"
     "policy.site_days days). Newcomer-volume judges new logins by them.\n"
     "  --limit N     rows in each table (default 25, 0 = all; --json lists"
     " all)\n"
     "Reads the state file read-only: read access to it is enough.\n"
     EXITS_READ},
    {"show",
     "usage: " CTL_PROG " [-c FILE] [--json] show USER|IP [--window DUR]\n"
     "Everything the state knows about one login (seen, block and reason,\n"
     "distinct counts, rates over 10m, 1h, 1d, country baseline, last"
     " queue\n"
     "ids, every remembered address with country and AS) or one client\n"
     "address (its entry and the logins that used it).\n"
     "  --window DUR  the window of the distinct counts (default 1h)\n"
     EXITS_ENTRY},
    {"block",
     "usage: " CTL_PROG " [-c FILE] [--json] block USER|IP\n"
     "       [--for DUR] [--reason TEXT] [--action quarantine|tempfail|reject]\n"
     "Block a login or a client address; the milter applies it at the"
     " next\n"
     "MAIL FROM. A login never seen is blocked in advance, with a warning.\n"
     "  --for DUR      how long (default 1h)\n"
     "  --reason TEXT  kept with the block (the state keeps 19 bytes)\n"
     "  --action A     quarantine, tempfail or reject (default reject)\n"
     "A network (203.0.113.0/24) is refused: the state keeps single"
     " entries.\n"
     "Run as root it becomes the state file's owner first.\n"
     "exit: 0 ok, 2 usage, 69 state unavailable, 78 bad configuration\n"},
    {"unblock",
     "usage: " CTL_PROG " [-c FILE] [--json] unblock USER|IP\n"
     "       " CTL_PROG " [-c FILE] [--json] unblock --all\n"
     "       [--rule NAME] [--by rule|admin]\n"
     "Lift one block, or with --all every block (would-be blocks of dry run\n"
     "included) and print each one lifted and a count.\n"
     "  --all          every block\n"
     "  --rule NAME    only the blocks this rule set (also a rule since"
     " removed)\n"
     "  --by WHO       only the blocks set by a rule or by an admin\n"
     EXITS_ENTRY},
    {"reset",
     "usage: " CTL_PROG " [-c FILE] [--json] reset USER|IP\n"
     "Forget a login or a client address: counters, addresses, baseline"
     " and\n"
     "block.\n"
     EXITS_ENTRY},
    {"stats",
     "usage: " CTL_PROG " [-c FILE] [--json] stats [--prometheus]\n"
     "Verdicts by action (applied and dry run), rule firings, blocks set"
     " and\n"
     "in force, collector events, errors, reloads, the store's fill,\n"
     "evictions and lock timeouts, and the state file's page size.\n"
     "  --prometheus  the Prometheus text format (not with --json)\n"
     EXITS_READ},
    {"quarantine",
     "usage: " CTL_PROG " quarantine [-C PATH] [--mta postfix|sendmail]\n"
     "       list [--limit N]\n"
     "       " CTL_PROG " quarantine [-C PATH] [--mta postfix|sendmail]\n"
     "       show|release|delete ID\n"
     "The messages the milter quarantined (Postfix's hold queue, or\n"
     "Sendmail's quarantine), with login, client, rule and reason.\n"
     "  list          held messages, newest first (--limit N rows)\n"
     "  show ID       envelope, headers and body of one held message\n"
     "  release ID    deliver it now;  delete ID  drop it\n"
     "  -C PATH       Postfix's configuration directory, Sendmail's .cf"
     " file\n"
     "  --mta M       postfix (default) or sendmail\n"
     "exit: 0 ok, 1 no such held message, 2 usage, 69 the MTA's tools"
     " failed\n"},
    {"contain",
     "usage: " CTL_PROG " [-c FILE] [--json] contain USER [--scan] [-C PATH]\n"
     "       [--mta postfix|sendmail]\n"
     "Hold a login's queued messages: the last queue ids the state"
     " recorded,\n"
     "and with --scan every queued message whose envelope names the"
     " login.\n"
     "exit: 0 ok, 1 login not known, 2 usage, 69 state or MTA tools"
     " failed,\n"
     "      78 bad configuration\n"},
    {"replay",
     "usage: " CTL_PROG " [-c FILE] [--json] replay [--compare FILE2]"
     " [--from TIME]\n"
     "       [--to TIME] [--limit N] [--html FILE] [--verdicts] LOG...\n"
     "Run the rules of FILE over Postfix logs (\"-\": standard input) in a\n"
     "private state, and print what they would have done.\n"
     "  --compare FILE2  also with a second configuration, and the"
     " difference\n"
     "  --from, --to     only this time range: YYYY-MM-DD[ HH:MM[:SS]]"
     " (local\n"
     "                   time) or @SECONDS\n"
     "  --limit N        rows per table\n"
     "  --html FILE      a self-contained HTML report as well\n"
     "  --verdicts       one verdict line per judged message\n"
     "exit: 0 ok, 2 usage, 69 a log cannot be read, 78 bad configuration\n"},
};

/* ctl_help - a command's help text, or NULL for no such command */
const char *ctl_help(const char *cmd)
{
    for (size_t i = 0; cmd != NULL && i < sizeof(helps) / sizeof(helps[0]);
	 i++)
	if (strcmp(helps[i].cmd, cmd) == 0)
	    return helps[i].text;
    return NULL;
}
