/*
 * SPDX-License-Identifier: MIT
 *
 * Tracepoint definitions of the module. The probes are in libpyust.so, which
 * the module links, and in libpyust-log.so, loaded at run time: the
 * definitions are dynamically linked to them.
 */

#define LTTNG_UST_TRACEPOINT_DEFINE
#include "tp-python.h"
#include "tp-lttng-python.h"
