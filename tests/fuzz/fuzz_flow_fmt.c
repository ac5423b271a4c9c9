/*
 * fuzz_flow_fmt - the collector's fmt flow text parser (see fuzz_flow.h).
 */
#include "fuzz_flow.h"

/* LLVMFuzzerTestOneInput - the input as fmt text, line by line */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_flow_lines(data, size, FLOW_FMT_NFDUMP);
}
