/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode.h - internals of `nnrp decode` shared by cmd_decode.c (arguments,
 * inputs, streaming) and decode_emit.c (one output record per packet:
 * {"ok","message_type","header","metadata","body","error","reencoded_hex"}).
 */
#ifndef NNRP_CLI_DECODE_H
#define NNRP_CLI_DECODE_H

#include <cjson/cJSON.h>
#include <nnrp/nnrp.h>

typedef struct decode_ctx {
  int json;           /* --json: one JSON object per line */
  nnrp_wire_opts wo;  /* strict, or NNRP_WIRE_LENIENT with --lenient */
  unsigned long seen; /* records printed so far */
  int invalid;        /* some input was not valid */
} decode_ctx;

/** One output record. Every cJSON member is owned by the record (NULL is
 *  printed as null); reencoded_hex is malloc'd or NULL. */
typedef struct decode_rec {
  const char *label; /* text mode: "packet", "header" or "metadata" */
  int ok;
  int msg_type; /* -1: unknown */
  cJSON *header, *metadata, *body, *error;
  char *reencoded_hex;
  int reencoded_same; /* text mode: 1 when equal to the input */
} decode_rec;

/** Prints rec (JSON line or text block), frees its members, counts it. */
void decode_emit(decode_ctx *c, decode_rec *rec);

/** Error phase of wire.md §16 for a packet of msg_type; first is 1 for the
 *  first packet of a stream. */
unsigned decode_phase(int msg_type, int first);

/** Emits the record of a successfully decoded packet (re-encoded through
 *  the builders); orig/orig_len are the input bytes when known (else NULL).
 */
void decode_emit_packet(decode_ctx *c, const nnrp_packet *p,
                        const uint8_t *orig, size_t orig_len);

/** Emits the record of a failed packet: h is its header when it could be
 *  decoded (else NULL), msg_type -1 when unknown. */
void decode_emit_failure(decode_ctx *c, const nnrp_header *h, int msg_type,
                         int err, unsigned phase, const nnrp_fault *f);

#endif /* NNRP_CLI_DECODE_H */
