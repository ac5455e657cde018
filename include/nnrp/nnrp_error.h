/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nnrp_error.h - the two error models of libnnrp, kept apart (STYLE "Errors").
 *
 * 1. Library errors: negative ints NNRP_ERR_*. Every function that can fail
 *    returns one. Values <= NNRP_ERR_FATAL_THRESHOLD (-500) are fatal: the
 *    object that returned them cannot be used further (except to free it).
 * 2. Wire errors: the ErrorCode / ErrorScope values carried by an ERROR
 *    packet (wire.md §4.6, §11.3). nnrp_error_map() turns a library error
 *    raised by validation into the code, scope and fatal flag of wire.md §16.
 *
 * Validation failures additionally fill an nnrp_fault that names the spec
 * rule and the field, for logs and tests. No errno, no global state.
 */
#ifndef NNRP_ERROR_H
#define NNRP_ERROR_H

#include <stddef.h>
#include <stdint.h>

#include "nnrp_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * X(name, value, message): the one table from which the enum, the names, the
 * messages and the fatal flag are generated.
 *
 * -1 .. -99     local API conditions (not caused by the peer)
 * -100 .. -199  validation failures of received bytes (peer faults); each maps
 *               to one row of wire.md §16 through nnrp_error_map()
 * <= -500       fatal
 */
#define NNRP_ERROR_TABLE(X)                                                    \
  X(INVALID_ARGUMENT, -1, "invalid argument")                                  \
  X(BUFFER_TOO_SMALL, -2, "output buffer or iovec array too small")            \
  X(INVALID_STATE, -3, "operation not allowed in the current state")           \
  X(WOULD_BLOCK, -4, "operation would block")                                  \
  X(TIMEOUT, -5, "operation timed out")                                        \
  X(NOT_FOUND, -6, "no such item")                                             \
  X(CLOSED, -7, "session or connection closed")                                \
  X(NO_CREDIT, -8, "no flow-control credit")                                   \
  X(TOO_MANY_IN_FLIGHT, -9, "in-flight frame limit reached")                   \
  X(PAUSED, -10, "submits paused by the peer")                                 \
  X(TRAILING_DATA, -11, "bytes after the end of the packet")                   \
  X(INCONSISTENT, -12, "inconsistent values given to an encoder")              \
  X(MALFORMED_HEADER, -100, "malformed packet header")                         \
  X(UNSUPPORTED_VERSION, -101, "unsupported protocol version or wire format")  \
  X(PACKET_TOO_LARGE, -102, "packet larger than max_packet_bytes")             \
  X(BODY_TOO_LARGE, -103, "body larger than max_body_bytes")                   \
  X(MALFORMED_BODY, -104, "malformed metadata or body")                        \
  X(UNSUPPORTED_CAPABILITY, -105, "capability not supported or negotiated")    \
  X(LIMIT_EXCEEDED, -106, "local limit exceeded (sections, lanes, ...)")       \
  X(UNEXPECTED_MESSAGE, -107, "message not allowed for this role or state")    \
  X(FOREIGN_SESSION, -108, "packet names another session")                     \
  X(HANDSHAKE_ORDER, -109, "handshake message out of place")                   \
  X(FRAME_ID, -110, "frame id zero, duplicate or out of order")                \
  X(DRAINING, -111, "frame submitted while the session is draining")          \
  X(AUTH_FAILED, -112, "authentication rejected")                              \
  X(CACHE_MISS, -113, "object reference not in the session cache")             \
  X(SERVER_BUSY, -114, "server overloaded")                                    \
  X(PEER_ERROR, -115, "the peer sent ERROR")                                   \
  X(TRUNCATED, -116, "input ends inside a packet")                             \
  X(NOMEM, -500, "out of memory or over the configured memory limit")          \
  X(CALLBACK_FAILURE, -501, "an application callback failed")                  \
  X(INTERNAL, -502, "internal error")                                          \
  X(CONNECTION_LOST, -503, "connection lost")                                  \
  X(FATAL_PROTOCOL, -504, "session ended by a fatal protocol error")

/** Library error codes. 0 is success; every error is negative. */
typedef enum nnrp_err {
  NNRP_OK = 0,
#define NNRP_X_(name, value, msg) NNRP_ERR_##name = (value),
  NNRP_ERROR_TABLE(NNRP_X_)
#undef NNRP_X_
} nnrp_err;

/** Errors at or below this value are fatal for the object that returned
 *  them. */
#define NNRP_ERR_FATAL_THRESHOLD (-500)

/** Returns a static, human-readable message for a library error ("malformed
 *  metadata or body"); "success" for 0 and "unknown error" for values not in
 *  the table. Never NULL. */
NNRP_API const char *nnrp_strerror(int err);

/** Returns the symbolic name ("NNRP_ERR_MALFORMED_BODY", "NNRP_OK"), or
 *  "NNRP_ERR_UNKNOWN". Never NULL; static storage. */
NNRP_API const char *nnrp_err_name(int err);

/** Returns 1 if err <= NNRP_ERR_FATAL_THRESHOLD, else 0. */
NNRP_API int nnrp_err_is_fatal(int err);

/* ---- Wire error model (wire.md §4.6, §11.3) ----------------------------- */

/** ErrorCode (u32 on the wire). Unknown received values are surfaced as-is. */
typedef enum nnrp_error_code {
  NNRP_ERROR_CODE_UNSUPPORTED_VERSION = 0x0001,
  NNRP_ERROR_CODE_AUTH_FAILED = 0x0002,
  NNRP_ERROR_CODE_INVALID_STATE = 0x0003,
  NNRP_ERROR_CODE_MALFORMED_HEADER = 0x0004,
  NNRP_ERROR_CODE_MALFORMED_BODY = 0x0005,
  NNRP_ERROR_CODE_UNSUPPORTED_CAPABILITY = 0x0006,
  NNRP_ERROR_CODE_LIMIT_EXCEEDED = 0x0007,
  NNRP_ERROR_CODE_FRAME_EXPIRED = 0x0008,
  NNRP_ERROR_CODE_FRAME_CANCELLED = 0x0009,
  NNRP_ERROR_CODE_CACHE_MISS = 0x000A,
  NNRP_ERROR_CODE_SERVER_BUSY = 0x000B,
  NNRP_ERROR_CODE_INTERNAL_ERROR = 0x000C
} nnrp_error_code;

/** ErrorScope (u32 on the wire). */
typedef enum nnrp_error_scope {
  NNRP_ERROR_SCOPE_CONNECTION = 0,
  NNRP_ERROR_SCOPE_SESSION = 1,
  NNRP_ERROR_SCOPE_FRAME = 2
} nnrp_error_scope;

/** Returns the spec name of an ErrorCode ("MALFORMED_BODY") or NULL if the
 *  value is not defined. Static storage. */
NNRP_API const char *nnrp_error_code_name(uint32_t code);

/** Returns "CONNECTION", "SESSION", "FRAME", or NULL. Static storage. */
NNRP_API const char *nnrp_error_scope_name(uint32_t scope);

/** What an endpoint sends for a failure: the ERROR metadata triple. */
typedef struct nnrp_wire_error {
  uint32_t error_code;  /**< nnrp_error_code */
  uint32_t error_scope; /**< nnrp_error_scope */
  uint32_t is_fatal;    /**< 1: close the connection after sending */
} nnrp_wire_error;

/** Phase flag for nnrp_error_map(): the failing packet is CLIENT_HELLO,
 *  SERVER_HELLO_ACK, a pre-session TRANSPORT_PROBE, or the first packet of a
 *  connection (wire.md §16). In that phase every failure is CONNECTION-scope
 *  and fatal (decision D6). */
#define NNRP_MAP_HANDSHAKE 0x1u

/**
 * Maps a library error raised by validation (-100 .. -199) to the ERROR that
 * wire.md §16 prescribes.
 *
 * @param err    an NNRP_ERR_* value
 * @param phase  0 or NNRP_MAP_HANDSHAKE
 * @param out    receives code, scope and fatal flag (untouched when 0 is
 *               returned)
 * @return 1 when an ERROR must be sent; 0 when nothing is sent for err
 *         (NNRP_ERR_TRUNCATED: the connection just ends; NNRP_ERR_PEER_ERROR:
 *         an ERROR is never answered with an ERROR; local API errors);
 *         fatal library errors (<= -500) map to INTERNAL_ERROR/CONNECTION/1
 *         and return 1.
 */
NNRP_API int nnrp_error_map(int err, unsigned phase, nnrp_wire_error *out);

/**
 * Details of a validation failure. Filled by every decoder on failure; all
 * strings are static (never freed, valid for the life of the program).
 */
typedef struct nnrp_fault {
  int err;           /**< NNRP_ERR_* (same as the decoder's return value) */
  uint32_t offset;   /**< byte offset in the decoded input where the fault
                          was found (best effort; packet-relative for packet
                          decoders, structure-relative otherwise) */
  const char *rule;  /**< spec rule, e.g. "wire.md §6.1 M3", never NULL */
  const char *field; /**< field or structure name, e.g. "submit_mode", never
                          NULL */
} nnrp_fault;

/**
 * Formats a fault as one line, e.g. "MALFORMED_BODY: submit_mode (wire.md
 * §6.1 M1) at offset 92". Always NUL-terminates when cap > 0.
 * @return the length the full line needs (snprintf semantics).
 */
NNRP_API size_t nnrp_fault_format(const nnrp_fault *f, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* NNRP_ERROR_H */
