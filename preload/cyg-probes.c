/*
 * SPDX-License-Identifier: MIT
 *
 * Probes of the "lttng_ust_cyg_profile_fast" provider, in a library of their
 * own (libpyust-cyg.so): libpyust.so loads it only when
 * liblttng-ust-cyg-profile-fast.so is not in the process already, since two
 * registrations of one provider would record every call twice.
 */

#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TP_IP_PARAM func_addr
#include "tp-cyg-profile-fast.h"
