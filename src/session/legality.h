/* SPDX-License-Identifier: Apache-2.0 */
/*
 * legality.h - what a receiver does with a message in a state
 * (session.md §4.2 legality matrix, §4.3 direction, §3.3 step 2 and §3.8
 * step 1 for the handshake phase).
 */
#ifndef NNRP_SESSION_LEGALITY_H
#define NNRP_SESSION_LEGALITY_H

#include <stdint.h>

typedef enum nnrp_legal {
  NNRP_L_OK = 0,      /* process */
  NNRP_L_ERR = 1,     /* ERROR INVALID_STATE (SESSION, not fatal), drop */
  NNRP_L_FATAL = 2,   /* ERROR INVALID_STATE (CONNECTION, fatal), close */
  NNRP_L_IGNORE = 3,  /* drop silently */
  NNRP_L_DRAINING = 4 /* FRAME_SUBMIT while draining: INVALID_STATE, FRAME */
} nnrp_legal;

/* is_server: receiver role; state: nnrp_session_state; msg_type known. */
nnrp_legal nnrp__legality(int is_server, int state, uint8_t msg_type);

#endif /* NNRP_SESSION_LEGALITY_H */
