/*
 * store_lock - the stripe locks: robust process-shared mutexes that live
 * in the file, so anything that can write the file can break them. They
 * are never trusted.
 *
 * Contract: store_lock takes a stripe lock within the handle's time
 * budget or says why not; it never aborts on a damaged lock. Nothing here
 * logs; repairs are counted in the header's stripe_resets.
 *
 * Who else is there: every handle holds a shared open-file-description
 * lock (F_OFD_SETLK, a kernel object the file's bytes cannot forge) on
 * byte STORE_LK_ATTACHED of the file for as long as it is attached. An
 * attacher that finds no other holder (store_lk_others) is alone: no lock
 * word can be held by anyone, so every mutex is made new and every stripe
 * checked (store_locks_renew). A damaged file therefore never survives a
 * restart. With others attached, a mutex can be held right now by a live
 * thread, so only what never changes in a healthy mutex is compared with
 * what pthread_mutex_init writes here (glibc: the type word __kind and
 * the __spins/__elision word after it); a lock that fails the comparison
 * is unusable to everyone and is repaired.
 *
 * Repair (lock_repair): under an exclusive OFD lock on the stripe's own
 * byte (so two processes never re-make the same mutex at once), the
 * fault is looked at again, the mutex is initialised afresh and taken,
 * the stripe checked and rebuilt if its lists are broken, and the repair
 * counted. Besides a bad type word, a repair follows ENOTRECOVERABLE or
 * EINVAL from glibc, and a wait that timed out on a lock word naming a
 * thread that does not exist (and was not marked dead by the kernel: its
 * robust list was lost or the word is noise). That last test reads the
 * tid from the word and asks kill(tid, 0); it assumes the processes that
 * share the file see one pid namespace, as they do on one host.
 *
 * Reading a garbage type word is what made glibc assert ("robust"),
 * return EINVAL, or run a transactional-memory instruction (SIGILL), so
 * the type word is compared before every lock: one load from a line the
 * lock brings in anyway. A writer racing that comparison could still
 * hurt one call; nothing protects a mapping from a writer that fast.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/futex.h>

#include "store_int.h"

#define NSEC_PER_SEC 1000000000L
#define NSEC_PER_MSEC 1000000L

enum lk_fault { LK_FAULT_TYPE, LK_FAULT_STUCK, LK_FAULT_STATE };

/* store_mutex_init - make a robust process-shared mutex on m */
int store_mutex_init(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    int rc = -1;

    if (pthread_mutexattr_init(&a) != 0)
	return -1;
    if (pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) == 0
	&& pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) == 0) {
	memset(m, 0, sizeof(*m));
	rc = pthread_mutex_init(m, &a) == 0 ? 0 : -1;
    }
    pthread_mutexattr_destroy(&a);
    return rc;
}

#ifdef __GLIBC__
#define LK_TYPE_OFF offsetof(pthread_mutex_t, __data.__kind)
#define LK_WORD_OFF offsetof(pthread_mutex_t, __data.__lock)

/* store_lock_reference - the type words pthread_mutex_init writes here */
uint64_t store_lock_reference(void)
{
    pthread_mutex_t m;
    uint64_t ref = 0;

    if (store_mutex_init(&m) == 0)
	memcpy(&ref, (const char *) &m + LK_TYPE_OFF, sizeof(ref));
    return ref;
}

/* type_ok - are the mutex's constant words what init writes? */
static int type_ok(const STORE *st, const pthread_mutex_t *m)
{
    uint64_t w;

    memcpy(&w, (const char *) m + LK_TYPE_OFF, sizeof(w));
    return w == st->lock_ref;
}

/* lock_word - the futex word: owner tid and the waiters/died bits */
static uint32_t lock_word(const pthread_mutex_t *m)
{
    return __atomic_load_n((const uint32_t *) (const void *)
			   ((const char *) m + LK_WORD_OFF), __ATOMIC_RELAXED);
}
#else
/* store_lock_reference - no known layout: nothing to compare with */
uint64_t store_lock_reference(void)
{
    return 0;
}

/* type_ok - no known layout: every type word passes */
static int type_ok(const STORE *st, const pthread_mutex_t *m)
{
    (void) st, (void) m;
    return 1;
}

/* lock_word - no known layout: never "held by a thread that is gone" */
static uint32_t lock_word(const pthread_mutex_t *m)
{
    (void) m;
    return 0;
}
#endif

/* owner_gone - does word name a thread that does not exist? */
static int owner_gone(uint32_t word)
{
    pid_t tid = (pid_t) (word & FUTEX_TID_MASK);

    if (tid == 0 || (word & FUTEX_OWNER_DIED))
	return 0;		/* free, or the kernel marked it dead */
    return kill(tid, 0) != 0 && errno == ESRCH;
}

/* one_byte - a lock of one byte of the file, of the given type */
static void one_byte(struct flock *fl, short type, off_t byte)
{
    memset(fl, 0, sizeof(*fl));
    fl->l_type = type;
    fl->l_whence = SEEK_SET;
    fl->l_start = byte;
    fl->l_len = 1;
}

/* ofd_lock - an open-file-description lock on one byte; 0 or -1 */
static int ofd_lock(int fd, short type, off_t byte, int cmd)
{
    struct flock fl;

    one_byte(&fl, type, byte);
    return fcntl(fd, cmd, &fl);
}

/* store_lk_attach - hold the shared "attached" lock for fd's lifetime */
int store_lk_attach(int fd)
{
    return ofd_lock(fd, F_RDLCK, STORE_LK_ATTACHED, F_OFD_SETLK);
}

/* store_lk_detach - give the "attached" lock of fd up (for a moment) */
void store_lk_detach(int fd)
{
    ofd_lock(fd, F_UNLCK, STORE_LK_ATTACHED, F_OFD_SETLK);
}

/* store_lk_others - does another open file hold the "attached" lock?
 * 1 yes, 0 no; -1 (cannot tell) counts as yes for the caller */
int store_lk_others(int fd)
{
    struct flock fl;

    one_byte(&fl, F_WRLCK, STORE_LK_ATTACHED);
    if (fcntl(fd, F_OFD_GETLK, &fl) != 0)
	return -1;
    return fl.l_type != F_UNLCK;
}

/* renew_tab - fresh locks and checked stripes for one table */
static int renew_tab(STORE *st, struct store_tab *t)
{
    for (unsigned s = 0; s < STORE_STRIPES; s++) {
	if (store_mutex_init(&t->stripes[s].mu) != 0)
	    return -1;
	if (store_stripe_check(st, t, s) != 0)
	    store_stripe_repair(st, t, s);
    }
    return 0;
}

/* store_locks_renew - nobody else attached: every lock made new, every
 * stripe checked (and rebuilt from its slots if broken) */
int store_locks_renew(STORE *st)
{
    if (renew_tab(st, &st->users) != 0 || renew_tab(st, &st->clients) != 0)
	return -1;
    return 0;
}

/* store_locks_validate - others attached: repair the locks whose type
 * words are wrong, leave the rest (they may be held) */
void store_locks_validate(STORE *st)
{
    struct store_tab *tabs[] = { &st->users, &st->clients };

    for (unsigned k = 0; k < 2; k++)
	for (unsigned s = 0; s < STORE_STRIPES; s++)
	    if (!type_ok(st, &tabs[k]->stripes[s].mu)
		&& store_lock(st, tabs[k], s) == STORE_OK)
		store_unlock(tabs[k], s);
}

/* lock_recover - the previous owner died: check, maybe rebuild, go on */
static void lock_recover(STORE *st, struct store_tab *t, unsigned s)
{
    if (store_stripe_check(st, t, s) != 0)
	store_stripe_repair(st, t, s);
    pthread_mutex_consistent(&t->stripes[s].mu);
    store_stat_add(&st->hdr->owner_dead, 1);
}

/* still_faulty - is the fault that sent us to repair still there? 1 if
 * so, 0 if not; for a lock glibc refused, the test is a trylock, and
 * -2 says it succeeded (the caller holds the lock now) */
static int still_faulty(const STORE *st, pthread_mutex_t *m,
			enum lk_fault f, uint32_t word)
{
    int rc;

    switch (f) {
    case LK_FAULT_TYPE:
	return !type_ok(st, m);
    case LK_FAULT_STUCK:
	return lock_word(m) == word;
    default:
	rc = pthread_mutex_trylock(m);
	return rc == 0 ? -2 : rc == ENOTRECOVERABLE || rc == EINVAL;
    }
}

/* lock_repair - re-make an unusable stripe lock and take it; see top */
static int lock_repair(STORE *st, struct store_tab *t, unsigned s,
		       enum lk_fault f, uint32_t word)
{
    pthread_mutex_t *m = &t->stripes[s].mu;
    off_t byte = STORE_LK_REPAIR + (t->is_user ? 0 : STORE_STRIPES) + s;
    int faulty;

    if (st->fd < 0 || ofd_lock(st->fd, F_WRLCK, byte, F_OFD_SETLK) != 0)
	return STORE_TIMEOUT;	/* another process is repairing it */
    faulty = still_faulty(st, m, f, word);
    if (faulty == 1 && store_mutex_init(m) != 0)
	faulty = -1;
    ofd_lock(st->fd, F_UNLCK, byte, F_OFD_SETLK);
    if (faulty == -2) {
	store_seq_begin(&t->stripes[s]);
	return STORE_OK;	/* mended by another meanwhile; ours now */
    }
    if (faulty < 0)
	return STORE_EFORMAT;
    if (pthread_mutex_trylock(m) != 0)
	return STORE_TIMEOUT;	/* taken by another at once: it works */
    store_seq_begin(&t->stripes[s]);
    if (faulty) {
	if (store_stripe_check(st, t, s) != 0)
	    store_stripe_repair(st, t, s);	/* counts the reset */
	else
	    store_stat_add(&st->hdr->stripe_resets, 1);
    }
    return STORE_OK;
}

/* timed_lock - wait for a held lock until the handle's budget is spent */
static int timed_lock(STORE *st, pthread_mutex_t *m)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += st->lock_timeout_ms / 1000;
    ts.tv_nsec += (long) (st->lock_timeout_ms % 1000) * NSEC_PER_MSEC;
    if (ts.tv_nsec >= NSEC_PER_SEC) {
	ts.tv_sec++;
	ts.tv_nsec -= NSEC_PER_SEC;
    }
    return pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &ts);
}

/* store_lock - take a stripe lock within the time budget */
int store_lock(STORE *st, struct store_tab *t, unsigned s)
{
    pthread_mutex_t *m = &t->stripes[s].mu;
    uint32_t word;
    int rc;

    if (!type_ok(st, m))
	return lock_repair(st, t, s, LK_FAULT_TYPE, 0);
    if ((rc = pthread_mutex_trylock(m)) == EBUSY)
	rc = timed_lock(st, m);
    switch (rc) {
    case 0:
	store_seq_begin(&t->stripes[s]);
	return STORE_OK;
    case EOWNERDEAD:
	store_seq_begin(&t->stripes[s]);
	lock_recover(st, t, s);
	return STORE_OK;
    case ETIMEDOUT:
	word = lock_word(m);
	if (owner_gone(word))
	    return lock_repair(st, t, s, LK_FAULT_STUCK, word);
	store_stat_add(&st->hdr->lock_timeouts, 1);
	return STORE_TIMEOUT;
    default:			/* ENOTRECOVERABLE, EINVAL: a damaged lock */
	return lock_repair(st, t, s, LK_FAULT_STATE, 0);
    }
}

/* store_unlock - release a stripe lock */
void store_unlock(struct store_tab *t, unsigned s)
{
    store_seq_end(&t->stripes[s]);
    pthread_mutex_unlock(&t->stripes[s].mu);
}
