/* SPDX-License-Identifier: Apache-2.0 */
/*
 * build_control.c - nnrp_build_control(): every message whose body is not a
 * data body (wire.md §4, §10), built from a header, the metadata and the
 * body pieces. Lengths are derived, the send rules of wire.md §2.4 are
 * applied to the header, and large caller bytes are referenced, not copied.
 */
#include <string.h>

#include "wire_int.h"

static const char rule_build[] = "nnrp_wire.h nnrp_build_control";

/* What the body of a control message is made of. */
enum body_kind {
  BK_NONE,   /* empty body */
  BK_BYTES,  /* ctl->bytes: diagnostic, object, migration token */
  BK_CLIENT, /* extension block ‖ auth block (D3) */
  BK_SERVER, /* extension block, or opaque bytes (D5) */
  BK_PATCH,  /* optional 16-byte profile (ack) block */
  BK_PROBE   /* probe_payload_bytes of 0x50 */
};

static enum body_kind body_kind(uint8_t t) {
  switch (t) {
  case NNRP_MSG_CLIENT_HELLO:
    return BK_CLIENT;
  case NNRP_MSG_SERVER_HELLO_ACK:
    return BK_SERVER;
  case NNRP_MSG_SESSION_PATCH:
  case NNRP_MSG_SESSION_PATCH_ACK:
    return BK_PATCH;
  case NNRP_MSG_ERROR:
  case NNRP_MSG_CACHE_PUT:
  case NNRP_MSG_SESSION_MIGRATE:
    return BK_BYTES;
  case NNRP_MSG_TRANSPORT_PROBE:
    return BK_PROBE;
  default:
    return BK_NONE;
  }
}

/* The derived pieces of one packet. */
typedef struct plan {
  enum body_kind kind;
  size_t std_ext; /* bytes of the standard entries (hellos) */
  uint64_t ext;   /* whole extension block (hellos) */
  uint64_t body;  /* body_len */
  uint32_t meta_len;
} plan;

static int inconsistent(nnrp_fault *f, const char *field) {
  return nnrp__fail(f, NNRP_ERR_INCONSISTENT, 0, rule_build, field);
}

/* Refuses body pieces the message cannot carry (a caller bug, not data to
 * drop silently). */
static int check_pieces(const plan *pl, const nnrp_control_body *c,
                        nnrp_fault *f) {
  int hello = pl->kind == BK_CLIENT || pl->kind == BK_SERVER;
  int bytes_ok = pl->kind == BK_BYTES || hello;
  if (!hello && (c->ext != NULL || c->extra_ext_count != 0))
    return inconsistent(f, "ext");
  if (c->extra_ext_count != 0 && c->extra_ext == NULL)
    return nnrp__fail(f, NNRP_ERR_INVALID_ARGUMENT, 0, rule_build, "extra_ext");
  if (!bytes_ok && c->bytes.len != 0)
    return inconsistent(f, "bytes");
  if (c->bytes.len != 0 && c->bytes.ptr == NULL)
    return nnrp__fail(f, NNRP_ERR_INVALID_ARGUMENT, 0, rule_build, "bytes");
  /* Bounded here so that the sums of plan_body() cannot wrap. */
  if (c->bytes.len > NNRP_MAX_PACKET_BYTES)
    return nnrp__fail(f, NNRP_ERR_INVALID_ARGUMENT, 16, "wire.md §2.1 D19",
                      "body_len");
  if (pl->kind != BK_PATCH && c->patch != NULL)
    return inconsistent(f, "patch");
  return 0;
}

/* Sizes the extension block of a hello. */
static int plan_ext(uint8_t t, const nnrp_control_body *c, plan *pl,
                    nnrp_fault *f) {
  pl->std_ext = nnrp_ext_block_size(t, c->ext, NULL, 0);
  size_t all = nnrp_ext_block_size(t, c->ext, c->extra_ext, c->extra_ext_count);
  if (all == SIZE_MAX || pl->std_ext == SIZE_MAX)
    return nnrp__fail(f, NNRP_ERR_INVALID_ARGUMENT, 0, rule_build,
                      "control_extension_bytes");
  pl->ext = all;
  return 0;
}

/* Sizes the body; nothing is written to *m yet. */
static int plan_body(uint8_t t, const nnrp_meta *m, const nnrp_control_body *c,
                     plan *pl, nnrp_fault *f) {
  int rc = check_pieces(pl, c, f);
  if (rc != 0)
    return rc;
  switch (pl->kind) {
  case BK_CLIENT:
  case BK_SERVER:
    if ((rc = plan_ext(t, c, pl, f)) != 0)
      return rc;
    /* SERVER_HELLO_ACK opaque form (D5, as nnrp-py 1.0.0rc2 sends the
     * model name): only without TLV entries. */
    if (pl->kind == BK_SERVER && c->bytes.len != 0 && pl->ext != 0)
      return inconsistent(f, "bytes");
    pl->body = pl->ext + c->bytes.len;
    break;
  case BK_PATCH:
    pl->body = c->patch ? 16u : 0u;
    /* A sender sets PROFILE_PATCH exactly when it sends the block (§4.3);
     * the builder sets the bit, but a bit without a block is a bug. */
    if (t == NNRP_MSG_SESSION_PATCH && !c->patch &&
        (m->session_patch.patch_mask & NNRP_PATCH_PROFILE_PATCH))
      return inconsistent(f, "patch_mask");
    break;
  case BK_BYTES:
    pl->body = c->bytes.len;
    break;
  case BK_PROBE:
    pl->body = m->transport_probe.probe_payload_bytes; /* caller-set */
    break;
  case BK_NONE:
    pl->body = 0;
    break;
  }
  uint64_t total = (uint64_t)NNRP_HEADER_LEN + pl->meta_len + pl->body;
  if (pl->body > UINT32_MAX || total > NNRP_MAX_PACKET_BYTES)
    return nnrp__fail(f, NNRP_ERR_INVALID_ARGUMENT, 16, "wire.md §2.1 D19",
                      "body_len");
  return 0;
}

/* Writes the derived length fields (and PROFILE_PATCH) back into *m. All
 * values fit: plan_body() bounded the body by the packet cap. */
static void write_back(uint8_t t, nnrp_meta *m, const nnrp_control_body *c,
                       const plan *pl) {
  switch (t) {
  case NNRP_MSG_CLIENT_HELLO:
    m->client_hello.control_extension_bytes = (uint32_t)pl->ext;
    m->client_hello.auth_bytes = (uint32_t)c->bytes.len;
    break;
  case NNRP_MSG_SERVER_HELLO_ACK:
    m->server_hello_ack.control_extension_bytes = (uint32_t)pl->ext;
    break;
  case NNRP_MSG_SESSION_PATCH:
    if (c->patch)
      m->session_patch.patch_mask |= NNRP_PATCH_PROFILE_PATCH;
    m->session_patch.profile_patch_bytes = (uint32_t)pl->body;
    break;
  case NNRP_MSG_SESSION_PATCH_ACK:
    m->session_patch_ack.profile_patch_ack_bytes = (uint32_t)pl->body;
    break;
  case NNRP_MSG_ERROR:
    m->error.diagnostic_bytes = (uint32_t)pl->body;
    break;
  case NNRP_MSG_CACHE_PUT:
    m->cache_put.object_bytes = (uint32_t)pl->body;
    break;
  default:
    break; /* SESSION_MIGRATE: the token has no length field */
  }
}

/* The send column of wire.md §2.4 (and ACK_REQUIRED on the hellos, §2.3
 * rule 2). Fields the table leaves to the caller are copied. */
static void header_rules(nnrp_header *h, const nnrp_meta *m) {
  switch (h->msg_type) {
  case NNRP_MSG_CLIENT_HELLO:
    h->session_id = 0;
    h->flags |= NNRP_FLAG_ACK_REQUIRED;
    break;
  case NNRP_MSG_SERVER_HELLO_ACK:
    h->session_id = m->server_hello_ack.session_id; /* D5 */
    h->flags |= NNRP_FLAG_ACK_REQUIRED;
    break;
  case NNRP_MSG_ERROR: /* related ids (§4.6) */
    h->session_id = m->error.related_session_id;
    h->frame_id = m->error.related_frame_id;
    h->view_id = (uint16_t)(m->error.related_view_id & 0xFFFFu);
    return;
  case NNRP_MSG_FRAME_CANCEL:
  case NNRP_MSG_RESULT_DROP:
    return; /* the frame and its lane */
  case NNRP_MSG_RESULT_HINT:
    h->view_id = 0; /* frame_id: the frame concerned, or 0 */
    return;
  case NNRP_MSG_FLOW_UPDATE:
    if (m->flow_update.scope_kind == NNRP_FLOW_SCOPE_CONNECTION)
      h->session_id = 0;
    break;
  default:
    break;
  }
  h->frame_id = 0;
  h->view_id = 0;
}

/* Writes the extra (application) entries of a hello: entry header and
 * padding into scratch, payload referenced when large. */
static int emit_extra(nnrp_out *o, const nnrp_control_body *c) {
  static const uint8_t zeros[8];
  for (size_t i = 0; i < c->extra_ext_count; i++) {
    const nnrp_ext_entry *e = &c->extra_ext[i];
    uint32_t ext_len = (uint32_t)e->payload.len;
    uint8_t *p = nnrp__out_reserve(o, 8);
    if (p == NULL)
      return NNRP_ERR_BUFFER_TOO_SMALL;
    p = nnrp_put_u16le(p, e->ext_type);
    p = nnrp_put_u16le(p, e->ext_flags);
    (void)nnrp_put_u32le(p, ext_len);
    if (ext_len != 0 && nnrp__out_ref(o, e->payload.ptr, ext_len) != 0)
      return NNRP_ERR_BUFFER_TOO_SMALL;
    size_t pad = (size_t)(nnrp_align8(ext_len) - ext_len);
    if (pad != 0 && nnrp__out_bytes(o, zeros, pad) != 0)
      return NNRP_ERR_BUFFER_TOO_SMALL;
  }
  return 0;
}

static int emit_ext(nnrp_out *o, uint8_t t, const nnrp_control_body *c,
                    const plan *pl) {
  if (pl->std_ext != 0) {
    uint8_t *p = nnrp__out_reserve(o, pl->std_ext);
    if (p == NULL)
      return NNRP_ERR_BUFFER_TOO_SMALL;
    int n = nnrp_ext_block_encode(t, c->ext, NULL, 0, p, pl->std_ext);
    if (n < 0)
      return n;
  }
  return emit_extra(o, c);
}

#define FILLER_CHUNK ((size_t)4096)
#define P8 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50
#define P64 P8, P8, P8, P8, P8, P8, P8, P8
#define P512 P64, P64, P64, P64, P64, P64, P64, P64
#define P4096 P512, P512, P512, P512, P512, P512, P512, P512

/* TRANSPORT_PROBE filler: copied when small or in contiguous mode, else
 * referenced from one static block of 'P' (no caller memory needed). */
static int emit_probe(nnrp_out *o, uint64_t n) {
  static const uint8_t filler[FILLER_CHUNK] = {P4096};
  if (n <= o->copy_max || o->iov_cap == 0) {
    uint8_t *p = nnrp__out_reserve(o, (size_t)n);
    if (p == NULL)
      return NNRP_ERR_BUFFER_TOO_SMALL;
    memset(p, 0x50, (size_t)n);
    return 0;
  }
  while (n != 0) {
    size_t k = n < FILLER_CHUNK ? (size_t)n : FILLER_CHUNK;
    if (nnrp__out_ref(o, filler, k) != 0)
      return NNRP_ERR_BUFFER_TOO_SMALL;
    n -= k;
  }
  return 0;
}

static int emit_patch(nnrp_out *o, const nnrp_profile_patch *b) {
  uint8_t *p = nnrp__out_reserve(o, 16);
  if (p == NULL)
    return NNRP_ERR_BUFFER_TOO_SMALL;
  p = nnrp_put_u32le(p, b->min_width);
  p = nnrp_put_u32le(p, b->min_height);
  p = nnrp_put_u32le(p, b->max_width);
  (void)nnrp_put_u32le(p, b->max_height);
  return 0;
}

static int emit_body(nnrp_out *o, uint8_t t, const nnrp_control_body *c,
                     const plan *pl) {
  int rc = 0;
  switch (pl->kind) {
  case BK_CLIENT:
  case BK_SERVER:
    rc = emit_ext(o, t, c, pl);
    break;
  case BK_PATCH:
    if (c->patch)
      rc = emit_patch(o, c->patch);
    break;
  case BK_PROBE:
    return emit_probe(o, pl->body);
  case BK_BYTES:
  case BK_NONE:
    break;
  }
  /* The auth block (CLIENT_HELLO), opaque body (SERVER_HELLO_ACK) or the
   * BK_BYTES body comes last. */
  if (rc == 0 && c->bytes.len != 0 &&
      nnrp__out_ref(o, c->bytes.ptr, c->bytes.len) != 0)
    rc = NNRP_ERR_BUFFER_TOO_SMALL;
  return rc;
}

int nnrp_build_control(nnrp_out *out, const nnrp_header *hdr, nnrp_meta *meta,
                       const nnrp_control_body *ctl, nnrp_fault *fault) {
  static const nnrp_control_body no_body;
  if (out == NULL || hdr == NULL)
    return nnrp__fail(fault, NNRP_ERR_INVALID_ARGUMENT, 0, rule_build, "out");
  uint8_t t = hdr->msg_type;
  const nnrp_msg_desc *d = nnrp__msg_desc(t);
  if (d == NULL || t == NNRP_MSG_FRAME_SUBMIT || t == NNRP_MSG_RESULT_PUSH)
    return nnrp__fail(fault, NNRP_ERR_INVALID_ARGUMENT, 6, rule_build,
                      "msg_type");
  nnrp_meta none;
  if (meta == NULL) {
    if (d->meta_len != 0)
      return nnrp__fail(fault, NNRP_ERR_INVALID_ARGUMENT, 40, rule_build,
                        "meta");
    memset(&none, 0, sizeof(none));
    meta = &none;
  }
  if (ctl == NULL)
    ctl = &no_body;

  plan pl = {body_kind(t), 0, 0, 0, d->meta_len};
  int rc = plan_body(t, meta, ctl, &pl, fault);
  if (rc != 0)
    return rc;
  write_back(t, meta, ctl, &pl);

  nnrp_header h = *hdr;
  h.version_major = NNRP_PROTOCOL_VERSION_MAJOR;
  h.wire_format = NNRP_WIRE_FORMAT_CURRENT;
  h.header_len = NNRP_HEADER_LEN;
  h.meta_len = pl.meta_len;
  h.body_len = (uint32_t)pl.body;
  header_rules(&h, meta);

  /* Header and metadata are one scratch run; a failure past this point is
   * BUFFER_TOO_SMALL and leaves *out to be reset. */
  uint8_t *p = nnrp__out_reserve(out, NNRP_HEADER_LEN + (size_t)pl.meta_len);
  if (p == NULL)
    return nnrp__fail(fault, NNRP_ERR_BUFFER_TOO_SMALL, 0, rule_build,
                      "scratch");
  nnrp_header_encode(&h, p);
  rc = nnrp_meta_encode(t, meta, p + NNRP_HEADER_LEN, pl.meta_len);
  if (rc < 0)
    return nnrp__fail(fault, rc, NNRP_HEADER_LEN, rule_build, "meta");
  rc = emit_body(out, t, ctl, &pl);
  if (rc != 0)
    return nnrp__fail(fault, rc, NNRP_HEADER_LEN + (size_t)pl.meta_len,
                      rule_build, "body");
  return 0;
}
