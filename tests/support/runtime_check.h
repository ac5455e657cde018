/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime_check.h - helpers shared by the runtime tests (tests/runtime/):
 * counting open descriptors, building a one-section UINT8 tensor submit of
 * N tiles, the first tile of a decoded body, an echo answer, 127.0.0.1
 * server/client configs, and a raw peer (a plain socket driving a session
 * by hand). Functions are named rc_*; none of them checks anything itself:
 * the tests keep their CHECKs at their own lines.
 */
#ifndef NNRP_TEST_RUNTIME_CHECK_H
#define NNRP_TEST_RUNTIME_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include <nnrp/nnrp_runtime.h>

/* ---- descriptors ------------------------------------------------------- */

/** Number of entries of /proc/self/fd (open descriptors plus "." and ".."
 *  and the directory's own); -1 when it cannot be read. Only differences
 *  between two calls mean anything. */
int rc_open_fds(void);

/* ---- tensor submits ---------------------------------------------------- */

/** Most tiles an rc_tensor_frame holds. */
#define RC_TILES_MAX 2

/** Storage of the body of a tensor submit built by rc_tensor_submit(); it
 *  must stay valid while the submit is in use. The tile bytes are the
 *  caller's. */
typedef struct rc_tensor_frame {
  nnrp_bytes tiles[RC_TILES_MAX];
  uint16_t ids[RC_TILES_MAX];
  nnrp_section_data section;
  nnrp_tensor_data tensor;
} rc_tensor_frame;

/** Clears *r and sets the FRAME_SUBMIT metadata of n 32x32 tiles laid side
 *  by side (src_width 32 * n, src_height 32), loss tolerance INHERIT. */
void rc_submit_meta(nnrp_submit *r, uint16_t n);

/** Fills *r (through rc_submit_meta()) with one tensor section of role 1,
 *  dtype UINT8 and n <= RC_TILES_MAX tiles of len bytes each, tile t at
 *  tile[t], ids 0 .. n-1 (RAW_U16); r->user_data is user_data. */
void rc_tensor_submit(nnrp_submit *r, rc_tensor_frame *tf,
                      uint8_t *const *tile, size_t len, uint16_t n,
                      void *user_data);

/** The first tile's bytes of a decoded tensor body, or {NULL, 0} when b is
 *  NULL, has no tensor or no tile. */
nnrp_bytes rc_first_tile(const nnrp_data_body *b);

/* ---- server side ------------------------------------------------------- */

/** Answers sub with a final RESULT_PUSH whose body is the submit's own
 *  (tiles pointing into the held submit; up to 2 sections and 8 tiles).
 *  Returns what nnrp_server_session_send_result() returns, or
 *  NNRP_ERR_INTERNAL when the body does not fit. */
int64_t rc_echo(nnrp_server_session *ss, const nnrp_received_submit *sub);

/* ---- configs on 127.0.0.1 ---------------------------------------------- */

/** nnrp_server_config_default() listening on 127.0.0.1, port 0 (any). */
void rc_server_config(nnrp_server_config *sc);

/** nnrp_client_config_default() dialing 127.0.0.1:port. */
void rc_client_config(nnrp_client_config *cc, uint16_t port);

/* ---- a raw peer -------------------------------------------------------- */

/** A blocking TCP socket connected to 127.0.0.1:port, or -1. */
int rc_connect_loopback(uint16_t port);

/** Writes up to limit bytes of s's pending output to fd (blocking, short
 *  writes continued) and marks them consumed. Returns the bytes written,
 *  or -1 when a write fails. */
int rc_write_output(int fd, nnrp_session *s, size_t limit);

/** Reads fd into s until s reports an event of type want (copied to *got
 *  unless got is NULL): returns 1, or 0 on EOF, a read or session error, or
 *  after about 2 s. With rt, each round turns rt's loop once (up to 5 ms)
 *  and polls fd without waiting (400 rounds); without, each round waits up
 *  to 10 ms for fd (200 rounds). Bytes after the wanted event's packet in
 *  the same read are dropped. */
int rc_read_until(nnrp_runtime *rt, int fd, nnrp_session *s,
                  nnrp_event_type want, nnrp_event *got);

/** Ends a raw peer: closes fd when it is >= 0, then deletes the raw
 *  session and the server session that accepted it (either may be NULL). */
void rc_raw_peer_end(int fd, nnrp_session *raw, nnrp_server_session *ss);

#endif /* NNRP_TEST_RUNTIME_CHECK_H */
