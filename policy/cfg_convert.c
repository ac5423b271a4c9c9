/*
 * cfg_convert - one converter per configuration value type.
 *
 * A converter takes the setting (or, when the key is absent, the
 * descriptor's default text, parsed by the same code), checks its libconfig
 * type, its form and its range, and stores the typed value. Errors name the
 * key and what was expected; nothing is stored on error.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_impl.h"
#include "log.h"

#define MS_PER_S 1000ULL
#define PORT_MAX 65535
#define DOMAIN_MAX 253

typedef void (*cfg_conv_fn) (struct cfg_ctx *, const struct cfg_desc *,
			     const config_setting_t *, const char *, void *);

/* get_text - the string value of s, or the default; NULL after an error */
static const char *get_text(struct cfg_ctx *x, const struct cfg_desc *d,
			    const config_setting_t *s, const char *key)
{
    const char *t;
    size_t i;

    if (s == NULL)
	return d->def;
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
	cfg_error(x, s, key, "expected a string in double quotes");
	return NULL;
    }
    t = config_setting_get_string(s);
    if (strlen(t) > CFG_STR_MAX) {
	cfg_error(x, s, key, "value longer than %d characters", CFG_STR_MAX);
	return NULL;
    }
    for (i = 0; t[i]; i++)
	if ((unsigned char) t[i] < 0x20 || t[i] == 0x7f) {
	    cfg_error(x, s, key, "control character in value");
	    return NULL;
	}
    return t;
}

/* put_str - store a copy of text */
static void put_str(struct cfg_ctx *x, const config_setting_t *s,
		    const char *key, void *dst, const char *text)
{
    char **p = dst;

    free(*p);
    if ((*p = strdup(text)) == NULL)
	cfg_error(x, s, key, "out of memory");
}

/* all_chars - does every character of t belong to the set (or alnum)? */
static int all_chars(const char *t, const char *set)
{
    for (; *t; t++)
	if (!isalnum((unsigned char) *t) && strchr(set, *t) == NULL)
	    return 0;
    return 1;
}

/* conv_str - any printable string */
static void conv_str(struct cfg_ctx *x, const struct cfg_desc *d,
		     const config_setting_t *s, const char *key, void *dst)
{
    const char *t = get_text(x, d, s, key);

    if (t != NULL)
	put_str(x, s, key, dst, t);
}

/* put_checked - store t unless it is bad (an error saying what was
 * expected); "" is stored where the key allows it (CFG_F_EMPTY_OK) */
static void put_checked(struct cfg_ctx *x, const struct cfg_desc *d,
			const config_setting_t *s, const char *key, void *dst,
			const char *t, bool bad, const char *expected)
{
    if (*t == 0 && (d->flags & CFG_F_EMPTY_OK))
	put_str(x, s, key, dst, t);
    else if (bad)
	cfg_error(x, s, key, "expected %s (got \"%s\")", expected, t);
    else
	put_str(x, s, key, dst, t);
}

/* conv_mailaddr - a bare address (local@domain, or a local name) for
 * sendmail's argv and a header: printable ASCII without blanks, quotes,
 * brackets or separators, not starting with '-', bounded */
static void conv_mailaddr(struct cfg_ctx *x, const struct cfg_desc *d,
			  const config_setting_t *s, const char *key, void *dst)
{
    const char *t = get_text(x, d, s, key);

    if (t != NULL)
	put_checked(x, d, s, key, dst, t, *t == 0 || *t == '-' || *t == '@'
		    || strlen(t) > CFG_MAILADDR_MAX
		    || strchr(t, '@') != strrchr(t, '@')
		    || !all_chars(t, "@.-_+=/!#$%&*?^{|}~"),
		    "a mail address like admin@example.org");
}

/* conv_name - a system user or group name */
static void conv_name(struct cfg_ctx *x, const struct cfg_desc *d,
		      const config_setting_t *s, const char *key, void *dst)
{
    const char *t = get_text(x, d, s, key);

    if (t == NULL)
	return;
    if (*t == 0 || strlen(t) > 32 || !all_chars(t, "._-"))
	cfg_error(x, s, key, "expected a user or group name (letters, digits, . _ -)");
    else
	put_str(x, s, key, dst, t);
}

/* conv_rulename - a rule name: [a-z0-9_-], at most CFG_NAME_MAX */
static void conv_rulename(struct cfg_ctx *x, const struct cfg_desc *d,
			  const config_setting_t *s, const char *key, void *dst)
{
    const char *t = get_text(x, d, s, key);
    const char *p;

    if (t == NULL)
	return;
    for (p = t; *p && (islower((unsigned char) *p) || isdigit((unsigned char) *p)
		       || *p == '-' || *p == '_'); p++)
	;
    if (*t == 0 || *p != 0 || strlen(t) > CFG_NAME_MAX)
	cfg_error(x, s, key, "expected a rule name of 1 to %d characters a-z 0-9 - _",
		  CFG_NAME_MAX);
    else
	put_str(x, s, key, dst, t);
}

/* conv_path - an absolute file path ("" allowed where it means unset) */
static void conv_path(struct cfg_ctx *x, const struct cfg_desc *d,
		      const config_setting_t *s, const char *key, void *dst)
{
    const char *t = get_text(x, d, s, key);

    if (t != NULL)
	put_checked(x, d, s, key, dst, t, *t != '/' || strstr(t, "/../") != NULL,
		    "an absolute file path");
}

/* conv_reply - SMTP reply text: printable ASCII, bounded */
static void conv_reply(struct cfg_ctx *x, const struct cfg_desc *d,
		       const config_setting_t *s, const char *key, void *dst)
{
    const char *t = get_text(x, d, s, key);
    const char *p;

    if (t == NULL)
	return;
    for (p = t; *p && (unsigned char) *p < 0x7f; p++)
	;
    if (*p != 0 || *t == 0 || strlen(t) > CFG_REPLY_MAX)
	cfg_error(x, s, key, "expected 1 to %d printable ASCII characters",
		  CFG_REPLY_MAX);
    else
	put_str(x, s, key, dst, t);
}

/* conv_bool - true or false */
static void conv_bool(struct cfg_ctx *x, const struct cfg_desc *d,
		      const config_setting_t *s, const char *key, void *dst)
{
    bool *b = dst;

    if (s == NULL)
	*b = strcmp(d->def, "true") == 0;
    else if (config_setting_type(s) != CONFIG_TYPE_BOOL)
	cfg_error(x, s, key, "expected true or false");
    else
	*b = config_setting_get_bool(s) != 0;
}

/* get_uint - a non-negative integer from s or the default */
static int get_uint(struct cfg_ctx *x, const struct cfg_desc *d,
		    const config_setting_t *s, const char *key,
		    unsigned long long *v)
{
    long long n;

    if (s == NULL) {
	*v = strtoull(d->def, NULL, 10);
	return 0;
    }
    if (config_setting_type(s) != CONFIG_TYPE_INT
	&& config_setting_type(s) != CONFIG_TYPE_INT64) {
	cfg_error(x, s, key, "expected an integer");
	return -1;
    }
    n = config_setting_get_int64(s);
    if (n < 0) {
	cfg_error(x, s, key, "expected a number >= 0 (got %lld)", n);
	return -1;
    }
    *v = (unsigned long long) n;
    return 0;
}

/* conv_u32 - an integer within [min, max] */
static void conv_u32(struct cfg_ctx *x, const struct cfg_desc *d,
		     const config_setting_t *s, const char *key, void *dst)
{
    unsigned long long v;

    if (get_uint(x, d, s, key, &v) != 0)
	return;
    if (v < d->min || v > d->max)
	cfg_error(x, s, key, "expected an integer from %llu to %llu (got %llu)",
		  d->min, d->max, v);
    else
	*(uint32_t *) dst = (uint32_t) v;
}

/* conv_limit - a rule limit: an integer or a size such as "50M" */
static void conv_limit(struct cfg_ctx *x, const struct cfg_desc *d,
		       const config_setting_t *s, const char *key, void *dst)
{
    unsigned long long v;
    char why[160];

    if (s != NULL && config_setting_type(s) == CONFIG_TYPE_STRING) {
	const char *t = get_text(x, d, s, key);
	uint64_t u;

	if (t == NULL)
	    return;
	if (cfg_parse_size(t, &u, why, sizeof(why)) != 0) {
	    cfg_error(x, s, key, "%s", why);
	    return;
	}
	*(uint64_t *) dst = u;
	return;
    }
    if (get_uint(x, d, s, key, &v) == 0)
	*(uint64_t *) dst = v;
}

/* get_duration_ms - a duration within [min, max] milliseconds */
static int get_duration_ms(struct cfg_ctx *x, const struct cfg_desc *d,
			   const config_setting_t *s, const char *key,
			   uint64_t *ms)
{
    const char *t = get_text(x, d, s, key);
    char why[160];

    if (t == NULL)
	return -1;
    if (cfg_parse_duration(t, ms, why, sizeof(why)) != 0) {
	cfg_error(x, s, key, "%s", why);
	return -1;
    }
    if (*ms < d->min || *ms > d->max) {
	cfg_error(x, s, key, "duration out of range (%llums to %llums)",
		  d->min, d->max);
	return -1;
    }
    return 0;
}

/* conv_duration_s - a duration stored in whole seconds */
static void conv_duration_s(struct cfg_ctx *x, const struct cfg_desc *d,
			    const config_setting_t *s, const char *key, void *dst)
{
    uint64_t ms;

    if (get_duration_ms(x, d, s, key, &ms) != 0)
	return;
    if (ms % MS_PER_S != 0)
	cfg_error(x, s, key, "expected whole seconds");
    else
	*(uint32_t *) dst = (uint32_t) (ms / MS_PER_S);
}

/* conv_duration_ms - a duration stored in milliseconds */
static void conv_duration_ms(struct cfg_ctx *x, const struct cfg_desc *d,
			     const config_setting_t *s, const char *key, void *dst)
{
    uint64_t ms;

    if (get_duration_ms(x, d, s, key, &ms) == 0)
	*(uint32_t *) dst = (uint32_t) ms;
}

/* conv_mode - an octal file mode mask in a string such as "007" */
static void conv_mode(struct cfg_ctx *x, const struct cfg_desc *d,
		      const config_setting_t *s, const char *key, void *dst)
{
    const char *t;
    unsigned long v = 0;
    const char *p;

    if (s != NULL && config_setting_type(s) != CONFIG_TYPE_STRING) {
	cfg_error(x, s, key, "expected an octal mask in quotes such as \"007\"");
	return;
    }
    if ((t = get_text(x, d, s, key)) == NULL)
	return;
    for (p = t; *p >= '0' && *p <= '7' && v <= d->max; p++)
	v = v * 8 + (unsigned long) (*p - '0');
    if (*t == 0 || *p != 0 || v > d->max)
	cfg_error(x, s, key, "expected an octal mask in quotes such as \"007\"");
    else
	*(mode_t *) dst = (mode_t) v;
}

/* conv_vocab - a word of a fixed vocabulary */
static void conv_vocab(struct cfg_ctx *x, const struct cfg_desc *d,
		       const config_setting_t *s, const char *key, void *dst)
{
    static const char *const allowed[] = {
	[CFG_T_ACTION] = "accept, tag, quarantine, tempfail or reject",
	[CFG_T_APPLIES] = "authenticated, internal, external or any",
	[CFG_T_METRIC] = "distinct_ips, distinct_prefixes, distinct_countries, "
	    "distinct_asns, new_country, travel_kmh, messages, recipients, "
	    "bytes, users_per_ip or rogue_listed",
	[CFG_T_FACILITY] = "mail, daemon, user or local0 to local7",
    };
    const char *t = get_text(x, d, s, key);
    int v;

    if (t == NULL)
	return;
    v = d->type == CFG_T_ACTION ? cfg_action_parse(t)
	: d->type == CFG_T_APPLIES ? cfg_applies_parse(t)
	: d->type == CFG_T_METRIC ? cfg_metric_parse(t)
	: log_facility_parse(t);
    if (v < 0)
	cfg_error(x, s, key, "unknown value \"%s\"; expected %s", t,
		  allowed[d->type]);
    else
	*(int *) dst = v;
}

/* port_ok - a decimal port 1..65535 ending at end */
static int port_ok(const char *p, const char *end)
{
    long v = 0;

    if (p == end || end - p > 5)
	return 0;
    for (; p < end; p++) {
	if (!isdigit((unsigned char) *p))
	    return 0;
	v = v * 10 + (*p - '0');
    }
    return v >= 1 && v <= PORT_MAX;
}

/* conv_socket - unix:/path, local:/path, inet:PORT@HOST, inet6:PORT@HOST */
static void conv_socket(struct cfg_ctx *x, const struct cfg_desc *d,
			const config_setting_t *s, const char *key, void *dst)
{
    const char *t = get_text(x, d, s, key);
    const char *at;
    struct addr a;

    if (t == NULL)
	return;
    if ((strncmp(t, "unix:/", 6) == 0 || strncmp(t, "local:/", 7) == 0)) {
	put_str(x, s, key, dst, t);
	return;
    }
    if (strncmp(t, "inet:", 5) == 0 || strncmp(t, "inet6:", 6) == 0) {
	const char *port = strchr(t, ':') + 1;

	at = strchr(port, '@');
	if (at == NULL) {
	    cfg_error(x, s, key, "\"%s\" binds every interface; name the "
		      "address: inet:PORT@127.0.0.1 (or @0.0.0.0 if you mean it)", t);
	    return;
	}
	if (port_ok(port, at) && (addr_parse(at + 1, &a) == 0
				  || strcmp(at + 1, "localhost") == 0)) {
	    put_str(x, s, key, dst, t);
	    return;
	}
    }
    cfg_error(x, s, key, "expected unix:/PATH, inet:PORT@ADDRESS or "
	      "inet6:PORT@ADDRESS (got \"%s\")", t);
}

/* conv_collector - "", unix:/PATH, udp:ADDRESS:PORT or udp:[V6]:PORT */
static void conv_collector(struct cfg_ctx *x, const struct cfg_desc *d,
			   const config_setting_t *s, const char *key, void *dst)
{
    const char *t = get_text(x, d, s, key);
    char host[ADDR_STRLEN];
    const char *h, *colon;
    struct addr a;
    size_t n;

    if (t == NULL)
	return;
    if (*t == 0 || strncmp(t, "unix:/", 6) == 0) {
	put_str(x, s, key, dst, t);
	return;
    }
    if (strncmp(t, "udp:", 4) == 0 && (colon = strrchr(t + 4, ':')) != NULL) {
	h = t + 4;
	n = (size_t) (colon - h);
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']')
	    h++, n -= 2;
	if (n < sizeof(host)) {
	    memcpy(host, h, n);
	    host[n] = 0;
	    if (addr_parse(host, &a) == 0 && port_ok(colon + 1, colon + strlen(colon))) {
		put_str(x, s, key, dst, t);
		return;
	    }
	}
    }
    cfg_error(x, s, key, "expected unix:/PATH or udp:ADDRESS:PORT (got \"%s\")", t);
}

/* conv_cidr - one network */
static void conv_cidr(struct cfg_ctx *x, const struct cfg_desc *d,
		      const config_setting_t *s, const char *key, void *dst)
{
    const char *t = get_text(x, d, s, key);
    char why[128];

    if (t != NULL && addr_cidr_parse(t, dst, why, sizeof(why)) != 0)
	cfg_error(x, s, key, "%s; expected a CIDR such as 192.0.2.0/24 or "
		  "2001:db8::/32 (got \"%s\")", why, t);
}

/* list_elems - check s is an array/list of strings; count or -1 */
static int list_elems(struct cfg_ctx *x, const config_setting_t *s,
		      const char *key, const char *what)
{
    int i, n;

    if (!config_setting_is_aggregate(s) || config_setting_is_group(s)) {
	cfg_error(x, s, key, "expected a list of %s in [ ]", what);
	return -1;
    }
    n = config_setting_length(s);
    for (i = 0; i < n; i++)
	if (config_setting_type(config_setting_get_elem(s, (unsigned) i))
	    != CONFIG_TYPE_STRING) {
	    cfg_error(x, s, key, "expected a list of %s in double quotes", what);
	    return -1;
	}
    return n;
}

/* conv_cidrs - a list of networks */
static void conv_cidrs(struct cfg_ctx *x, const struct cfg_desc *d,
		       const config_setting_t *s, const char *key, void *dst)
{
    struct cidr_list *l = dst;
    struct cfg_desc one = *d;
    char ekey[CFG_KEY_MAX];
    int i, n;

    if (s == NULL || (n = list_elems(x, s, key, "networks")) <= 0)
	return;
    if ((l->v = calloc((size_t) n, sizeof(*l->v))) == NULL) {
	cfg_error(x, s, key, "out of memory");
	return;
    }
    for (i = 0; i < n; i++) {
	snprintf(ekey, sizeof(ekey), "%s[%d]", key, i);
	conv_cidr(x, &one, config_setting_get_elem(s, (unsigned) i), ekey,
		  &l->v[i]);
    }
    l->n = (size_t) n;
}

/* normalise_login - lower case into out; 0 when it fits and is not empty */
static int normalise_login(const char *t, char *out, size_t outlen)
{
    size_t i, n = strlen(t);

    if (n == 0 || n >= outlen)
	return -1;
    for (i = 0; i <= n; i++)
	out[i] = (char) tolower((unsigned char) t[i]);
    return 0;
}

/* conv_user - one SASL login, stored lower case */
static void conv_user(struct cfg_ctx *x, const struct cfg_desc *d,
		      const config_setting_t *s, const char *key, void *dst)
{
    const char *t = get_text(x, d, s, key);
    char low[STORE_LOGIN_MAX];

    if (t == NULL)
	return;
    if (normalise_login(t, low, sizeof(low)) != 0 || strchr(low, ' '))
	cfg_error(x, s, key, "expected a login of 1 to %d characters without spaces",
		  STORE_LOGIN_MAX - 1);
    else
	put_str(x, s, key, dst, low);
}

/* conv_str_list - a list of strings, each element converted by elem;
 * what names the elements in the error for a value that is no list */
static void conv_str_list(struct cfg_ctx *x, const struct cfg_desc *d,
			  const config_setting_t *s, const char *key, void *dst,
			  const char *what, cfg_conv_fn elem)
{
    struct cfg_str_list *l = dst;
    char ekey[CFG_KEY_MAX];
    int i, n;

    if (s == NULL || (n = list_elems(x, s, key, what)) <= 0)
	return;
    if ((l->v = calloc((size_t) n, sizeof(*l->v))) == NULL) {
	cfg_error(x, s, key, "out of memory");
	return;
    }
    l->n = (size_t) n;
    for (i = 0; i < n; i++) {
	snprintf(ekey, sizeof(ekey), "%s[%d]", key, i);
	elem(x, d, config_setting_get_elem(s, (unsigned) i), ekey, &l->v[i]);
    }
}

/* conv_users - a list of logins */
static void conv_users(struct cfg_ctx *x, const struct cfg_desc *d,
		       const config_setting_t *s, const char *key, void *dst)
{
    conv_str_list(x, d, s, key, dst, "logins", conv_user);
}

/* conv_rulenames - a list of rule names */
static void conv_rulenames(struct cfg_ctx *x, const struct cfg_desc *d,
			   const config_setting_t *s, const char *key,
			   void *dst)
{
    conv_str_list(x, d, s, key, dst, "rule names", conv_rulename);
}

/* conv_domain - a sender domain, stored lower case without '@' */
static void conv_domain(struct cfg_ctx *x, const struct cfg_desc *d,
			const config_setting_t *s, const char *key, void *dst)
{
    const char *t = get_text(x, d, s, key);
    char low[DOMAIN_MAX + 1];

    if (t == NULL)
	return;
    if (*t == '@')
	t++;
    if (normalise_login(t, low, sizeof(low)) != 0 || !all_chars(low, ".-")
	|| strchr(low, '.') == NULL)
	cfg_error(x, s, key, "expected a domain name such as example.org");
    else
	put_str(x, s, key, dst, low);
}

/* conv_domains - a list of domain names */
static void conv_domains(struct cfg_ctx *x, const struct cfg_desc *d,
			 const config_setting_t *s, const char *key, void *dst)
{
    conv_str_list(x, d, s, key, dst, "domains", conv_domain);
}

/* conv_countries - a list of ISO 3166 alpha-2 codes */
static void conv_countries(struct cfg_ctx *x, const struct cfg_desc *d,
			   const config_setting_t *s, const char *key, void *dst)
{
    struct cfg_countries *l = dst;
    int i, n;

    (void) d;
    if (s == NULL || (n = list_elems(x, s, key, "country codes")) <= 0)
	return;
    if ((l->v = calloc((size_t) n, sizeof(*l->v))) == NULL) {
	cfg_error(x, s, key, "out of memory");
	return;
    }
    for (i = 0; i < n; i++) {
	const char *t = config_setting_get_string_elem(s, i);

	if (strlen(t) != 2 || !isalpha((unsigned char) t[0])
	    || !isalpha((unsigned char) t[1])) {
	    cfg_error(x, s, key, "expected two-letter country codes such as "
		      "\"DE\" (got \"%s\")", t);
	    return;
	}
	l->v[i][0] = (char) toupper((unsigned char) t[0]);
	l->v[i][1] = (char) toupper((unsigned char) t[1]);
    }
    l->n = (size_t) n;
}

/* bind_list - bind every group of a list with one element table */
static void *bind_list(struct cfg_ctx *x, const config_setting_t *s,
		       const char *key, const struct cfg_desc *table,
		       size_t elsize, size_t *count)
{
    char ekey[CFG_KEY_MAX];
    char *v;
    int i, n;

    if (!config_setting_is_list(s) && !(config_setting_is_array(s)
					&& config_setting_length(s) == 0)) {
	cfg_error(x, s, key, "expected a list of groups: ( { ... }, { ... } )");
	return NULL;
    }
    n = config_setting_length(s);
    if (n == 0 || (v = calloc((size_t) n, elsize)) == NULL)
	return NULL;
    for (i = 0; i < n; i++) {
	const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);

	snprintf(ekey, sizeof(ekey), "%s[%d]", key, i);
	if (!config_setting_is_group(e)) {
	    cfg_error(x, e, ekey, "expected a group in { }");
	    continue;
	}
	cfg_bind_group(x, e, ekey, table, v + (size_t) i * elsize);
    }
    *count = (size_t) n;
    return v;
}

/* conv_rules - policy.rules */
static void conv_rules(struct cfg_ctx *x, const struct cfg_desc *d,
		       const config_setting_t *s, const char *key, void *dst)
{
    struct cfg_policy *p = &x->cfg->policy;
    size_t i;

    (void) d, (void) dst;
    p->rules = bind_list(x, s, key, cfg_rule_desc, sizeof(*p->rules), &p->nrules);
    for (i = 0; i < p->nrules; i++)
	p->rules[i].line = (int) config_setting_source_line(
	    config_setting_get_elem(s, (unsigned) i));
}

/* conv_overrides - policy.overrides */
static void conv_overrides(struct cfg_ctx *x, const struct cfg_desc *d,
			   const config_setting_t *s, const char *key, void *dst)
{
    struct cfg_policy *p = &x->cfg->policy;
    size_t i;

    (void) d, (void) dst;
    p->overrides = bind_list(x, s, key, cfg_override_desc,
			     sizeof(*p->overrides), &p->noverrides);
    for (i = 0; i < p->noverrides; i++) {
	p->overrides[i].rule = -1;
	p->overrides[i].line = (int) config_setting_source_line(
	    config_setting_get_elem(s, (unsigned) i));
    }
}

static const cfg_conv_fn converters[] = {
    [CFG_T_STR] = conv_str, [CFG_T_NAME] = conv_name,
    [CFG_T_PATH] = conv_path, [CFG_T_REPLY] = conv_reply,
    [CFG_T_BOOL] = conv_bool, [CFG_T_U32] = conv_u32,
    [CFG_T_LIMIT] = conv_limit, [CFG_T_DURATION_S] = conv_duration_s,
    [CFG_T_DURATION_MS] = conv_duration_ms, [CFG_T_MODE] = conv_mode,
    [CFG_T_ACTION] = conv_vocab, [CFG_T_APPLIES] = conv_vocab,
    [CFG_T_METRIC] = conv_vocab, [CFG_T_FACILITY] = conv_vocab,
    [CFG_T_SOCKET] = conv_socket, [CFG_T_COLLECTOR] = conv_collector,
    [CFG_T_CIDR] = conv_cidr, [CFG_T_CIDRS] = conv_cidrs,
    [CFG_T_USER] = conv_user, [CFG_T_USERS] = conv_users,
    [CFG_T_DOMAIN] = conv_domain, [CFG_T_DOMAINS] = conv_domains,
    [CFG_T_COUNTRIES] = conv_countries,
    [CFG_T_RULENAME] = conv_rulename, [CFG_T_RULES] = conv_rules,
    [CFG_T_RULENAMES] = conv_rulenames,
    [CFG_T_OVERRIDES] = conv_overrides, [CFG_T_MAILADDR] = conv_mailaddr,
};

/* cfg_convert - dispatch one value to its converter */
void cfg_convert(struct cfg_ctx *x, const struct cfg_desc *d,
		 const config_setting_t *s, const config_setting_t *parent,
		 const char *key, void *dst)
{
    (void) parent;
    if (d->type == CFG_T_GROUP) {
	if (s != NULL && !config_setting_is_group(s))
	    cfg_error(x, s, key, "expected a group in { }");
	else
	    cfg_bind_group(x, s, key, d->sub, dst);
	return;
    }
    converters[d->type] (x, d, s, key, dst);
}
