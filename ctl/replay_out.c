/*
 * replay_out - what relayguardctl replay prints: text tables (per rule,
 * top logins, --compare's changes, unparsable lines), one JSON document,
 * or a self-contained HTML page with an inline SVG timeline per flagged
 * login (no scripts, no external resources).
 *
 * Contract: every string that came from the log is cleaned (text_clean)
 * or escaped (JSON, HTML) before it is printed. Returns nonzero on a
 * write error.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "replay.h"
#include "table.h"
#include "text.h"

#define GEO_NOTE "GeoIP: today's databases, applied to old addresses"
#define CELL 32
#define SVG_W 600		/* timeline width in pixels */
#define SVG_H 28

static const char *const stop_names[CFG_ACTION_COUNT] = {
    "accepted", "tagged", "held", "tempfailed", "rejected",
};

/* replay_rule_name - a rule's name in a run, "-" for none */
const char *replay_rule_name(const struct replay_run *run, int rule)
{
    return rule >= 0 && (size_t) rule < run->cfg->policy.nrules
	? run->cfg->policy.rules[rule].name : "-";
}

/* replay_who_flagged - did any run stop or tag this login? */
bool replay_who_flagged(const struct replay *r, const struct replay_who *w)
{
    for (int k = 0; k < r->nruns; k++)
	if (w->run[k].stopped || w->run[k].tagged)
	    return true;
    return false;
}

/* who_ips - distinct addresses, saturating */
static unsigned who_ips(const struct replay_who *w)
{
    return w->nips + (w->ips_more ? 1 : 0);
}

/* by_risk - countries, then addresses, then messages, descending */
static int by_risk(const void *a, const void *b)
{
    const struct replay_who *x = *(const struct replay_who *const *) a;
    const struct replay_who *y = *(const struct replay_who *const *) b;

    if (x->nccs != y->nccs)
	return x->nccs < y->nccs ? 1 : -1;
    if (who_ips(x) != who_ips(y))
	return who_ips(x) < who_ips(y) ? 1 : -1;
    if (x->msgs != y->msgs)
	return x->msgs < y->msgs ? 1 : -1;
    return strcmp(x->key, y->key);
}

/* top - the flagged logins, riskiest first; count in *n (caller frees) */
static const struct replay_who **top(const struct replay *r, size_t *n)
{
    const struct replay_who **v = calloc(r->nwho + 1, sizeof(*v));

    *n = 0;
    if (v == NULL)
	return NULL;
    for (uint32_t i = 0; i < r->cap; i++)
	if (r->who[i].used && !r->who[i].is_client
	    && replay_who_flagged(r, &r->who[i]))
	    v[(*n)++] = &r->who[i];
    qsort(v, *n, sizeof(*v), by_risk);
    return v;
}

/* countries - "BR,CN,DE" of a login */
static void countries(const struct replay_who *w, char *buf, size_t len)
{
    size_t o = 0;

    buf[0] = 0;
    for (uint32_t i = 0; i < w->nccs && o + 4 < len; i++)
	o += (size_t) snprintf(buf + o, len - o, "%s%.2s", i ? "," : "", w->ccs[i]);
}

/* rule_table - per rule of one run */
static void rule_table(const struct replay_run *run, FILE *out)
{
    static const struct table_col cols[] = {
	{"RULE", TABLE_LEFT, 1, 8, 0}, {"TAG", TABLE_RIGHT, 0, 0, 0},
	{"HOLD", TABLE_RIGHT, 0, 0, 0}, {"TEMPF", TABLE_RIGHT, 0, 0, 0},
	{"REJ", TABLE_RIGHT, 0, 0, 0}, {"LOGINS", TABLE_RIGHT, 0, 0, 0},
	{"CLIENTS", TABLE_RIGHT, 0, 0, 0}, {"FIRST", TABLE_LEFT, 0, 0, 0},
	{"LAST", TABLE_LEFT, 0, 0, 0},
    };
    struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
    char c[8][CELL], first[TEXT_TIME_MAX], last[TEXT_TIME_MAX];

    if (t == NULL)
	return;
    for (size_t i = 0; i < run->cfg->policy.nrules && i < REPLAY_RULES; i++) {
	const struct replay_rule *rr = &run->rules[i];
	const char *cells[9];

	for (int a = CFG_ACTION_TAG; a < CFG_ACTION_COUNT; a++)
	    snprintf(c[a - 1], CELL, "%llu", (unsigned long long) rr->by_action[a]);
	snprintf(c[4], CELL, "%llu", (unsigned long long) rr->logins);
	snprintf(c[5], CELL, "%llu", (unsigned long long) rr->clients);
	text_time(rr->first, first, sizeof(first));
	text_time(rr->last, last, sizeof(last));
	cells[0] = run->cfg->policy.rules[i].name;
	for (int k = 0; k < 6; k++)
	    cells[k + 1] = c[k];
	cells[7] = first, cells[8] = last;
	table_add(t, cells);
    }
    table_print(t, out, TABLE_WIDTH + 20);
    table_free(t);
}

/* login_table - the riskiest flagged logins */
static void login_table(const struct replay *r, FILE *out)
{
    static const struct table_col cols[] = {
	{"LOGIN", TABLE_LEFT, 1, 8, 0}, {"CC", TABLE_RIGHT, 0, 0, 0},
	{"IPS", TABLE_RIGHT, 0, 0, 0}, {"MSGS", TABLE_RIGHT, 0, 0, 0},
	{"STOPPED", TABLE_RIGHT, 0, 0, 0}, {"FIRST STOPPED BY", TABLE_LEFT, 1, 8, 0},
	{"AT", TABLE_LEFT, 0, 0, 0}, {"COUNTRIES", TABLE_LEFT, 1, 6, 0},
    };
    size_t n, i;
    const struct replay_who **v = top(r, &n);
    struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
    char c[4][CELL], at[TEXT_TIME_MAX], cc[REPLAY_LOGIN_CCS * 3 + 1],
	login[REPLAY_LOGIN_KEY * 4], by[CELL * 2];

    for (i = 0; v != NULL && t != NULL && i < n && i < r->top; i++) {
	const struct replay_who *w = v[i];
	const char *cells[8];

	text_clean(w->key, strnlen(w->key, sizeof(w->key)), login, sizeof(login));
	snprintf(c[0], CELL, "%u", w->nccs);
	snprintf(c[1], CELL, "%u%s", who_ips(w), w->ips_more ? "+" : "");
	snprintf(c[2], CELL, "%llu", (unsigned long long) w->msgs);
	snprintf(c[3], CELL, "%llu", (unsigned long long) w->run[0].stopped);
	snprintf(by, sizeof(by), "%s %s", w->run[0].stop_rule >= 0
		 ? replay_rule_name(&r->run[0], w->run[0].stop_rule) : "-",
		 w->run[0].stopped ? stop_names[w->run[0].stop_action] : "");
	text_time(w->run[0].stop_time, at, sizeof(at));
	countries(w, cc, sizeof(cc));
	cells[0] = login, cells[1] = c[0], cells[2] = c[1], cells[3] = c[2];
	cells[4] = c[3], cells[5] = by, cells[6] = at, cells[7] = cc;
	table_add(t, cells);
    }
    if (t != NULL && table_rows(t) > 0)
	table_print(t, out, TABLE_WIDTH + 20);
    else
	fprintf(out, "  (none)\n");
    table_free(t);
    free(v);
}

/* compare_text - what changes from the configuration to --compare's */
static void compare_text(const struct replay *r, FILE *out)
{
    char login[REPLAY_LOGIN_KEY * 4];
    unsigned caught = 0, freed = 0;

    fprintf(out, "\nCOMPARE %s -> %s\n", r->run[0].file, r->run[1].file);
    fprintf(out, "  messages newly stopped: %llu, newly let through: %llu\n",
	    (unsigned long long) r->newly_stopped,
	    (unsigned long long) r->newly_passed);
    fprintf(out, "  (held or refused; refused alone: %llu newly, %llu no longer)\n",
	    (unsigned long long) r->newly_refused,
	    (unsigned long long) r->no_longer_refused);
    for (uint32_t i = 0; i < r->cap; i++) {
	const struct replay_who *w = &r->who[i];
	bool a = w->run[0].stopped > 0, b = w->run[1].stopped > 0;

	if (!w->used || w->is_client || a == b)
	    continue;
	text_clean(w->key, strnlen(w->key, sizeof(w->key)), login, sizeof(login));
	fprintf(out, "  login %s: %s (%s)\n", login, b ? "newly caught" : "freed",
		b ? replay_rule_name(&r->run[1], w->run[1].stop_rule)
		: replay_rule_name(&r->run[0], w->run[0].stop_rule));
	caught += b, freed += a;
    }
    fprintf(out, "  logins newly caught: %u, freed: %u\n", caught, freed);
}

/* replay_text - the report as text tables */
int replay_text(const struct replay *r, FILE *out)
{
    char a[TEXT_TIME_MAX], b[TEXT_TIME_MAX];

    text_time(r->first, a, sizeof(a));
    text_time(r->last, b, sizeof(b));
    fprintf(out, "replay: %d file(s), %llu lines (%llu not understood), "
	    "%llu submissions from %s to %s\n", r->nfiles,
	    (unsigned long long) r->lines, (unsigned long long) r->bad,
	    (unsigned long long) r->counted, a, b);
    if (r->warm)
	fprintf(out, "  %llu earlier submissions only filled the windows\n",
		(unsigned long long) r->warm);
    if (r->join.unjoined || r->join.evicted || r->who_dropped)
	fprintf(out, "  %llu ends without their start in the log, %llu starts"
		" without an end, %llu logins or clients past the table\n",
		(unsigned long long) r->join.unjoined,
		(unsigned long long) r->join.evicted,
		(unsigned long long) r->who_dropped);
    fprintf(out, "  live, as the log says: %llu accepted, %llu held, %llu"
	    " tempfailed, %llu rejected, %llu discarded\n",
	    (unsigned long long) r->live[MAILLOG_LIVE_ACCEPT],
	    (unsigned long long) r->live[MAILLOG_LIVE_HOLD],
	    (unsigned long long) r->live[MAILLOG_LIVE_TEMPFAIL],
	    (unsigned long long) r->live[MAILLOG_LIVE_REJECT],
	    (unsigned long long) r->live[MAILLOG_LIVE_DISCARD]);
    fprintf(out, "  %s\n", GEO_NOTE);
    for (int k = 0; k < r->nruns; k++) {
	const struct replay_run *run = &r->run[k];

	fprintf(out, "\nRULES of %s: %llu accepted, %llu tagged, %llu held,"
		" %llu tempfailed, %llu rejected%s\n", run->file,
		(unsigned long long) run->by_action[CFG_ACTION_ACCEPT],
		(unsigned long long) run->by_action[CFG_ACTION_TAG],
		(unsigned long long) run->by_action[CFG_ACTION_QUARANTINE],
		(unsigned long long) run->by_action[CFG_ACTION_TEMPFAIL],
		(unsigned long long) run->by_action[CFG_ACTION_REJECT],
		run->geo_missing ? " (a configured GeoIP file is missing)" : "");
	if (run->dry_run)
	    fprintf(out, "  (dry_run is set: replayed as if enforced)\n");
	rule_table(run, out);
    }
    fprintf(out, "\nTOP LOGINS (flagged)\n");
    login_table(r, out);
    if (r->nruns == REPLAY_RUNS)
	compare_text(r, out);
    if (r->bad) {
	fprintf(out, "\nNOT UNDERSTOOD: %llu lines, first ones:\n",
		(unsigned long long) r->bad);
	for (uint32_t i = 0; i < r->nsamples; i++)
	    fprintf(out, "  %s\n", r->samples[i]);
    }
    return ferror(out) ? -1 : 0;
}

/* json_rules - per rule of one run */
static void json_rules(struct json *j, const struct replay_run *run)
{
    json_key(j, "rules");
    json_arr(j);
    for (size_t i = 0; i < run->cfg->policy.nrules && i < REPLAY_RULES; i++) {
	const struct replay_rule *rr = &run->rules[i];

	json_obj(j);
	json_kstr(j, "name", run->cfg->policy.rules[i].name);
	json_kuint(j, "tagged", rr->by_action[CFG_ACTION_TAG]);
	json_kuint(j, "held", rr->by_action[CFG_ACTION_QUARANTINE]);
	json_kuint(j, "tempfailed", rr->by_action[CFG_ACTION_TEMPFAIL]);
	json_kuint(j, "rejected", rr->by_action[CFG_ACTION_REJECT]);
	json_kuint(j, "by_block", rr->by_block);
	json_kuint(j, "logins", rr->logins);
	json_kuint(j, "clients", rr->clients);
	json_kuint(j, "first", rr->first);
	json_kuint(j, "last", rr->last);
	json_obj_end(j);
    }
    json_arr_end(j);
}

/* json_login - one flagged login */
static void json_login(struct json *j, const struct replay *r,
		       const struct replay_who *w)
{
    char cc[REPLAY_LOGIN_CCS * 3 + 1];

    countries(w, cc, sizeof(cc));
    json_obj(j);
    json_key(j, "login");
    json_strn(j, w->key, strnlen(w->key, sizeof(w->key)));
    json_kuint(j, "countries", w->nccs);
    json_kstr(j, "country_list", cc);
    json_kuint(j, "ips", who_ips(w));
    json_kbool(j, "ips_more", w->ips_more);
    json_kuint(j, "messages", w->msgs);
    json_key(j, "runs");
    json_arr(j);
    for (int k = 0; k < r->nruns; k++) {
	const struct replay_who_run *wr = &w->run[k];

	json_obj(j);
	json_kuint(j, "stopped", wr->stopped);
	json_kuint(j, "tagged", wr->tagged);
	json_kstr(j, "stopped_by", replay_rule_name(&r->run[k], wr->stop_rule));
	json_kstr(j, "stop_action", wr->stopped ? cfg_action_name(wr->stop_action) : "-");
	json_kuint(j, "stopped_at", wr->stop_time);
	json_obj_end(j);
    }
    json_arr_end(j);
    json_obj_end(j);
}

/* json_run - one configuration's results */
static void json_run(struct json *j, const struct replay_run *run)
{
    json_obj(j);
    json_kstr(j, "config", run->file);
    json_kbool(j, "geoip_missing", run->geo_missing != 0);
    json_key(j, "verdicts");
    json_obj(j);
    for (int a = 0; a < CFG_ACTION_COUNT; a++)
	json_kuint(j, cfg_action_name((enum cfg_action) a), run->by_action[a]);
    json_obj_end(j);
    json_kuint(j, "state_errors", run->errors);
    json_rules(j, run);
    json_obj_end(j);
}

/* json_logins - the logins one run stops and the other does not */
static void json_logins(struct json *j, const struct replay *r,
			const char *key, int stops, int passes)
{
    json_key(j, key);
    json_arr(j);
    for (uint32_t i = 0; i < r->cap; i++) {
	const struct replay_who *w = &r->who[i];

	if (w->used && !w->is_client && w->run[stops].stopped > 0
	    && w->run[passes].stopped == 0) {
	    json_obj(j);
	    json_key(j, "login");
	    json_strn(j, w->key, strnlen(w->key, sizeof(w->key)));
	    json_kstr(j, "rule", replay_rule_name(&r->run[stops],
						  w->run[stops].stop_rule));
	    json_obj_end(j);
	}
    }
    json_arr_end(j);
}

/* json_compare - what changes from the configuration to --compare's
 * (the login lists in no particular order) */
static void json_compare(struct json *j, const struct replay *r)
{
    json_key(j, "compare");
    json_obj(j);
    json_kuint(j, "newly_stopped", r->newly_stopped);
    json_kuint(j, "newly_passed", r->newly_passed);
    json_kuint(j, "newly_refused", r->newly_refused);
    json_kuint(j, "no_longer_refused", r->no_longer_refused);
    json_logins(j, r, "logins_caught", 1, 0);
    json_logins(j, r, "logins_freed", 0, 1);
    json_obj_end(j);
}

/* json_head - inputs and what was read */
static void json_head(struct json *j, const struct replay *r)
{
    json_key(j, "files");
    json_arr(j);
    for (int i = 0; i < r->nfiles; i++)
	json_str(j, r->files[i]);
    json_arr_end(j);
    json_kuint(j, "lines", r->lines);
    json_kuint(j, "bad_lines", r->bad);
    json_key(j, "bad_samples");
    json_arr(j);
    for (uint32_t i = 0; i < r->nsamples; i++)
	json_str(j, r->samples[i]);
    json_arr_end(j);
    json_kuint(j, "submissions", r->counted);
    json_kuint(j, "warm_up", r->warm);
    json_kuint(j, "unjoined", r->join.unjoined);
    json_kuint(j, "evicted", r->join.evicted);
    json_kuint(j, "first", r->first);
    json_kuint(j, "last", r->last);
    json_key(j, "live");
    json_obj(j);
    for (int l = MAILLOG_LIVE_ACCEPT; l <= MAILLOG_LIVE_DISCARD; l++)
	json_kuint(j, maillog_live_name((enum maillog_live) l), r->live[l]);
    json_obj_end(j);
    json_kstr(j, "geoip", GEO_NOTE);
}

/* replay_json - the report as one JSON document */
int replay_json(const struct replay *r, FILE *out)
{
    struct json j;
    size_t n;
    const struct replay_who **v = top(r, &n);

    json_init(&j, out);
    json_obj(&j);
    json_head(&j, r);
    json_key(&j, "runs");
    json_arr(&j);
    for (int k = 0; k < r->nruns; k++)
	json_run(&j, &r->run[k]);
    json_arr_end(&j);
    json_key(&j, "top_logins");
    json_arr(&j);
    for (size_t i = 0; v != NULL && i < n && i < r->top; i++)
	json_login(&j, r, v[i]);
    json_arr_end(&j);
    if (r->nruns == REPLAY_RUNS)
	json_compare(&j, r);
    json_obj_end(&j);
    free(v);
    return json_finish(&j) || ferror(out) ? -1 : 0;
}

/* html_text - a string with &, <, >, " escaped (control bytes cleaned) */
static void html_text(FILE *out, const char *s, size_t n)
{
    char clean[REPLAY_LOGIN_KEY * 4];

    text_clean(s, n, clean, sizeof(clean));
    for (const char *p = clean; *p; p++)
	switch (*p) {
	case '&': fputs("&amp;", out); break;
	case '<': fputs("&lt;", out); break;
	case '>': fputs("&gt;", out); break;
	case '"': fputs("&quot;", out); break;
	default: fputc(*p, out);
	}
}

/* html_timeline - one login's last verdicts of run 0 (accepted ones too)
 * as an inline SVG strip over the whole replay */
static void html_timeline(FILE *out, const struct replay *r,
			  const struct replay_who *w)
{
    static const char *const colours[CFG_ACTION_COUNT] = {
	"#9c9", "#fc6", "#f93", "#e55", "#a00",
    };
    const struct replay_who_run *wr = &w->run[0];
    uint32_t span = r->last > r->first ? r->last - r->first : 1;

    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\"><rect width=\"%d\" height=\"%d\" fill=\"#eee\"/>",
	    SVG_W, SVG_H, SVG_W, SVG_H);
    uint64_t from = wr->nmarks > REPLAY_TIMELINE ? wr->nmarks - REPLAY_TIMELINE : 0;

    for (uint64_t i = from; i < wr->nmarks; i++) {
	const struct replay_mark *m = &wr->marks[i % REPLAY_TIMELINE];
	uint32_t dt = m->time > r->first ? m->time - r->first : 0;
	unsigned x = (unsigned) ((uint64_t) dt * (SVG_W - 6) / span);

	fprintf(out, "<rect x=\"%u\" y=\"4\" width=\"5\" height=\"%d\" "
		"fill=\"%s\"><title>", x, SVG_H - 8,
		colours[m->action < CFG_ACTION_COUNT ? m->action : 0]);
	html_text(out, cfg_action_name((enum cfg_action) m->action),
		  strlen(cfg_action_name((enum cfg_action) m->action)));
	fputc(' ', out);
	html_text(out, replay_rule_name(&r->run[0], m->rule),
		  strlen(replay_rule_name(&r->run[0], m->rule)));
	fprintf(out, " %.2s</title></rect>", m->cc);
    }
    fputs("</svg>", out);
}

/* replay_html - a self-contained page: the rules and a timeline per
 * flagged login (inline SVG, no scripts) */
int replay_html(const struct replay *r, FILE *out)
{
    size_t n;
    const struct replay_who **v = top(r, &n);
    char a[TEXT_TIME_MAX], b[TEXT_TIME_MAX], cc[REPLAY_LOGIN_CCS * 3 + 1];
    const struct replay_run *run = &r->run[0];

    text_time(r->first, a, sizeof(a));
    text_time(r->last, b, sizeof(b));
    fprintf(out, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<title>relayguard replay</title><style>body{font-family:sans-serif}"
	    "td,th{padding:2px 8px;text-align:right}td:first-child{text-align:left}"
	    "</style></head><body>\n<h1>relayguard replay</h1>\n<p>");
    html_text(out, run->file, strlen(run->file));
    fprintf(out, ": %llu submissions from %s to %s, %llu lines (%llu not "
	    "understood). " GEO_NOTE ".</p>\n<table><tr><th>rule</th><th>tagged"
	    "</th><th>held</th><th>tempfailed</th><th>rejected</th><th>logins"
	    "</th><th>clients</th></tr>\n", (unsigned long long) r->counted, a,
	    b, (unsigned long long) r->lines, (unsigned long long) r->bad);
    for (size_t i = 0; i < run->cfg->policy.nrules && i < REPLAY_RULES; i++) {
	const struct replay_rule *rr = &run->rules[i];

	fputs("<tr><td>", out);
	html_text(out, run->cfg->policy.rules[i].name,
		  strlen(run->cfg->policy.rules[i].name));
	fprintf(out, "</td><td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td>"
		"<td>%llu</td><td>%llu</td></tr>\n",
		(unsigned long long) rr->by_action[CFG_ACTION_TAG],
		(unsigned long long) rr->by_action[CFG_ACTION_QUARANTINE],
		(unsigned long long) rr->by_action[CFG_ACTION_TEMPFAIL],
		(unsigned long long) rr->by_action[CFG_ACTION_REJECT],
		(unsigned long long) rr->logins, (unsigned long long) rr->clients);
    }
    fputs("</table>\n<h2>Flagged logins</h2>\n", out);
    for (size_t i = 0; v != NULL && i < n && i < r->top; i++) {
	countries(v[i], cc, sizeof(cc));
	fputs("<h3>", out);
	html_text(out, v[i]->key, strnlen(v[i]->key, sizeof(v[i]->key)));
	fprintf(out, "</h3><p>%llu messages, %u addresses, countries %s; first"
		" stopped by ", (unsigned long long) v[i]->msgs, who_ips(v[i]), cc);
	html_text(out, replay_rule_name(run, v[i]->run[0].stop_rule),
		  strlen(replay_rule_name(run, v[i]->run[0].stop_rule)));
	text_time(v[i]->run[0].stop_time, a, sizeof(a));
	fprintf(out, " at %s</p>\n", a);
	html_timeline(out, r, v[i]);
	fputs("\n", out);
    }
    fputs("</body></html>\n", out);
    free(v);
    return ferror(out) ? -1 : 0;
}
