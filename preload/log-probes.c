/*
 * SPDX-License-Identifier: MIT
 *
 * Probes of the "lttng_python" provider, in their own library: LTTng-UST's
 * Python agent library registers the same provider, and with both registered
 * every record would be written twice.
 */

#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#include "tp-lttng-python.h"
