/*
 * check_main - the main() body every Check suite shares.
 *
 * check_run() runs one suite the way STYLE.md asks (fork mode on, so a
 * crashing test fails alone), frees the runner and returns the program's
 * exit status. A suite whose main() prepares fixtures first (generated
 * databases, a private directory) does that work itself around the call.
 */
#ifndef CHECK_MAIN_H
#define CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

/* check_run - run suite s forked; EXIT_SUCCESS if no test failed */
static inline int check_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* CHECK_MAIN_H */
