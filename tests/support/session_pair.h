/* SPDX-License-Identifier: Apache-2.0 */
/*
 * session_pair.h - a client and a server session wired back to back in
 * memory with a fake clock (STYLE "Tests": session tests need no sockets).
 *
 * nnrp_pair_pump() moves bytes both ways until both sides are quiet; every
 * event is handed to the test's callback at once (while its packet views are
 * valid) and recorded in a log for assertions. Every byte each side sends is
 * also appended to a tap, so tests can decode exactly what went on the wire.
 * A side whose output is cut talks to nobody: with nnrp_pair_inject() it is
 * a lone session driven by hand-made packets.
 */
#ifndef NNRP_TEST_SESSION_PAIR_H
#define NNRP_TEST_SESSION_PAIR_H

#include <nnrp/nnrp_session.h>

enum { NNRP_PAIR_CLIENT = 0, NNRP_PAIR_SERVER = 1 };

typedef struct nnrp_pair nnrp_pair;
typedef void (*nnrp_pair_cb)(nnrp_pair *p, int side, const nnrp_event *ev,
                             void *user);

typedef struct nnrp_pair_log {
  int side;
  nnrp_event_type type;
  uint32_t frame_id;
  uint8_t final;
  uint8_t msg_type; /* of ev->packet, 0 if none */
  uint32_t error_code;
  uint32_t error_scope;
  int lib_err;
  uint32_t is_fatal; /* of ev->error, like the three above */
  int local;
  uint64_t received_at;
} nnrp_pair_log;

#define NNRP_PAIR_LOG_MAX 65536

struct nnrp_pair {
  nnrp_session *side[2];
  uint64_t now;
  nnrp_pair_cb cb;
  void *user;
  size_t chunk; /* deliver at most this many bytes per recv (0: all) */
  int cut[2];   /* 1: bytes sent by this side are discarded */
  nnrp_pair_log *log;
  size_t nlog;
  uint8_t *tap[2]; /* every byte each side sent */
  size_t tap_len[2], tap_cap[2];
  /* Per side: the last negative nnrp_session_recv() return of the side
   * receiving (0: none), and the first non-zero return of
   * nnrp_session_output_consumed() for the side's output (0: none). */
  int64_t recv_err[2];
  int consume_err[2];
};

/* Creates both sessions (profiles/settings may be NULL for defaults) at
 * time 1 s. Returns 0 or an NNRP_ERR_*. */
int nnrp_pair_init(nnrp_pair *p, const nnrp_client_profile *cp,
                   const nnrp_server_profile *sp,
                   const nnrp_session_settings *cs,
                   const nnrp_session_settings *ss);
/* The same with an allocator per side (NULL: the default). */
int nnrp_pair_init_mem(nnrp_pair *p, const nnrp_client_profile *cp,
                       const nnrp_server_profile *sp,
                       const nnrp_session_settings *cs,
                       const nnrp_session_settings *ss, const nnrp_mem *cmem,
                       const nnrp_mem *smem);
/* Deletes both sessions (either may be NULL after a failed init). */
void nnrp_pair_free(nnrp_pair *p);

/* Connects and pumps until the handshake is done. Returns 0 when both
 * sides are ACTIVE. */
int nnrp_pair_handshake(nnrp_pair *p);

/* Moves bytes until quiet. Returns the number of bytes moved, or a
 * negative error returned by nnrp_session_recv. */
int64_t nnrp_pair_pump(nnrp_pair *p);

/* Advances the fake clock by ns, runs both sides' expiries, pumps. */
void nnrp_pair_advance(nnrp_pair *p, uint64_t ns);

/* Injects raw bytes into one side as if its peer had sent them. */
int64_t nnrp_pair_inject(nnrp_pair *p, int to_side, const uint8_t *bytes,
                         size_t len);

/* Number of logged events of a type on a side (frame_id 0: any frame). */
size_t nnrp_pair_count(const nnrp_pair *p, int side, nnrp_event_type type,
                       uint32_t frame_id);

/* Number of logged events of a side, of any type. */
size_t nnrp_pair_events(const nnrp_pair *p, int side);

/* The n-th (0-based) logged event of a side, NULL if there are fewer. */
const nnrp_pair_log *nnrp_pair_event(const nnrp_pair *p, int side, size_t n);

/* The n-th (0-based) packet of msg_type sent by `from_side`, decoded into
 * *out (views into the tap; valid until the next pump). Returns 1 if
 * found. */
int nnrp_pair_sent(nnrp_pair *p, int from_side, uint8_t msg_type, size_t n,
                   nnrp_packet *out);

/* Number of packets of msg_type sent by a side. */
size_t nnrp_pair_sent_count(nnrp_pair *p, int from_side, uint8_t msg_type);

/* The n-th (0-based) whole packet of any type sent by `from_side`, raw:
 * *bytes points into the tap (valid until the next pump) and *len is its
 * length, for a test that decodes it its own way. Returns 1 if found. */
int nnrp_pair_packet(const nnrp_pair *p, int from_side, size_t n,
                     const uint8_t **bytes, size_t *len);

/* Number of whole packets sent by a side. */
size_t nnrp_pair_packet_count(const nnrp_pair *p, int from_side);

#endif /* NNRP_TEST_SESSION_PAIR_H */
