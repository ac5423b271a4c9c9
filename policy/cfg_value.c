/*
 * cfg_value - parsers for configuration values and the rule vocabulary.
 *
 * Contract: pure functions, thread-safe. Parsers return 0 or -1 with a
 * short "expected ..." text in err; they accept exactly the documented
 * forms and nothing else (no trailing junk, no overflow, no negatives).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cfg.h"

#define MS_PER_S 1000ULL

static const char *const action_names[CFG_ACTION_COUNT] = {
    "accept", "tag", "quarantine", "tempfail", "reject",
};

static const char *const applies_names[CFG_APPLIES_COUNT] = {
    "authenticated", "internal", "external", "any",
};

static const char *const metric_names[CFG_METRIC_COUNT] = {
    "distinct_ips", "distinct_prefixes", "distinct_countries",
    "distinct_asns", "new_country", "travel_kmh", "messages",
    "recipients", "bytes", "users_per_ip", "rogue_listed",
    "unfamiliar_network", "unfamiliar_networks", "messages_over_usual",
    "recipients_over_usual", "unfamiliar_messages", "new_network",
    "unfamiliar_places", "unfamiliar_messages_over_usual",
    "coarse_messages_over_usual", "new_countries",
    "recipients_over_prior_usual", "relayed_messages_over_usual",
    "carrier_networks",
    "revisit_messages",
    "shared_messages_over_usual",
    "newcomer_messages", "newcomer_recipients",
    "bulk_messages",
    "new_exit", "prior_recipients_over_usual",
    "newcomer_line_recipients",
    "abroad_line_messages_over_usual",
};

/* Which metrics count over a window, and which need a SASL login. */
static const struct {
    bool window;
    bool login;
} metric_traits[CFG_METRIC_COUNT] = {
    [CFG_METRIC_DISTINCT_IPS] = {true, true},
    [CFG_METRIC_DISTINCT_PREFIXES] = {true, true},
    [CFG_METRIC_DISTINCT_COUNTRIES] = {true, true},
    [CFG_METRIC_DISTINCT_ASNS] = {true, true},
    [CFG_METRIC_NEW_COUNTRY] = {false, true},
    [CFG_METRIC_TRAVEL_KMH] = {false, true},
    [CFG_METRIC_MESSAGES] = {true, false},
    [CFG_METRIC_RECIPIENTS] = {true, false},
    [CFG_METRIC_BYTES] = {true, false},
    [CFG_METRIC_USERS_PER_IP] = {true, false},
    [CFG_METRIC_ROGUE_LISTED] = {false, false},
    [CFG_METRIC_UNFAMILIAR_NETWORK] = {false, true},
    [CFG_METRIC_UNFAMILIAR_NETWORKS] = {true, true},
    [CFG_METRIC_MESSAGES_OVER_USUAL] = {true, true},
    [CFG_METRIC_RECIPIENTS_OVER_USUAL] = {true, true},
    [CFG_METRIC_UNFAMILIAR_MESSAGES] = {true, true},
    [CFG_METRIC_NEW_NETWORK] = {false, true},
    [CFG_METRIC_UNFAMILIAR_PLACES] = {true, true},
    [CFG_METRIC_UNFAMILIAR_MESSAGES_OVER_USUAL] = {true, true},
    [CFG_METRIC_COARSE_MESSAGES_OVER_USUAL] = {true, true},
    [CFG_METRIC_NEW_COUNTRIES] = {true, true},
    [CFG_METRIC_RECIPIENTS_OVER_PRIOR_USUAL] = {true, true},
    [CFG_METRIC_RELAYED_MESSAGES_OVER_USUAL] = {true, true},
    [CFG_METRIC_CARRIER_NETWORKS] = {true, true},
    [CFG_METRIC_REVISIT_MESSAGES] = {true, true},
    [CFG_METRIC_SHARED_MESSAGES_OVER_USUAL] = {true, true},
    [CFG_METRIC_NEWCOMER_MESSAGES] = {true, true},
    [CFG_METRIC_NEWCOMER_RECIPIENTS] = {true, true},
    [CFG_METRIC_BULK_MESSAGES] = {true, true},
    [CFG_METRIC_NEW_EXIT] = {false, true},
    [CFG_METRIC_PRIOR_RECIPIENTS_OVER_USUAL] = {true, true},
    [CFG_METRIC_NEWCOMER_LINE_RECIPIENTS] = {true, true},
    [CFG_METRIC_ABROAD_LINE_MESSAGES_OVER_USUAL] = {true, true},
};

static const struct {
    char unit[3];
    unsigned long long ms;
} duration_units[] = {
    {"ms", 1}, {"s", MS_PER_S}, {"m", 60 * MS_PER_S},
    {"h", 3600 * MS_PER_S}, {"d", 86400 * MS_PER_S},
    {"w", 7 * 86400 * MS_PER_S},
};

static const struct {
    char unit;
    unsigned long long mult;
} size_units[] = {
    {'K', 1ULL << 10}, {'M', 1ULL << 20}, {'G', 1ULL << 30},
};

/* cfg_vocab_lookup - index of text in a name table, or -1 */
int cfg_vocab_lookup(const char *const *names, size_t n, const char *text)
{
    size_t i;

    for (i = 0; text != NULL && i < n; i++)
	if (strcmp(names[i], text) == 0)
	    return (int) i;
    return -1;
}

/* cfg_action_name - vocabulary word of an action */
const char *cfg_action_name(enum cfg_action a)
{
    return (unsigned) a < CFG_ACTION_COUNT ? action_names[a] : "?";
}

/* cfg_metric_name - vocabulary word of a metric */
const char *cfg_metric_name(enum cfg_metric m)
{
    return (unsigned) m < CFG_METRIC_COUNT ? metric_names[m] : "?";
}

/* cfg_metric_is_signal - a yes-or-no metric: a rule of it takes no
 * limit, and its reason is the evidence alone */
bool cfg_metric_is_signal(enum cfg_metric m)
{
    return m == CFG_METRIC_NEW_COUNTRY || m == CFG_METRIC_ROGUE_LISTED
	|| m == CFG_METRIC_UNFAMILIAR_NETWORK || m == CFG_METRIC_NEW_NETWORK
	|| m == CFG_METRIC_NEW_EXIT;
}

/* cfg_applies_name - vocabulary word of an applies_to class */
const char *cfg_applies_name(enum cfg_applies a)
{
    return (unsigned) a < CFG_APPLIES_COUNT ? applies_names[a] : "?";
}

/* cfg_action_parse - action word to enum, or -1 */
int cfg_action_parse(const char *text)
{
    return cfg_vocab_lookup(action_names, CFG_ACTION_COUNT, text);
}

/* cfg_metric_parse - metric word to enum, or -1 */
int cfg_metric_parse(const char *text)
{
    return cfg_vocab_lookup(metric_names, CFG_METRIC_COUNT, text);
}

/* cfg_applies_parse - applies_to word to enum, or -1 */
int cfg_applies_parse(const char *text)
{
    return cfg_vocab_lookup(applies_names, CFG_APPLIES_COUNT, text);
}

/* cfg_metric_has_window - does the metric count over a window? */
bool cfg_metric_has_window(enum cfg_metric m)
{
    return (unsigned) m < CFG_METRIC_COUNT && metric_traits[m].window;
}

/* cfg_metric_needs_login - is the metric about a SASL login? */
bool cfg_metric_needs_login(enum cfg_metric m)
{
    return (unsigned) m < CFG_METRIC_COUNT && metric_traits[m].login;
}

/* parse_number - leading decimal digits; -1 on none or overflow */
static int parse_number(const char **pp, unsigned long long *out)
{
    const char *p = *pp;
    unsigned long long v = 0;

    if (!isdigit((unsigned char) *p))
	return -1;
    for (; isdigit((unsigned char) *p); p++) {
	unsigned d = (unsigned) (*p - '0');

	if (v > (ULLONG_MAX - d) / 10)
	    return -1;
	v = v * 10 + d;
    }
    *pp = p;
    *out = v;
    return 0;
}

/* duration_unit - milliseconds of the unit at p (longest match), or 0 */
static unsigned long long duration_unit(const char **pp)
{
    size_t i, best = 0;
    unsigned long long ms = 0;

    for (i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
	size_t len = strlen(duration_units[i].unit);

	if (len > best && strncmp(*pp, duration_units[i].unit, len) == 0) {
	    best = len;
	    ms = duration_units[i].ms;
	}
    }
    *pp += best;
    return ms;
}

/* cfg_parse_duration - "90s", "10m", "1h", "1d", "500ms", "1h30m" */
int cfg_parse_duration(const char *text, uint64_t *ms, char *err,
		       size_t errlen)
{
    const char *p = text;
    unsigned long long total = 0, n, unit;

    if (text == NULL || *text == 0)
	goto bad;
    while (*p) {
	if (parse_number(&p, &n) != 0)
	    goto bad;
	if ((unit = duration_unit(&p)) == 0)
	    goto bad;
	if (n > (ULLONG_MAX - total) / unit)
	    goto bad;
	total += n * unit;
    }
    *ms = total;
    return 0;
  bad:
    snprintf(err, errlen,
	     "expected a duration such as 90s, 10m, 1h, 1d (got \"%s\")",
	     text ? text : "");
    return -1;
}

/* cfg_parse_size - "1000", "64K", "50M", "2G" (powers of 1024) */
int cfg_parse_size(const char *text, uint64_t *out, char *err, size_t errlen)
{
    const char *p = text;
    unsigned long long n, mult = 1;
    size_t i;

    if (text == NULL || parse_number(&p, &n) != 0)
	goto bad;
    if (*p) {
	for (i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++)
	    if (toupper((unsigned char) *p) == size_units[i].unit)
		mult = size_units[i].mult;
	if (mult == 1 || p[1] != 0)
	    goto bad;
    }
    if (n > ULLONG_MAX / mult)
	goto bad;
    *out = n * mult;
    return 0;
  bad:
    snprintf(err, errlen, "expected a count or a size such as 500K, 50M, 2G"
	     " (got \"%s\")", text ? text : "");
    return -1;
}
