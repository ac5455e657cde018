/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client_int.h - the client session object shared by client.c (creation,
 * connect, events) and client_ops.c (the calls that submit and wait).
 */
#ifndef NNRP_CLIENT_INT_H
#define NNRP_CLIENT_INT_H

#include "runtime/router.h"
#include "runtime/runtime_int.h"

/* connect_status while the connect or handshake is under way. */
#define NNRP__PENDING 1

struct nnrp_client_session {
  nnrp__conn conn; /* first */
  nnrp__link node; /* rt->clients */
  nnrp__router router;
  nnrp_client_config cfg; /* cfg.host points to host */
  char *host;
  nnrp__dial *dial;   /* non-NULL while dialing */
  int connect_status; /* NNRP__PENDING, 0, or the failure */
  uint8_t deleted;
  uint8_t closed;     /* NNRP_EV_CLOSED seen (or the dial failed) */
  uint8_t peer_error; /* err_rec holds a non-fatal peer ERROR */
  uint8_t ping_wait;
  int latched_err; /* close reason (0: clean) */
  nnrp_error_record err_rec;
  char err_diag[NNRP__DIAG_MAX];
  uint64_t ping_trace, pong_at;
  size_t model_len;
  uint8_t model_name[255];
};

/* Records the outcome of the connect (once) and reports on_connected. */
void nnrp__client_connected(nnrp_client_session *cs, int status);

#endif /* NNRP_CLIENT_INT_H */
