/*
 * relayguardctl - the admin command: live state, blocks, statistics and
 * quarantine review. Everything but the process boundary is in ctl.c and
 * the command modules, so the unit tests drive the same code.
 */
#include <stdio.h>
#include <time.h>

#include "ctl.h"

/* main - run one command line against the real clock */
int main(int argc, char **argv)
{
    return ctl_main(argc, argv, stdout, stderr, (uint32_t) time(NULL));
}
