/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nnrp.h - umbrella header of libnnrp, the C implementation of NNRP/1 (the
 * Neural Network Runtime Protocol, seed line).
 *
 * Layers (dependencies point one way):
 *   nnrp_wire.h    codecs and strict validation; no allocation, no I/O
 *   nnrp_session.h sans-I/O client and server sessions
 *   nnrp_runtime.h libuv runtime, TCP transport, client and server API
 *   nnrp_error.h   library errors and the wire ERROR model
 *   nnrp_version.h version queries
 */
#ifndef NNRP_H
#define NNRP_H

#include "nnrp_error.h"
#include "nnrp_runtime.h"
#include "nnrp_session.h"
#include "nnrp_version.h"
#include "nnrp_wire.h"

#endif /* NNRP_H */
