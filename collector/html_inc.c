/*
 * html_inc - the event side of the HTML report (see html.h): the
 * incidents (newest first, their evidence as small tables) and a
 * timeline per login named by an incident: each event with its client,
 * country, AS number, verdict, rule, queue id and the flow flags of that
 * client. A database without the event tables (a collector that never
 * received events) gives a line saying so. Every string from the
 * database goes through html_esc.
 */
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "html.h"
#include "incident.h"
#include "output.h"

#define INCIDENTS_SHOWN 50
#define LOGINS_SHOWN 20
#define EVENTS_PER_LOGIN 50

#define ARR(c) "coalesce(nullif(" c ", ''), '[]')"
#define JOINED(c) ", (SELECT group_concat(value, ', ') FROM json_each(" ARR(c) "))"

/* esc_td - one table cell of text */
static void esc_td(FILE *fp, const char *s)
{
    fputs("<td class=\"l\">", fp);
    html_esc(fp, s);
    fputs("</td>", fp);
}

/* evidence - an incident's lists as a two-column table */
static void evidence(FILE *fp, sqlite3_stmt *st, int from)
{
    static const char *const label[] = {"logins", "hosts", "countries", "AS numbers",
	"flow flags", "rules", "queue ids"};
    char cmd[INC_CONTAIN_MAX];
    int i;

    fputs("<table class=\"ev\">", fp);
    for (i = 0; i < (int) (sizeof(label) / sizeof(label[0])); i++)
	if (*hist_col_text(st, from + i)) {
	    fprintf(fp, "<tr><th class=\"l\">%s</th>", label[i]);
	    esc_td(fp, hist_col_text(st, from + i));
	    fputs("</tr>", fp);
	}
    if (inc_contain(hist_col_text(st, 1), hist_col_text(st, 2), cmd, sizeof(cmd))) {
	fputs("<tr><th class=\"l\">hold what was accepted</th><td class=\"l\"><code>", fp);
	html_esc(fp, cmd);
	fputs("</code></td></tr>", fp);
    }
    fputs("</table>", fp);
}

/* incidents - the incident table; -1 when the database has none */
static int incidents(FILE *fp, sqlite3 *db)
{
    sqlite3_stmt *st;
    char t1[32], t2[32];
    int n = 0;

    if (sqlite3_prepare_v2(db, "SELECT id, kind, subject, first_ms, last_ms, closed_ms, events"
			   JOINED("logins") JOINED("hosts") JOINED("countries") JOINED("asns")
			   JOINED("flags") JOINED("rules") JOINED("qids") " FROM incident"
			   " ORDER BY closed_ms != 0, last_ms DESC LIMIT ?1", -1, &st, NULL)
	!= SQLITE_OK)
	return -1;
    sqlite3_bind_int(st, 1, INCIDENTS_SHOWN);
    fputs("<h2 id=\"incidents\">Incidents</h2><table id=\"incident-list\"><tr>"
	  "<th class=\"l\">id</th><th class=\"l\">kind</th><th class=\"l\">subject</th>"
	  "<th class=\"l\">state</th><th class=\"l\">first seen</th><th class=\"l\">last seen"
	  "</th><th>events</th><th class=\"l\">evidence</th></tr>", fp);
    while (sqlite3_step(st) == SQLITE_ROW) {
	fprintf(fp, "<tr class=\"%s\">", sqlite3_column_int64(st, 5) ? "closed" : "open");
	esc_td(fp, hist_col_text(st, 0));
	esc_td(fp, hist_col_text(st, 1));
	esc_td(fp, hist_col_text(st, 2));
	fprintf(fp, "<td class=\"l\">%s</td><td class=\"l\">%s</td><td class=\"l\">%s</td>"
		"<td>%lld</td><td class=\"l\">", sqlite3_column_int64(st, 5) ? "closed" : "open",
		out_time(sqlite3_column_int64(st, 3), t1, sizeof(t1)),
		out_time(sqlite3_column_int64(st, 4), t2, sizeof(t2)),
		(long long) sqlite3_column_int64(st, 6));
	evidence(fp, st, 7);
	fputs("</td></tr>", fp);
	n++;
    }
    sqlite3_finalize(st);
    fputs("</table>", fp);
    if (n == 0)
	fputs("<p>No incidents.</p>", fp);
    return 0;
}

/* timeline_row - one event of a login */
static void timeline_row(FILE *fp, sqlite3_stmt *st)
{
    char t[32];
    const char *action = hist_col_text(st, 5);

    fprintf(fp, "<tr class=\"v-%s\"><td class=\"l\">%s</td>",
	    strcmp(action, "accept") == 0 ? "ok" : "bad",
	    out_time(sqlite3_column_int64(st, 1), t, sizeof(t)));
    esc_td(fp, hist_col_text(st, 2));
    esc_td(fp, hist_col_text(st, 3));
    if (sqlite3_column_int64(st, 4))
	fprintf(fp, "<td>%lld</td>", (long long) sqlite3_column_int64(st, 4));
    else
	fputs("<td></td>", fp);
    esc_td(fp, action);
    esc_td(fp, hist_col_text(st, 6));
    esc_td(fp, hist_col_text(st, 7));
    esc_td(fp, hist_col_text(st, 8));
    fputs("</tr>", fp);
}

/* timelines - the events of each login an incident names */
static void timelines(FILE *fp, sqlite3 *db)
{
    sqlite3_stmt *st;
    char login[512] = "";
    bool open = false;

    if (sqlite3_prepare_v2(db, "WITH l AS (SELECT j.value AS login, max(i.last_ms) AS t FROM"
			   " incident i, json_each(" ARR("i.logins") ") j GROUP BY j.value"
			   " ORDER BY t DESC LIMIT ?1), e AS (SELECT ev.*, row_number() OVER"
			   " (PARTITION BY ev.login ORDER BY ev.time_ms DESC) AS k FROM event ev"
			   " JOIN l ON l.login = ev.login) SELECT e.login, e.time_ms, e.client,"
			   " e.country, e.asn, e.action || CASE WHEN e.flags & 1 THEN ' (dry run)'"
			   " ELSE '' END, e.rule, e.qid, (SELECT group_concat(DISTINCT f.kind) FROM"
			   " flag f WHERE f.host = e.client) FROM e JOIN l ON l.login = e.login"
			   " WHERE e.k <= ?2 ORDER BY l.t DESC, e.login, e.time_ms", -1, &st, NULL)
	!= SQLITE_OK)
	return;
    sqlite3_bind_int(st, 1, LOGINS_SHOWN);
    sqlite3_bind_int(st, 2, EVENTS_PER_LOGIN);
    fputs("<h2 id=\"timelines\">Logins in incidents: timeline</h2>", fp);
    while (sqlite3_step(st) == SQLITE_ROW) {
	if (!open || strcmp(login, hist_col_text(st, 0)) != 0) {
	    snprintf(login, sizeof(login), "%s", hist_col_text(st, 0));
	    fputs(open ? "</table>" : "", fp);
	    fputs("<h3 class=\"login\">", fp);
	    html_esc(fp, login);
	    fputs("</h3><table class=\"timeline\"><tr><th class=\"l\">time</th><th class=\"l\">"
		  "client</th><th class=\"l\">country</th><th>AS</th><th class=\"l\">verdict"
		  "</th><th class=\"l\">rule</th><th class=\"l\">queue id</th><th class=\"l\">"
		  "flows flag the client as</th></tr>", fp);
	    open = true;
	}
	timeline_row(fp, st);
    }
    fputs(open ? "</table>" : "<p>No events of logins in incidents.</p>", fp);
    sqlite3_finalize(st);
}

/* html_incidents - both sections, or why there are none */
void html_incidents(FILE *fp, struct hist *h)
{
    sqlite3 *db = h ? hist_sqlite(h) : NULL;

    if (db == NULL || incidents(fp, db) != 0) {
	fputs("<h2 id=\"incidents\">Incidents</h2><p>No incidents: this collector has not"
	      " received events from the milter.</p>", fp);
	return;
    }
    timelines(fp, db);
}
