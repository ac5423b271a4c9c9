/*
 * event_test - the event key the event suites share (check_event.c,
 * check_event_send.c): records are sealed and opened under it.
 */
#ifndef EVENT_TEST_H
#define EVENT_TEST_H

#include "event.h"

static const struct event_key key = {
    .k = "check-event-key-0123456789abcdef", .len = 32,
};

#endif /* EVENT_TEST_H */
