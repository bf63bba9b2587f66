/*
 * SPDX-License-Identifier: MIT
 *
 * Probes of the "python" provider. The call sites are in the pyust module,
 * built once per CPython version; the probes live here so that one preload
 * serves them all.
 */

#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#include "tp-python.h"
