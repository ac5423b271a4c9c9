/*
 * fuzz_maillog - maillog_parse and the submission join (ctl/maillog.c,
 * ctl/subm.c) on arbitrary bytes: mail log lines carry logins, senders,
 * HELO names and host names that whoever connects chooses.
 *
 * The input is cut into lines; each is parsed with an exact-size copy
 * (ASan sees a read past len) and fed to one join. Properties: a bad
 * line yields no record kind; every string of a record and of a
 * submission ends inside its buffer; a submission has a client-side
 * address from a line, at least one recipient, and a live action in
 * range; the join never holds more than it was sized for.
 * Built with the extra sources in fuzz_maillog.srcs.
 */
#include "fuzz_common.h"
#include "maillog.h"
#include "subm.h"

#define FUZZ_PENDING 16		/* a small join: evictions are reached */

/* str_ok - a NUL inside the buffer */
#define STR_OK(a, what) FUZZ_CHECK(memchr((a), 0, sizeof(a)) != NULL, what)

/* on_subm - check one submission */
static int on_subm(const struct subm *s, void *arg)
{
    (void) arg;
    STR_OK(s->qid, "queue id bounded");
    STR_OK(s->login, "login bounded");
    STR_OK(s->sender, "sender bounded");
    FUZZ_CHECK(s->rcpts >= 1, "at least one recipient");
    FUZZ_CHECK(s->live <= MAILLOG_LIVE_DISCARD, "live action in range");
    return 0;
}

/* LLVMFuzzerTestOneInput - the input as a log, line by line */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct maillog_clock ck;
    struct maillog_rec r;
    SUBM *j = subm_new(on_subm, NULL, FUZZ_PENDING);
    size_t at = 0;

    FUZZ_CHECK(j != NULL, "join allocated");
    maillog_clock_init(&ck, 1767312000u);
    while (at < size) {
	const uint8_t *nl = memchr(data + at, '\n', size - at);
	size_t len = nl ? (size_t) (nl - (data + at)) : size - at;
	char *line = malloc(len ? len : 1);	/* exact size */

	FUZZ_CHECK(line != NULL, "line allocated");
	memcpy(line, data + at, len);
	if (maillog_parse(line, len, &ck, &r) != MAILLOG_OK) {
	    FUZZ_CHECK(r.kind == MAILLOG_NONE, "a bad line has no kind");
	} else {
	    STR_OK(r.host, "host bounded");
	    STR_OK(r.qid, "record queue id bounded");
	    STR_OK(r.login, "record login bounded");
	    STR_OK(r.sender, "record sender bounded");
	    subm_add(j, &r);
	}
	FUZZ_CHECK(subm_pending(j) <= FUZZ_PENDING, "join bounded");
	free(line);
	at += len + 1;
    }
    subm_flush(j);
    subm_free(j);
    return 0;
}
