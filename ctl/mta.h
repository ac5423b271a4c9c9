/*
 * mta - the MTA's queue as relayguardctl sees it: Postfix (hold queue,
 * postqueue/postcat/postsuper) and Sendmail (quarantine, mailq/sendmail),
 * behind one table of operations.
 */
#ifndef RG_CTL_MTA_H
#define RG_CTL_MTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "proc.h"

#define MTA_QID_MAX 32		/* queue ids: [0-9A-Za-z]{1,31} */
#define MTA_QUEUE_MAX 16	/* "hold", "deferred", ... */
#define MTA_FIELD_MAX 256	/* a header field value we keep */
#define MTA_TIMEOUT_MS 30000	/* per tool run */
#define MTA_LIST_OUT_MAX (64u << 20)	/* postqueue -j, mailq */
#define MTA_MSG_OUT_MAX (4u << 20)	/* one message shown */
#define MTA_HEADER_NAME "X-Relayguard"
#define MTA_HOLD "hold"		/* our name for held / quarantined */
#define MTA_ARGV_MAX 10		/* room for any mta_argv() vector */

enum mta_status {
    MTA_OK = 0,
    MTA_ETOOL,			/* the tool failed, timed out, or is missing */
    MTA_EPARSE,			/* its output made no sense */
    MTA_ENOTSUP,		/* this MTA cannot do that */
    MTA_ENOMEM,
};

/* What the milter's X-Relayguard header (or Sendmail's quarantine
 * reason) says; untrusted text, cleaned before it is printed. */
struct mta_rg {
    int count;			/* headers found; more than one is suspect */
    char action[MTA_FIELD_MAX];
    char rule[MTA_FIELD_MAX];
    char user[MTA_FIELD_MAX];
    char client[MTA_FIELD_MAX];
    char country[MTA_FIELD_MAX];
    char reason[MTA_FIELD_MAX];
};

/* One queued message. Strings are NUL-terminated, untrusted. */
struct mta_msg {
    char id[MTA_QID_MAX];
    char queue[MTA_QUEUE_MAX];	/* MTA_HOLD for held ones */
    int64_t arrival;
    uint64_t size;
    char sender[MTA_FIELD_MAX];
    char rcpt[MTA_FIELD_MAX];	/* the first recipient */
    uint32_t nrcpt;
    char login[MTA_FIELD_MAX];	/* the MTA's own record of the SASL login */
    char client[MTA_FIELD_MAX];	/* ... and of the client address */
    bool detailed;		/* login, client, rg filled in */
    struct mta_rg rg;
};

struct mta_list {
    struct mta_msg *v;
    size_t n, cap;
};

enum mta_which { MTA_HELD, MTA_ALL };

struct mta_ops {
    const char *name;
    int (*list)(const struct ctl *c, enum mta_which w, struct mta_list *l,
		char *err, size_t errlen);
    int (*details)(const struct ctl *c, struct mta_msg *m, char *err,
		   size_t errlen);
    int (*show)(const struct ctl *c, const char *id, struct proc_result *r,
		char *err, size_t errlen);
    int (*release)(const struct ctl *c, const char *id, int *done,
		   char *err, size_t errlen);
    int (*remove)(const struct ctl *c, const char *id, int *done, char *err,
		  size_t errlen);
    int (*hold)(const struct ctl *c, const char *id, int *done, char *err,
		size_t errlen);
};

extern const struct mta_ops mta_postfix_ops;
extern const struct mta_ops mta_sendmail_ops;

/* mta.c: shared pieces */
bool mta_qid_valid(const char *id);
void mta_rg_parse(const char *value, struct mta_rg *out);
struct mta_msg *mta_list_add(struct mta_list *l);
void mta_list_free(struct mta_list *l);
const struct mta_msg *mta_list_find(const struct mta_list *l, const char *id);
int mta_run(const char *const *argv, size_t max_out, struct proc_result *r,
	    char *err, size_t errlen);
/* Where the tools are (absolute paths; tests point them elsewhere). */
#define MTA_TOOLS_MAX 3		/* Postfix tools found in command_directory */
extern const char *mta_postconf_path;
extern const char *mta_sendmail_path;
extern const char *mta_mailq_path;
const char *mta_tool(const struct ctl *c, const char *tool);
const char **mta_argv(const struct ctl *c, const char **av,
		      const char *conf_opt, const char *tool, const char *a1,
		      const char *a2, const char *a3);
void mta_copy(char *dst, size_t size, const char *src, size_t len);

/* mta_postfix.c: parsers, exposed for the tests */
int mta_postfix_parse_queue(const char *text, size_t len, enum mta_which w,
			    struct mta_list *l, char *err, size_t errlen);
void mta_postfix_parse_details(const char *text, size_t len,
			       struct mta_msg *m);
int mta_postfix_count(const char *text, const char *phrase);

/* mta_sendmail.c: the mailq parser, exposed for the tests */
int mta_sendmail_parse_queue(const char *text, size_t len, const char *queue,
			     struct mta_list *l);

/* mta_smqueue.c: Sendmail's queue files read directly */
#define MTA_SM_CF_DEFAULT "/etc/mail/sendmail.cf"
#define MTA_SM_QUEUE_DEFAULT "/var/spool/mqueue"
void mta_sendmail_queue_dir(const char *cf, size_t len, char *out,
			    size_t outlen);
void mta_sendmail_parse_qf(const char *text, size_t len, struct mta_msg *m);
int mta_sendmail_read_qf(const char *cf_path, struct mta_msg *m, char *err,
			 size_t errlen);

#endif
