/* burn_accept.c - a bench-only LD_PRELOAD shim (never shipped): after
 * each accept() the accepting thread spends a set amount of CPU time,
 * so bench_milter_pair.sh can give one milter instance a known extra
 * cost per connection and check that the paired measurement finds it.
 * RG_BURN_FILE names a file whose first bytes hold the nanoseconds to
 * spend (ASCII, rewritten in place by the bench between blocks, never
 * truncated); it is mapped once, at load, so reading it costs no
 * system call. Without the variable or the file the shim does nothing. */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BURN_MAP 64

static const char *burn_map;
static int (*burn_real_accept)(int, struct sockaddr *, socklen_t *);

/* burn_ns_now - this thread's CPU time in nanoseconds */
static long long burn_ns_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* burn_init - map the control file named by RG_BURN_FILE */
__attribute__((constructor)) static void burn_init(void)
{
    const char *path = getenv("RG_BURN_FILE");
    void *m;
    int fd;

    burn_real_accept = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
    if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
	return;
    m = mmap(NULL, BURN_MAP, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (m != MAP_FAILED)
	burn_map = m;
}

/* accept - the real accept, then the CPU time the control file asks for */
int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    int r = burn_real_accept(fd, addr, len);
    long long ns, start;

    if (r < 0 || burn_map == NULL || (ns = strtoll(burn_map, NULL, 10)) <= 0)
	return r;
    start = burn_ns_now();
    while (burn_ns_now() - start < ns)
	;
    return r;
}
