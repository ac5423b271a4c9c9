/*
 * mta - what both MTA back ends share: queue-id validation, the
 * X-Relayguard header parser, the message list, running a tool.
 *
 * Contract: a queue id is accepted only as 1..31 characters of
 * [0-9A-Za-z] (Postfix short and long ids, Sendmail ids), never the
 * word "ALL" (postsuper's "every message"), checked before
 * it goes anywhere near a command line; the tools are run with an
 * argument vector, never a shell (proc.c), bounded in output and time,
 * by absolute path only (they run as root: no PATH search): Postfix's
 * from its command_directory, as /usr/sbin/postconf names it (for -C DIR
 * that instance's), Sendmail's from fixed paths.
 * Parsers take untrusted text and never fail hard: a field they cannot
 * read stays empty. Functions return enum mta_status and fill err; they
 * never log.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mta.h"
#include "text.h"

#define LIST_INITIAL 64
#define ERR_LINE_MAX 200
#define POSTCONF_OUT_MAX 4096
#define POSTCONF_TIMEOUT_MS 10000

const char *mta_postconf_path = "/usr/sbin/postconf";
const char *mta_sendmail_path = "/usr/sbin/sendmail";
const char *mta_mailq_path = "/usr/bin/mailq";

/* Postfix's command_directory, found once per postconf and -C value. */
static struct {
    char key[2 * PATH_MAX];	/* postconf path NUL -C value */
    char dir[PATH_MAX];		/* "" when unknown */
    char err[LOG_VALUE_MAX + PATH_MAX];	/* why it is unknown */
    char tools[MTA_TOOLS_MAX][PATH_MAX];
} pf_cache;

static const char *const pf_tools[MTA_TOOLS_MAX] = {
    "postqueue", "postcat", "postsuper",
};

/* mta_qid_valid - a queue id we are willing to pass to a tool */
bool mta_qid_valid(const char *id)
{
    size_t n = 0;

    if (id == NULL)
	return false;
    for (; id[n]; n++)
	if (n >= MTA_QID_MAX - 1
	    || !((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'A' && id[n] <= 'Z')
		 || (id[n] >= 'a' && id[n] <= 'z')))
	    return false;
    /* postsuper reads "ALL" as every message in the queue */
    return n > 0 && strcmp(id, "ALL") != 0;
}

/* mta_copy - a bounded copy of len bytes, NUL-terminated */
void mta_copy(char *dst, size_t size, const char *src, size_t len)
{
    if (size == 0)
	return;
    if (len > size - 1)
	len = size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* dir_ok - an absolute directory path without "..", newlines or spaces */
static bool dir_ok(const char *d)
{
    return d[0] == '/' && strstr(d, "..") == NULL
	&& strcspn(d, " \t\r\n") == strlen(d);
}

/* first_line - the first line of a tool's stderr, cleaned */
static void first_line(const char *text, char *out, size_t len)
{
    size_t n = strcspn(text, "\n");

    text_clean(text, n > ERR_LINE_MAX ? ERR_LINE_MAX : n, out, len);
}

/* pf_command_dir - ask postconf where the Postfix tools are */
static void pf_command_dir(const struct ctl *c)
{
    const char *av[] = { mta_postconf_path, "-h", "command_directory", NULL,
	NULL, NULL };
    struct proc_result r;
    size_t n;

    pf_cache.dir[0] = pf_cache.err[0] = '\0';
    if (c->mta_dir != NULL) {
	av[1] = "-c";
	av[2] = c->mta_dir;
	av[3] = "-h";
	av[4] = "command_directory";
    }
    if (proc_run(av, POSTCONF_TIMEOUT_MS, POSTCONF_OUT_MAX, &r) != 0) {
	snprintf(pf_cache.err, sizeof(pf_cache.err), "cannot run %s",
		 mta_postconf_path);
	return;
    }
    n = strcspn(r.out != NULL ? r.out : "", "\n");
    if (proc_ok(&r) && n > 0 && n < sizeof(pf_cache.dir)) {
	memcpy(pf_cache.dir, r.out, n);
	pf_cache.dir[n] = '\0';
    }
    if (!dir_ok(pf_cache.dir) && !proc_ok(&r)) {
	char line[LOG_VALUE_MAX + 1];

	first_line(r.err != NULL ? r.err : "", line, sizeof(line));
	snprintf(pf_cache.err, sizeof(pf_cache.err), "%s -h command_directory"
		 " failed%s%s (-C names another instance's directory)",
		 mta_postconf_path, line[0] ? ": " : "", line);
	pf_cache.dir[0] = '\0';
    } else if (!dir_ok(pf_cache.dir)) {
	snprintf(pf_cache.err, sizeof(pf_cache.err), "%s -h command_directory"
		 " gave no absolute directory", mta_postconf_path);
	pf_cache.dir[0] = '\0';
    }
    proc_result_free(&r);
}

/* n_key - the cache key: two strings, NUL separated, zero padded */
static void n_key(char *key, size_t len, const char *a, const char *b)
{
    memset(key, 0, len);
    snprintf(key, len / 2, "%s", a);
    snprintf(key + len / 2, len / 2, "%s", b != NULL ? b : "");
}

/* mta_tool - the absolute path of an MTA tool, or the bare name when it
 * cannot be had (proc_run then refuses it and mta_run says why) */
const char *mta_tool(const struct ctl *c, const char *tool)
{
    char key[sizeof(pf_cache.key)];
    int k;

    if (strcmp(tool, "sendmail") == 0)
	return mta_sendmail_path;
    if (strcmp(tool, "mailq") == 0)
	return mta_mailq_path;
    for (k = 0; k < MTA_TOOLS_MAX && strcmp(pf_tools[k], tool) != 0; k++)
	;
    if (k == MTA_TOOLS_MAX)
	return tool;
    n_key(key, sizeof(key), mta_postconf_path, c->mta_dir);
    if (memcmp(key, pf_cache.key, sizeof(key)) != 0) {
	memcpy(pf_cache.key, key, sizeof(key));
	pf_command_dir(c);
    }
    if (pf_cache.dir[0] == '\0')
	return tool;
    snprintf(pf_cache.tools[k], sizeof(pf_cache.tools[k]), "%s/%s",
	     pf_cache.dir, tool);
    return pf_cache.tools[k];
}

/* mta_argv - "tool [CONF_OPT -C's value] a1 a2 a3" into av[MTA_ARGV_MAX].
 * Postfix tools take -c DIR, Sendmail's -C FILE; a NULL argument ends
 * the vector early. The tool is named by its absolute path (mta_tool). */
const char **mta_argv(const struct ctl *c, const char **av,
		      const char *conf_opt, const char *tool, const char *a1,
		      const char *a2, const char *a3)
{
    int n = 0;

    av[n++] = mta_tool(c, tool);
    if (c->mta_dir != NULL) {
	av[n++] = conf_opt;
	av[n++] = c->mta_dir;
    }
    av[n++] = a1;
    av[n++] = a2;
    av[n++] = a3;
    av[n] = NULL;
    return av;
}

/* rg_field - where a header key's value goes, or NULL */
static char *rg_field(struct mta_rg *rg, const char *key, size_t len)
{
    static const struct {
	const char *key;
	size_t off;
    } fields[] = {
	{"action", offsetof(struct mta_rg, action)},
	{"rule", offsetof(struct mta_rg, rule)},
	{"user", offsetof(struct mta_rg, user)},
	{"client", offsetof(struct mta_rg, client)},
	{"country", offsetof(struct mta_rg, country)},
	{"reason", offsetof(struct mta_rg, reason)},
    };

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
	if (strlen(fields[i].key) == len
	    && strncmp(fields[i].key, key, len) == 0)
	    return (char *) rg + fields[i].off;
    return NULL;
}

/* rg_value - one value at *p: "quoted \"text\"", [bracketed] or bare */
static void rg_value(const char **p, char *out, size_t size)
{
    const char *s = *p;
    size_t o = 0;

    if (*s == '"') {
	for (s++; *s && *s != '"'; s++) {
	    if (*s == '\\' && s[1])
		s++;
	    if (out != NULL && o + 1 < size)
		out[o++] = *s;
	}
	if (*s == '"')
	    s++;
    } else if (*s == '[') {
	for (s++; *s && *s != ']'; s++)
	    if (out != NULL && o + 1 < size)
		out[o++] = *s;
	if (*s == ']')
	    s++;
    } else {
	for (; *s && *s != ' ' && *s != '\t'; s++)
	    if (out != NULL && o + 1 < size)
		out[o++] = *s;
    }
    if (out != NULL)
	out[o] = '\0';
    *p = s;
}

/* mta_rg_parse - key=value pairs of one X-Relayguard value (count kept) */
void mta_rg_parse(const char *value, struct mta_rg *out)
{
    const char *p = value;
    int count = out->count;

    memset(out, 0, sizeof(*out));
    out->count = count;
    while (*p) {
	const char *key;
	size_t klen;

	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
	    p++;
	key = p;
	while ((*p >= 'a' && *p <= 'z') || *p == '_')
	    p++;
	klen = (size_t) (p - key);
	if (*p != '=' || klen == 0) {
	    rg_value(&p, NULL, 0);	/* not key=value: skip the token */
	    if (p == key)
		p++;
	    continue;
	}
	p++;
	rg_value(&p, rg_field(out, key, klen), MTA_FIELD_MAX);
    }
}

/* mta_list_add - a new zeroed entry at the end; NULL if out of memory */
struct mta_msg *mta_list_add(struct mta_list *l)
{
    if (l->n == l->cap) {
	size_t cap = l->cap ? 2 * l->cap : LIST_INITIAL;
	struct mta_msg *v;

	if (cap > SIZE_MAX / sizeof(*v)
	    || (v = realloc(l->v, cap * sizeof(*v))) == NULL)
	    return NULL;
	l->v = v;
	l->cap = cap;
    }
    memset(&l->v[l->n], 0, sizeof(l->v[0]));
    return &l->v[l->n++];
}

/* mta_list_free - release the entries */
void mta_list_free(struct mta_list *l)
{
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* mta_list_find - an entry by exact queue id, or NULL */
const struct mta_msg *mta_list_find(const struct mta_list *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
	if (strcmp(l->v[i].id, id) == 0)
	    return &l->v[i];
    return NULL;
}

/* mta_run - run a tool; MTA_ETOOL with the reason unless it exits 0 */
int mta_run(const char *const *argv, size_t max_out, struct proc_result *r,
	    char *err, size_t errlen)
{
    char line[LOG_VALUE_MAX + 1];

    if (argv[0][0] != '/') {
	memset(r, 0, sizeof(*r));
	snprintf(err, errlen, "cannot find %s: %s", argv[0], pf_cache.err[0]
		 ? pf_cache.err : "no absolute path");
	return MTA_ETOOL;
    }
    if (proc_run(argv, MTA_TIMEOUT_MS, max_out, r) != 0) {
	snprintf(err, errlen, "cannot run %s", argv[0]);
	return MTA_ETOOL;
    }
    if (proc_ok(r))
	return MTA_OK;
    first_line(r->err, line, sizeof(line));
    if (r->timed_out)
	snprintf(err, errlen, "%s did not finish within %d s", argv[0],
		 MTA_TIMEOUT_MS / 1000);
    else if (r->signal)
	snprintf(err, errlen, "%s killed by signal %d", argv[0], r->signal);
    else
	snprintf(err, errlen, "%s failed (exit %d)%s%s", argv[0], r->status,
		 line[0] ? ": " : "", line);
    return MTA_ETOOL;
}
