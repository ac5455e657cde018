/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net_common.h - what the network subcommands (serve, submit, bench, ping)
 * share: option parsing helpers, the common client options (--host,
 * --port, --auth-token, --lenient, --timeout-ms), dialing with error
 * reports, and the demo frames the clients submit (net_frame.c).
 */
#ifndef NNRP_CLI_NET_COMMON_H
#define NNRP_CLI_NET_COMMON_H

#include <stdint.h>
#include <stdio.h>

#include <nnrp/nnrp.h>
#include <nnrp/nnrp_runtime.h>

/* ---- option parsing ----------------------------------------------------- */

/**
 * Matches argv[*i] against `--name VALUE` or `--name=VALUE`.
 * @return 1 when it matches (*val = the value, NULL when missing; *i
 *         advanced past a separate value), 0 when it is something else.
 */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **val);

/** Parses a decimal number in [0, max]. @return 0, or -1 when s is not
 *  one. */
int cli_parse_num(const char *s, uint64_t max, uint64_t *out);

/** Prints "nnrp CMD: MSG[: ARG]" and a hint on stderr; returns
 *  CLI_EXIT_USAGE. */
int cli_usage_fail(const char *cmd, const char *msg, const char *arg);

/* ---- client options ----------------------------------------------------- */

typedef struct net_opts {
  const char *host; /**< "127.0.0.1" */
  uint32_t port;    /**< required (port_given) */
  int port_given;
  const char *auth_token; /**< auth block bytes; NULL: empty */
  int lenient;            /**< wire.md §13 lenient validation */
  uint32_t timeout_ms;    /**< per wait (connect, result, pong); 10000 */
} net_opts;

void net_opts_default(net_opts *o);

/**
 * Consumes one common option at argv[*i] (--host, --port, --auth-token,
 * --lenient, --timeout-ms).
 * @return 1 consumed; 0 not a common option; -1 bad value (message
 *         printed, exit with CLI_EXIT_USAGE).
 */
int net_opt_parse(net_opts *o, const char *cmd, int argc, char **argv, int *i);

/** Usage lines of the common client options. */
void net_opts_usage(FILE *out);

/**
 * Dials o->host:o->port: a client profile accepting every payload kind
 * and carrying the auth token, lenient validation and a 5 s keep-alive
 * with --lenient (session.md §15). cfg (may be NULL) gives callbacks; its
 * host/port/lenient/timeouts are overwritten. On failure prints
 * "nnrp CMD: connect HOST:PORT: AUTH_FAILED ..." style lines on stderr.
 * @return 0 with *out; the error of nnrp_dial_client().
 */
int net_dial(nnrp_runtime *rt, const net_opts *o, const char *cmd,
             nnrp_client_config *cfg, nnrp_client_session **out);

/** Short text of an error record: "CODE/SCOPE" or the library error. */
void net_record_text(const nnrp_error_record *rec, char *buf, size_t cap);

/**
 * --budget-policy: a comma-separated list of partial, stale, degraded,
 * drop (BudgetPolicy bits ALLOW_PARTIAL, ALLOW_STALE_REUSE,
 * ALLOW_DEGRADED, ALLOW_DROP), or any (all four) or none (0).
 * @return 0 with *out; -1 for an unknown name.
 */
int net_budget_parse(const char *s, uint8_t *out);

/** Name of a result class ("COMPLETE", ...; "CLASS?" when unknown). */
const char *net_class_name(uint8_t result_class);

/* ---- demo frames (net_frame.c) ------------------------------------------ */

typedef enum net_kind {
  NET_KIND_TENSOR = 0,
  NET_KIND_TOKEN,
  NET_KIND_MIXED,
  NET_KIND_AUDIO,
  NET_KIND_VIDEO,
  NET_KIND_EVENT,
  NET_KIND_TOOL,
  NET_KIND_OPAQUE
} net_kind;

/** @return 0 with *out, -1 for an unknown kind name. */
int net_kind_parse(const char *s, net_kind *out);

/** A frame ready to submit (payloads malloc'd, never changed after init,
 *  so one frame can be submitted any number of times). */
typedef struct net_frame {
  nnrp_submit req; /**< frame_id 0, user_data NULL: the caller sets them */
  nnrp_tensor_data tensor;
  nnrp_section_data section;
  nnrp_bytes tile;        /**< the tile's bytes (every tile is the same) */
  nnrp_bytes *tile_views; /**< tiles views of `tile` (malloc'd) */
  uint16_t tiles;         /**< tiles per frame (tensor kinds) */
  nnrp_typed_frame typed;
  uint8_t *tile_buf;
  uint8_t *data_buf;
  uint32_t w, h;  /**< tile shape (tensor kinds) */
  size_t payload; /**< payload bytes of the frame */
  int has_tensor;
  int has_typed;
} net_frame;

/** Inputs of net_frame_init(). */
typedef struct net_frame_spec {
  net_kind kind;
  size_t bytes;        /**< payload bytes (mixed: half tensor, half text) */
  const uint8_t *tile; /**< NULL, or FP16 tile bytes to send as given */
  size_t tile_len;
  uint32_t tile_w; /**< shape of `tile` (0: square) */
  uint32_t tile_h;
  uint32_t tiles;   /**< tiles per frame, each of bytes / tiles (0: 1) */
  const char *text; /**< NULL, or the token text to send */
} net_frame_spec;

/**
 * Builds one frame: tensor = spec->tiles identical FP16 tiles (a ramp, or
 * spec->tile) of shape w x h with 2*w*h close to bytes / tiles (tile ids
 * 0..tiles-1, DENSE_RANGE); token = words of text (stream
 * set: the server answers in several pushes); the other kinds = one typed
 * payload of bytes bytes.
 * @return 0; -1 (message printed on stderr).
 */
int net_frame_init(net_frame *f, const net_frame_spec *spec);
void net_frame_free(net_frame *f);

/* ---- cache objects (net_cache.c) -------------------------------------- */

/** Namespace of the objects a frame references (net_cache). */
#define NET_CACHE_NAMESPACE 7u
/** Namespace of --cache-flood objects. */
#define NET_FLOOD_NAMESPACE 9u

/**
 * The slot objects of a tensor frame as cache objects (session.md §9) and
 * a frame that references them: camera block (64 bytes) and section table
 * (the frame's sections, wire.md §8.3 with the first section at 0), plus
 * the tile-index block (RAW_U16 ids) in REFERENCE mode; MIXED keeps the
 * tile index inline. Put them once per session (net_cache_put()), then
 * submit `req` any number of times.
 */
typedef struct net_cache {
  int mixed; /**< MIXED (tile index inline), else REFERENCE */
  uint8_t camera[64];
  uint8_t *ti_block; /**< RAW_U16 ids (REFERENCE) */
  size_t ti_len;
  uint8_t *packet; /**< built legacy submit; its body = sections */
  nnrp_bytes sections;
  nnrp_cache_put_req puts[3];
  uint32_t put_count;
  nnrp_object_ref refs[3]; /**< slot order */
  nnrp_tensor_data tensor; /**< the referencing tensor: no sections */
  nnrp_submit req;         /**< frame template (frame_id, user_data 0) */
} net_cache;

/** Builds the objects and the referencing frame from f (a frame with a
 *  tensor). @return 0; -1 (message on stderr). */
int net_cache_init(net_cache *c, const net_frame *f, int mixed);
void net_cache_free(net_cache *c);

/**
 * Puts the objects on cs (pinned, blocking put_cache per object).
 * @param puts      incremented per put sent
 * @param rejected  incremented per REJECTED ack
 * @return 1 every object is in the cache (frames may reference them);
 *         0 some put was rejected (keep sending inline); a negative error
 *         of nnrp_client_session_put_cache().
 */
int net_cache_put(nnrp_client_session *cs, const net_cache *c, int timeout_ms,
                  uint64_t *puts, uint64_t *rejected);

#endif /* NNRP_CLI_NET_COMMON_H */
