/*
 * filter - the libmilter callbacks of relayguard-milter.
 */
#ifndef RG_MILTER_FILTER_H
#define RG_MILTER_FILTER_H

int filter_register(void);
int filter_active(void);
void filter_drain_begin(void);
int filter_active_early(void);

#endif
