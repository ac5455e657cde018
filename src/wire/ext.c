/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ext.c - the control extension TLV block of CLIENT_HELLO and
 * SERVER_HELLO_ACK (wire.md §5): parse rules 1-10 of §5.2, the standard
 * entries of §5.3 and the project entry 0x8001 of §5.4, an iterator over an
 * accepted block, and the block encoder.
 */
#include <limits.h>
#include <string.h>

#include "wire_int.h"

static const char rule_r1[] = "wire.md §5.2 rule 1";
static const char rule_r2[] = "wire.md §5.2 rule 2";
static const char rule_r3[] = "wire.md §5.2 rule 3";
static const char rule_r4[] = "wire.md §5.2 rule 4";
static const char rule_r5[] = "wire.md §5.2 rule 5";
static const char rule_r8[] = "wire.md §5.2 rule 8";
static const char rule_r9[] = "wire.md §5.2 rule 9";
static const char rule_std[] = "wire.md §5.3";
static const char rule_name[] = "wire.md §5.4";

#define ENTRY_HDR 8u
#define STD_PAYLOAD 8u
#define MODEL_NAME_MAX 255u
#define TRANSPORT_POLICY_MAX NNRP_TRANSPORT_POLICY_FORCE_TCP
#define LOSS_TOLERANCE_MAX NNRP_LOSS_TOLERANCE_FIRE_AND_FORGET

static int is_hello(uint8_t msg_type) {
  return msg_type == NNRP_MSG_CLIENT_HELLO ||
         msg_type == NNRP_MSG_SERVER_HELLO_ACK;
}

/* The NNRP_HELLO_EXT_* bit of a type known in msg_type, or 0: a known type
 * carried by the other hello is an unknown type (§5.2 rule 6). */
static uint32_t known_bit(uint8_t msg_type, uint16_t t) {
  if (msg_type == NNRP_MSG_CLIENT_HELLO) {
    switch (t) {
    case NNRP_EXT_CLIENT_TRANSPORT_POLICY:
      return NNRP_HELLO_EXT_TRANSPORT_POLICY;
    case NNRP_EXT_CLIENT_LOSS_TOLERANCE:
      return NNRP_HELLO_EXT_LOSS_TOLERANCE;
    case NNRP_EXT_CLIENT_PAYLOAD_CAPABILITIES:
      return NNRP_HELLO_EXT_PAYLOAD_CAPS;
    default:
      return 0;
    }
  }
  switch (t) {
  case NNRP_EXT_SERVER_TRANSPORT_POLICY:
    return NNRP_HELLO_EXT_TRANSPORT_POLICY;
  case NNRP_EXT_SERVER_LOSS_TOLERANCE:
    return NNRP_HELLO_EXT_LOSS_TOLERANCE;
  case NNRP_EXT_SERVER_PAYLOAD_CAPABILITIES:
    return NNRP_HELLO_EXT_PAYLOAD_CAPS;
  case NNRP_EXT_ACTIVE_MODEL_NAME:
    return NNRP_HELLO_EXT_MODEL_NAME;
  default:
    return 0;
  }
}

/* Reserved payload bytes (§5.3 "reserved rule", §13): strict rejects a
 * non-zero value, lenient keeps it as read. */
static int reserved_ok(uint64_t v, uint32_t flags) {
  return v == 0 || !NNRP__STRICT(flags);
}

/* ---- standard entries (§5.3); p = 8 payload bytes at block offset off ---- */

/* 0x0101 / 0x0102. */
static int dec_transport(nnrp_hello_exts *x, uint8_t msg_type, const uint8_t *p,
                         size_t off, uint32_t flags, nnrp_fault *f) {
  nnrp_ext_transport_policy *tp = &x->transport_policy;
  int server = msg_type == NNRP_MSG_SERVER_HELLO_ACK;
  tp->transport_policy = p[0];
  tp->accepted_transport_policy = p[1];
  tp->reserved = nnrp_rd16(p + 2);
  tp->transport_id = nnrp_rd32(p + 4);
  if (tp->transport_policy > TRANSPORT_POLICY_MAX)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, off, rule_std,
                      "transport_policy");
  if (server && tp->accepted_transport_policy > TRANSPORT_POLICY_MAX)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, off + 1, rule_std,
                      "accepted_transport_policy");
  if (!server && !reserved_ok(tp->accepted_transport_policy, flags))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, off + 1, rule_std,
                      "reserved");
  if (!reserved_ok(tp->reserved, flags))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, off + 2, rule_std,
                      "reserved");
  if (!server) {
    /* preferred id: 0 (none), QUIC or TCP; an enum in both modes. */
    if (tp->transport_id > NNRP_TRANSPORT_TCP)
      return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, off + 4, rule_std,
                        "preferred_transport_id");
    return 0;
  }
  /* active id: QUIC or TCP; 0 tolerated in lenient mode only (§13). */
  if (tp->transport_id > NNRP_TRANSPORT_TCP ||
      (tp->transport_id == NNRP_TRANSPORT_UNSPECIFIED && NNRP__STRICT(flags)))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, off + 4, rule_std,
                      "active_transport_id");
  return 0;
}

/* 0x0103 / 0x0104. */
static int dec_loss(nnrp_hello_exts *x, uint8_t msg_type, const uint8_t *p,
                    size_t off, uint32_t flags, nnrp_fault *f) {
  nnrp_ext_loss_tolerance *lt = &x->loss_tolerance;
  lt->loss_tolerance = p[0];
  lt->reserved0 = p[1];
  lt->reserved1 = nnrp_rd16(p + 2);
  lt->reserved2 = nnrp_rd32(p + 4);
  /* LossTolerance 0..3; INHERIT (0xFF) exists only in FRAME_SUBMIT. */
  if (lt->loss_tolerance > LOSS_TOLERANCE_MAX)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, off, rule_std,
                      msg_type == NNRP_MSG_CLIENT_HELLO
                          ? "session_loss_tolerance"
                          : "accepted_loss_tolerance");
  if (!reserved_ok(lt->reserved0, flags))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, off + 1, rule_std,
                      "reserved");
  if (!reserved_ok(lt->reserved1, flags))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, off + 2, rule_std,
                      "reserved");
  if (!reserved_ok(lt->reserved2, flags))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, off + 4, rule_std,
                      "reserved");
  return 0;
}

/* 0x0105 / 0x0106: both checks apply in both modes (§13). */
static int dec_caps(nnrp_hello_exts *x, uint8_t msg_type, const uint8_t *p,
                    size_t off, nnrp_fault *f) {
  nnrp_ext_payload_caps *pc = &x->payload_caps;
  int client = msg_type == NNRP_MSG_CLIENT_HELLO;
  pc->payload_kind_bitmap = nnrp_rd32(p);
  pc->critical_extension_frame_bitmap = nnrp_rd32(p + 4);
  if (pc->payload_kind_bitmap & ~(uint32_t)NNRP_PAYLOAD_KIND_KNOWN_MASK)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, off, rule_std,
                      client ? "payload_kind_bitmap"
                             : "accepted_payload_kind_bitmap");
  if (pc->critical_extension_frame_bitmap != 0)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, off + 4, rule_std,
                      client ? "critical_extension_frame_bitmap"
                             : "accepted_critical_extension_frame_bitmap");
  return 0;
}

/* Validates and records the first occurrence of a known entry (rule 9).
 * off is the block offset of the entry header. */
static int dec_known(nnrp_hello_exts *x, uint8_t msg_type, uint32_t bit,
                     const uint8_t *payload, uint32_t ext_len, size_t off,
                     uint32_t flags, nnrp_fault *f) {
  size_t poff = off + ENTRY_HDR;
  int rc;
  if (bit == NNRP_HELLO_EXT_MODEL_NAME) {
    if (ext_len < 1 || ext_len > MODEL_NAME_MAX)
      return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, off + 4, rule_name,
                        "ext_len");
    x->model_name.ptr = payload;
    x->model_name.len = ext_len;
    x->present |= bit;
    return 0;
  }
  if (ext_len != STD_PAYLOAD)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, off + 4, rule_r9, "ext_len");
  if (bit == NNRP_HELLO_EXT_TRANSPORT_POLICY)
    rc = dec_transport(x, msg_type, payload, poff, flags, f);
  else if (bit == NNRP_HELLO_EXT_LOSS_TOLERANCE)
    rc = dec_loss(x, msg_type, payload, poff, flags, f);
  else
    rc = dec_caps(x, msg_type, payload, poff, f);
  if (rc == 0)
    x->present |= bit;
  return rc;
}

/* Structural rules 1-5 for the entry at off; fills type/flags/len. */
static int dec_entry_hdr(const uint8_t *in, size_t len, size_t off,
                         uint32_t flags, uint16_t *type, uint16_t *eflags,
                         uint32_t *ext_len, nnrp_fault *f) {
  size_t left = len - off;
  if (left < ENTRY_HDR)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, off, rule_r1, "ext_type");
  const uint8_t *p = in + off;
  *type = nnrp_rd16(p);
  *eflags = nnrp_rd16(p + 2);
  *ext_len = nnrp_rd32(p + 4);
  uint64_t room = (uint64_t)left - ENTRY_HDR;
  if (*ext_len > room)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, off + 4, rule_r2, "ext_len");
  uint64_t padded = nnrp_align8(*ext_len);
  if (padded > room)
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, off + ENTRY_HDR + *ext_len,
                      rule_r3, "padding");
  /* Non-zero padding is rejected in both modes. */
  if (!nnrp__all_zero(p + ENTRY_HDR + *ext_len, (size_t)(padded - *ext_len)))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, off + ENTRY_HDR + *ext_len,
                      rule_r4, "padding");
  /* Lenient mode ignores the unknown bits: only CRITICAL is interpreted,
   * and the iterator hands out the raw field. */
  if ((*eflags & ~(uint32_t)NNRP_EXT_FLAG_CRITICAL) && NNRP__STRICT(flags))
    return nnrp__fail(f, NNRP_ERR_MALFORMED_BODY, off + 2, rule_r5,
                      "ext_flags");
  return 0;
}

int nnrp_ext_block_decode(uint8_t msg_type, nnrp_hello_exts *x,
                          const uint8_t *in, size_t len, uint32_t flags,
                          nnrp_fault *f) {
  if (x == NULL || (in == NULL && len != 0) || !is_hello(msg_type))
    return nnrp__fail(f, NNRP_ERR_INVALID_ARGUMENT, 0, "wire.md §5",
                      "msg_type");
  memset(x, 0, sizeof(*x));
  x->block.ptr = in;
  x->block.len = len;
  /* An unknown CRITICAL entry is a negotiation failure (§15 step 17): it is
   * reported only when the whole block passes the structure and value rules
   * (step 16), so that the first failing step decides. */
  size_t crit_off = SIZE_MAX;
  size_t off = 0;
  while (off < len) {
    uint16_t type, eflags;
    uint32_t ext_len;
    int rc = dec_entry_hdr(in, len, off, flags, &type, &eflags, &ext_len, f);
    if (rc != 0)
      return rc;
    x->entry_count++;
    uint32_t bit = known_bit(msg_type, type);
    if (bit != 0) {
      /* Rule 10: the first occurrence wins, later ones are ignored. */
      if ((x->present & bit) == 0) {
        rc = dec_known(x, msg_type, bit, in + off + ENTRY_HDR, ext_len, off,
                       flags, f);
        if (rc != 0)
          return rc;
      }
    } else if (eflags & NNRP_EXT_FLAG_CRITICAL) {
      if (crit_off == SIZE_MAX)
        crit_off = off; /* rule 8 */
    } else {
      x->unknown_count++; /* rule 7 */
    }
    off += ENTRY_HDR + (size_t)nnrp_align8(ext_len);
  }
  if (crit_off != SIZE_MAX)
    return nnrp__fail(f, NNRP_ERR_UNSUPPORTED_CAPABILITY, crit_off, rule_r8,
                      "ext_type");
  return 0;
}

/* ---- iterator ------------------------------------------------------------ */

void nnrp_ext_iter_init(nnrp_ext_iter *it, nnrp_bytes block) {
  it->block = block;
  it->off = 0;
}

int nnrp_ext_iter_next(nnrp_ext_iter *it, nnrp_ext_entry *e) {
  /* The block was accepted by nnrp_ext_block_decode(); the bounds checks
   * only keep a misused iterator inside the block. */
  if (it->off > it->block.len || it->block.len - it->off < ENTRY_HDR)
    return 0;
  const uint8_t *p = it->block.ptr + it->off;
  size_t room = it->block.len - it->off - ENTRY_HDR;
  uint32_t ext_len = nnrp_rd32(p + 4);
  if (ext_len > room)
    return 0;
  e->ext_type = nnrp_rd16(p);
  e->ext_flags = nnrp_rd16(p + 2);
  e->payload.ptr = p + ENTRY_HDR;
  e->payload.len = ext_len;
  uint64_t padded = nnrp_align8(ext_len);
  it->off =
      padded > room ? it->block.len : it->off + ENTRY_HDR + (size_t)padded;
  return 1;
}

/* ---- encoder ------------------------------------------------------------- */

/* The standard entries x names, in ascending ext_type order (§5.2 sender
 * rule). Fixed payloads are written into buf (3 x 8 bytes). */
typedef struct std_entries {
  nnrp_ext_entry e[4];
  uint8_t buf[3][STD_PAYLOAD];
  size_t n;
} std_entries;

static void std_collect(uint8_t msg_type, const nnrp_hello_exts *x,
                        std_entries *s) {
  int client = msg_type == NNRP_MSG_CLIENT_HELLO;
  s->n = 0;
  if (x == NULL)
    return;
  if (x->present & NNRP_HELLO_EXT_TRANSPORT_POLICY) {
    const nnrp_ext_transport_policy *tp = &x->transport_policy;
    uint8_t *p = s->buf[s->n];
    p = nnrp_put_u8(p, tp->transport_policy);
    p = nnrp_put_u8(p, tp->accepted_transport_policy);
    p = nnrp_put_u16le(p, tp->reserved);
    (void)nnrp_put_u32le(p, tp->transport_id);
    s->e[s->n].ext_type = client ? NNRP_EXT_CLIENT_TRANSPORT_POLICY
                                 : NNRP_EXT_SERVER_TRANSPORT_POLICY;
    s->n++;
  }
  if (x->present & NNRP_HELLO_EXT_LOSS_TOLERANCE) {
    const nnrp_ext_loss_tolerance *lt = &x->loss_tolerance;
    uint8_t *p = s->buf[s->n];
    p = nnrp_put_u8(p, lt->loss_tolerance);
    p = nnrp_put_u8(p, lt->reserved0);
    p = nnrp_put_u16le(p, lt->reserved1);
    (void)nnrp_put_u32le(p, lt->reserved2);
    s->e[s->n].ext_type = client ? NNRP_EXT_CLIENT_LOSS_TOLERANCE
                                 : NNRP_EXT_SERVER_LOSS_TOLERANCE;
    s->n++;
  }
  if (x->present & NNRP_HELLO_EXT_PAYLOAD_CAPS) {
    uint8_t *p = s->buf[s->n];
    p = nnrp_put_u32le(p, x->payload_caps.payload_kind_bitmap);
    (void)nnrp_put_u32le(p, x->payload_caps.critical_extension_frame_bitmap);
    s->e[s->n].ext_type = client ? NNRP_EXT_CLIENT_PAYLOAD_CAPABILITIES
                                 : NNRP_EXT_SERVER_PAYLOAD_CAPABILITIES;
    s->n++;
  }
  for (size_t i = 0; i < s->n; i++) {
    s->e[i].ext_flags = 0;
    s->e[i].payload.ptr = s->buf[i];
    s->e[i].payload.len = STD_PAYLOAD;
  }
  /* 0x8001 exists only in SERVER_HELLO_ACK; a CLIENT_HELLO never carries
   * it (a known type in the wrong message would be unknown to the peer). */
  if (!client && (x->present & NNRP_HELLO_EXT_MODEL_NAME)) {
    s->e[s->n].ext_type = NNRP_EXT_ACTIVE_MODEL_NAME;
    s->e[s->n].ext_flags = 0; /* non-critical (§5.4) */
    s->e[s->n].payload = x->model_name;
    s->n++;
  }
}

/* Adds the stride of the entries to *sum; 0 on overflow or an ext_len
 * that does not fit the u32 field. */
static int add_strides(uint64_t *sum, const nnrp_ext_entry *e, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if ((uint64_t)e[i].payload.len > UINT32_MAX)
      return 0;
    *sum += ENTRY_HDR + nnrp_align8(e[i].payload.len);
    if (*sum > (uint64_t)INT32_MAX)
      return 0;
  }
  return 1;
}

/* Block size, or -1 when it cannot be encoded (over INT32_MAX bytes). */
static int64_t block_size(const std_entries *s, const nnrp_ext_entry *extra,
                          size_t n_extra) {
  uint64_t sum = 0;
  if (!add_strides(&sum, s->e, s->n))
    return -1;
  if (extra != NULL && !add_strides(&sum, extra, n_extra))
    return -1;
  return (int64_t)sum;
}

size_t nnrp_ext_block_size(uint8_t msg_type, const nnrp_hello_exts *x,
                           const nnrp_ext_entry *extra, size_t n_extra) {
  if (!is_hello(msg_type))
    return 0;
  std_entries s;
  std_collect(msg_type, x, &s);
  int64_t n = block_size(&s, extra, n_extra);
  return n < 0 ? SIZE_MAX : (size_t)n;
}

static uint8_t *put_entry(uint8_t *p, const nnrp_ext_entry *e) {
  uint32_t ext_len = (uint32_t)e->payload.len;
  size_t pad = (size_t)(nnrp_align8(ext_len) - ext_len);
  p = nnrp_put_u16le(p, e->ext_type);
  p = nnrp_put_u16le(p, e->ext_flags);
  p = nnrp_put_u32le(p, ext_len);
  if (ext_len != 0)
    memcpy(p, e->payload.ptr, ext_len);
  p += ext_len;
  memset(p, 0, pad);
  return p + pad;
}

int nnrp_ext_block_encode(uint8_t msg_type, const nnrp_hello_exts *x,
                          const nnrp_ext_entry *extra, size_t n_extra,
                          uint8_t *out, size_t cap) {
  if (!is_hello(msg_type) || (extra == NULL && n_extra != 0))
    return NNRP_ERR_INVALID_ARGUMENT;
  std_entries s;
  std_collect(msg_type, x, &s);
  int64_t size = block_size(&s, extra, n_extra);
  if (size < 0)
    return NNRP_ERR_INVALID_ARGUMENT;
  if ((uint64_t)size > cap)
    return NNRP_ERR_BUFFER_TOO_SMALL;
  uint8_t *p = out;
  for (size_t i = 0; i < s.n; i++)
    p = put_entry(p, &s.e[i]);
  for (size_t i = 0; i < n_extra; i++)
    p = put_entry(p, &extra[i]);
  return (int)size;
}
