/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vectors.h - internals of `nnrp vectors`: every vector of the seed-line
 * vector file (shared/vectors/seed-line.json) rebuilt from its field values
 * by the library's own encoders and builders. The groups live in
 * vec_meta.c (headers, metadata), vec_control.c (extensions, control
 * packets) and vec_data.c / vec_data2.c (data-plane bodies and descriptors).
 */
#ifndef NNRP_CLI_VECTORS_H
#define NNRP_CLI_VECTORS_H

#include <cjson/cJSON.h>
#include <nnrp/nnrp.h>

typedef struct vec_ctx {
  cJSON *list;  /* the "vectors" array */
  int failures; /* vectors that could not be built or decoded back */
} vec_ctx;

/** Names and provenance of one vector (as in seed-line.json). */
typedef struct vec_info {
  const char *name;
  const char *kind;   /* packet, metadata, body, extension, descriptor */
  const char *msg;    /* message_type name */
  const char *status; /* golden or derived (status of the seed vector) */
  const char *source; /* the library function that produced the bytes */
  const char *note;   /* NULL or a note */
} vec_info;

/** Appends a vector; takes ownership of fields (NULL means {}). */
void vec_emit(vec_ctx *c, const vec_info *v, const uint8_t *bytes, size_t len,
              cJSON *fields);
/** Reports a vector that failed (stderr) and counts it. */
void vec_fail(vec_ctx *c, const char *name, const char *what, int err,
              const nnrp_fault *f);

/** {"magic":"NNRP", header fields...} of the 40 header bytes at pkt (decoded
 *  back with nnrp_header_decode). */
cJSON *vec_header_fields(vec_ctx *c, const char *name, const uint8_t *pkt);
/** {"header", "metadata"} of a whole built packet (decoded back). */
cJSON *vec_packet_fields(vec_ctx *c, const char *name, const uint8_t *pkt,
                         size_t len);
/** A UTF-8 string item from a byte view (bytes copied). */
cJSON *vec_text(nnrp_bytes b);
/** A byte view of a NUL-terminated string. */
nnrp_bytes vec_str(const char *s);

/** A data packet built by the library and decoded back. */
typedef struct vec_built {
  uint8_t *pkt; /* malloc'd packet */
  size_t len;
  nnrp_bytes body; /* the body inside pkt */
  nnrp_packet p;   /* valid when decoded */
  int decoded;
} vec_built;

/** Builds a FRAME_SUBMIT or RESULT_PUSH (by h->msg_type) with the library's
 *  builder and decodes it back. *m is in/out (builder-derived fields).
 *  @return 0 when built (decoding failures are reported, decoded = 0), -1
 *  when the builder failed (reported). */
int vec_build_data(vec_ctx *c, const char *name, const nnrp_header *h,
                   nnrp_meta *m, const nnrp_body_data *b, vec_built *out);
void vec_built_free(vec_built *b);
/** Region k (NNRP_REGION_*) of a composed body, located through the
 *  prelude's lengths; empty if out of bounds. */
nnrp_bytes vec_region(nnrp_bytes body, int k);
/** A FRAME_SUBMIT header of session 7, frame 101. */
nnrp_header vec_submit_header(uint8_t msg_type);

void vec_group_meta(vec_ctx *c);    /* headers and metadata blocks */
void vec_group_control(vec_ctx *c); /* extensions and control packets */
void vec_group_data(vec_ctx *c);    /* composed-body parts */
void vec_group_data2(vec_ctx *c);   /* tile indexes, sections, legacy */

#endif /* NNRP_CLI_VECTORS_H */
