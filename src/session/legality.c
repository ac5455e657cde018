/* SPDX-License-Identifier: Apache-2.0 */
/*
 * legality.c - the receiver legality matrix of session.md §4.2 as two
 * tables (server receiver, client receiver), with the handshake-phase rules
 * of §3.3 step 2 (server INIT: only hello, probe, migrate, ping and the
 * always-legal messages; anything else is connection-fatal) and §3.8 step 1
 * (client NEGOTIATING: only the ack, ERROR, PONG, probe ACK; anything else
 * is connection-fatal). Wrong-direction messages (§4.3) are NNRP_L_ERR, or
 * fatal in the handshake phase.
 */
#include <nnrp/nnrp_session.h>

#include "legality.h"

enum { OK = NNRP_L_OK, ER = NNRP_L_ERR, FA = NNRP_L_FATAL,
       IG = NNRP_L_IGNORE, DR = NNRP_L_DRAINING };

typedef struct row {
  uint8_t msg;
  uint8_t in[4]; /* INIT, NEGOTIATING, ACTIVE, DRAINING */
} row;

/* Server as receiver. */
static const row server_rows[] = {
    {NNRP_MSG_CLIENT_HELLO, {OK, FA, FA, FA}},
    {NNRP_MSG_SERVER_HELLO_ACK, {FA, FA, ER, ER}},
    {NNRP_MSG_SESSION_PATCH, {FA, FA, OK, ER}},
    {NNRP_MSG_SESSION_PATCH_ACK, {FA, FA, ER, ER}},
    {NNRP_MSG_CLOSE, {OK, OK, OK, OK}},
    {NNRP_MSG_ERROR, {OK, OK, OK, OK}},
    {NNRP_MSG_FRAME_SUBMIT, {FA, FA, OK, DR}},
    {NNRP_MSG_FRAME_CANCEL, {FA, FA, OK, OK}},
    {NNRP_MSG_RESULT_PUSH, {FA, FA, ER, ER}},
    {NNRP_MSG_RESULT_DROP, {FA, FA, ER, ER}},
    {NNRP_MSG_CACHE_PUT, {FA, FA, OK, ER}},
    {NNRP_MSG_CACHE_ACK, {FA, FA, ER, ER}},
    {NNRP_MSG_CACHE_INVALIDATE, {FA, FA, OK, OK}},
    {NNRP_MSG_FLOW_UPDATE, {FA, FA, OK, OK}},
    {NNRP_MSG_RESULT_HINT, {FA, FA, ER, ER}},
    {NNRP_MSG_TRANSPORT_PROBE, {OK, OK, OK, OK}},
    {NNRP_MSG_TRANSPORT_PROBE_ACK, {OK, OK, OK, OK}},
    {NNRP_MSG_SESSION_MIGRATE, {OK, FA, OK, ER}},
    {NNRP_MSG_SESSION_MIGRATE_ACK, {FA, FA, ER, ER}},
    {NNRP_MSG_PING, {OK, OK, OK, OK}},
    {NNRP_MSG_PONG, {OK, OK, OK, OK}},
};

/* Client as receiver. */
static const row client_rows[] = {
    {NNRP_MSG_CLIENT_HELLO, {ER, FA, ER, ER}},
    {NNRP_MSG_SERVER_HELLO_ACK, {FA, OK, FA, IG}},
    {NNRP_MSG_SESSION_PATCH, {ER, FA, ER, ER}},
    {NNRP_MSG_SESSION_PATCH_ACK, {ER, FA, OK, OK}},
    {NNRP_MSG_CLOSE, {OK, OK, OK, OK}},
    {NNRP_MSG_ERROR, {OK, OK, OK, OK}},
    {NNRP_MSG_FRAME_SUBMIT, {ER, FA, ER, ER}},
    {NNRP_MSG_FRAME_CANCEL, {ER, FA, ER, ER}},
    {NNRP_MSG_RESULT_PUSH, {ER, FA, OK, OK}},
    {NNRP_MSG_RESULT_DROP, {ER, FA, OK, OK}},
    {NNRP_MSG_CACHE_PUT, {ER, FA, ER, ER}},
    {NNRP_MSG_CACHE_ACK, {ER, FA, OK, OK}},
    {NNRP_MSG_CACHE_INVALIDATE, {ER, FA, OK, OK}},
    {NNRP_MSG_FLOW_UPDATE, {ER, FA, OK, OK}},
    {NNRP_MSG_RESULT_HINT, {ER, FA, OK, OK}},
    {NNRP_MSG_TRANSPORT_PROBE, {OK, OK, OK, OK}},
    {NNRP_MSG_TRANSPORT_PROBE_ACK, {OK, OK, OK, OK}},
    {NNRP_MSG_SESSION_MIGRATE, {ER, FA, ER, ER}},
    /* Migration is not implemented on this revision of the library: an
     * ACK is never awaited, so it is unsolicited everywhere (ignored). */
    {NNRP_MSG_SESSION_MIGRATE_ACK, {IG, FA, IG, ER}},
    {NNRP_MSG_PING, {OK, OK, OK, OK}},
    {NNRP_MSG_PONG, {OK, OK, OK, OK}},
};

static nnrp_legal lookup(const row *rows, size_t n, int state, uint8_t msg) {
  for (size_t i = 0; i < n; i++)
    if (rows[i].msg == msg)
      return (nnrp_legal)rows[i].in[state];
  return NNRP_L_FATAL; /* unknown types never get here (header check) */
}

nnrp_legal nnrp__legality(int is_server, int state, uint8_t msg_type) {
  if (state < NNRP_STATE_INIT || state > NNRP_STATE_DRAINING)
    return NNRP_L_IGNORE; /* CLOSED: nothing is processed */
  if (is_server)
    return lookup(server_rows, sizeof(server_rows) / sizeof(server_rows[0]),
                  state, msg_type);
  return lookup(client_rows, sizeof(client_rows) / sizeof(client_rows[0]),
                state, msg_type);
}
