/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_hello.c - CLIENT_HELLO and SERVER_HELLO_ACK (wire.md §4.1, §4.2):
 * the seed-line metadata and packet vectors (decode, compare every field,
 * re-encode), and one negative test per metadata, negotiation and body rule
 * (D3, D5, header session id), with lenient-mode acceptance where §13 says
 * lenient accepts.
 */
#include "harness.h"
#include "wire_check.h"

#include <nnrp/nnrp_wire.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CH NNRP_MSG_CLIENT_HELLO
#define SHA NNRP_MSG_SERVER_HELLO_ACK
#define LENIENT NNRP_WIRE_LENIENT

/* Every packet buffer of this file holds at least this many bytes. */
#define PKT_CAP 256u

/* One TLV entry with an 8-byte payload. */
static void entry8(uint8_t *p, uint16_t type, uint16_t flags,
                   const uint8_t pl[8]) {
  wc_put_le(p, 2, type);
  wc_put_le(p + 2, 2, flags);
  wc_put_le(p + 4, 4, 8);
  memcpy(p + 8, pl, 8);
}

/* The metadata of packet.client_hello.defaults_prefer_quic_auth, a valid
 * base for the negative tests. */
static uint8_t g_ch[64];
static uint8_t g_sha[80];

/* ---- vectors --------------------------------------------------------------
 */

TEST(vectors_metadata) { CHECK_EQ_INT(wc_check_meta_vectors(CH, SHA), 3); }

/* Compares the "control_extension_block" list of a packet vector with the
 * decoded block x. */
static void compare_block(const cJSON *list, const nnrp_hello_exts *x) {
  nnrp_ext_iter it;
  nnrp_ext_entry e;
  nnrp_ext_iter_init(&it, x->block);
  const cJSON *je;
  cJSON_ArrayForEach(je, list) {
    if (!CHECK_EQ_INT(nnrp_ext_iter_next(&it, &e), 1))
      return;
    wc_check_ext_entry(je, &e, x);
  }
  CHECK_EQ_INT(nnrp_ext_iter_next(&it, &e), 0);
}

TEST(vectors_packets) {
  static const char *names[] = {
      "packet.client_hello.defaults_prefer_quic_auth",
      "packet.server_hello_ack.with_transport_policy_ext"};
  for (int i = 0; i < 2; i++) {
    const cJSON *fields = wc_vec_fields(names[i]);
    uint8_t *bytes = NULL;
    size_t n = wc_vec_hex(names[i], &bytes);
    nnrp_packet p;
    nnrp_fault f;
    if (!CHECK_EQ_INT(wc_decode(&p, bytes, n, 0, &f), 0)) {
      fprintf(stderr, "  %s: %s %s @%u\n", names[i], f.rule, f.field, f.offset);
      free(bytes);
      continue;
    }
    uint8_t type = p.hdr.msg_type;
    wc_check_header(wc_jget(fields, "header"), &p.hdr, NULL);
    WC_CHECK_FIELDS(wc_jget(fields, "metadata"), nnrp_meta_struct_id(type),
                    &p.m, NULL, 0);
    const cJSON *body = wc_jget(fields, "body");
    const nnrp_hello_exts *x =
        type == CH ? &p.b.client_hello.ext : &p.b.server_hello_ack.ext;
    compare_block(wc_jget(body, "control_extension_block"), x);
    CHECK(x->block.ptr == bytes + 40 + p.hdr.meta_len);
    if (type == CH) {
      const char *auth = wc_jget(body, "auth_block_utf8")->valuestring;
      CHECK_EQ_U64(p.b.client_hello.auth.len, strlen(auth));
      CHECK_EQ_MEM(p.b.client_hello.auth.ptr, auth, strlen(auth));
      CHECK_EQ_U64(x->present, NNRP_HELLO_EXT_TRANSPORT_POLICY);
    } else {
      CHECK_EQ_U64(p.b.server_hello_ack.opaque.len, 0);
    }
    /* Re-encode: header, metadata and the block from the parsed struct. */
    uint8_t out[256];
    nnrp_header_encode(&p.hdr, out);
    CHECK_EQ_INT(nnrp_meta_encode(type, &p.m, out + 40, sizeof out - 40),
                 (int)p.hdr.meta_len);
    size_t off = 40 + p.hdr.meta_len;
    int w =
        nnrp_ext_block_encode(type, x, NULL, 0, out + off, sizeof out - off);
    CHECK_EQ_INT(w, (int)x->block.len);
    off += (size_t)w;
    if (type == CH) {
      memcpy(out + off, p.b.client_hello.auth.ptr, p.b.client_hello.auth.len);
      off += p.b.client_hello.auth.len;
    }
    CHECK_EQ_U64(off, n);
    CHECK_EQ_MEM(out, bytes, n);
    free(bytes);
  }
}

/* ---- CLIENT_HELLO metadata (§4.1, step 16 then step 17)
 * ---------------------- */

TEST(client_hello_extension_bytes_multiple_of_8) {
  uint8_t m[64];
  nnrp_meta d;
  nnrp_fault f;
  for (uint32_t bad = 1; bad < 8; bad++) {
    memcpy(m, g_ch, 64);
    wc_put_le(m + 60, 4, 16 + bad);
    for (uint32_t fl = 0; fl <= LENIENT; fl++)
      WC_META_FAULT(CH, m, fl, NNRP_ERR_MALFORMED_BODY,
                    "control_extension_bytes", 60);
  }
  /* Step 16 comes before the version window (step 17). */
  m[0] = 2;
  m[1] = 2;
  CHECK_EQ_INT(wc_meta_decode(CH, m, 0, &d, &f), NNRP_ERR_MALFORMED_BODY);
  memcpy(m, g_ch, 64);
  wc_put_le(m + 60, 4, 0xFFFFFFF8u);
  CHECK_EQ_INT(wc_meta_decode(CH, m, 0, &d, &f), 0);
}

TEST(client_hello_version_window) {
  static const struct {
    uint8_t min, max;
    int rc;
    const char *field;
  } c[] = {{1, 1, 0, NULL},
           {0, 1, 0, NULL},
           {1, 3, 0, NULL},
           {0, 255, 0, NULL},
           {2, 2, NNRP_ERR_UNSUPPORTED_VERSION, "min_version_major"},
           {2, 5, NNRP_ERR_UNSUPPORTED_VERSION, "min_version_major"},
           {0, 0, NNRP_ERR_UNSUPPORTED_VERSION, "max_version_major"},
           {2, 1, NNRP_ERR_UNSUPPORTED_VERSION, "min_version_major"},
           {1, 0, NNRP_ERR_UNSUPPORTED_VERSION, "max_version_major"}};
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
    uint8_t m[64];
    nnrp_meta d;
    nnrp_fault f;
    memcpy(m, g_ch, 64);
    m[0] = c[i].min;
    m[1] = c[i].max;
    for (uint32_t fl = 0; fl <= LENIENT; fl++) {
      if (!CHECK_EQ_INT(wc_meta_decode(CH, m, fl, &d, &f), c[i].rc))
        fprintf(stderr, "  window [%u, %u]\n", c[i].min, c[i].max);
      if (c[i].field) {
        CHECK_EQ_STR(f.field, c[i].field);
        CHECK_EQ_STR(f.rule, "wire.md §4.1");
      }
    }
  }
}

TEST(client_hello_wire_format_bitmap) {
  uint8_t m[64];
  nnrp_meta d;
  nnrp_fault f;
  memcpy(m, g_ch, 64);
  wc_put_le(m + 2, 2, 0x0002);
  for (uint32_t fl = 0; fl <= LENIENT; fl++)
    WC_META_FAULT(CH, m, fl, NNRP_ERR_UNSUPPORTED_VERSION,
                  "supported_wire_format_bitmap", 2);
  wc_put_le(m + 2, 2, 0);
  CHECK_EQ_INT(wc_meta_decode(CH, m, 0, &d, &f), NNRP_ERR_UNSUPPORTED_VERSION);
  /* Extra (future) wire formats are fine next to bit 0. */
  wc_put_le(m + 2, 2, 0xFFFF);
  CHECK_EQ_INT(wc_meta_decode(CH, m, 0, &d, &f), 0);
}

TEST(client_hello_capability_bitmaps) {
  uint8_t m[64];
  nnrp_meta d;
  nnrp_fault f;
  memcpy(m, g_ch, 64);
  wc_put_le(m + 4, 4, 0);
  for (uint32_t fl = 0; fl <= LENIENT; fl++)
    WC_META_FAULT(CH, m, fl, NNRP_ERR_UNSUPPORTED_CAPABILITY,
                  "supported_profile_bitmap", 4);
  memcpy(m, g_ch, 64);
  wc_put_le(m + 8, 4, 0);
  for (uint32_t fl = 0; fl <= LENIENT; fl++)
    WC_META_FAULT(CH, m, fl, NNRP_ERR_UNSUPPORTED_CAPABILITY,
                  "supported_payload_kind_bitmap", 8);
  /* Version (first in step 17) before the capability bitmaps. */
  m[0] = 3;
  m[1] = 3;
  CHECK_EQ_INT(wc_meta_decode(CH, m, 0, &d, &f), NNRP_ERR_UNSUPPORTED_VERSION);
  /* Advertisement bitmaps are intersected, never rejected for unknown
   * bits (§1 rule 11); free fields are not range-checked (D2). */
  memcpy(m, g_ch, 64);
  memset(m + 4, 0xFF, 28);  /* profile .. layout bitmaps */
  memset(m + 28, 0xFF, 24); /* digest .. degrade_policy */
  CHECK_EQ_INT(wc_meta_decode(CH, m, 0, &d, &f), 0);
  CHECK_EQ_U64(d.client_hello.supported_payload_kind_bitmap, 0xFFFFFFFFu);
  CHECK_EQ_U64(d.client_hello.quality_tier, 0xFFFF);
}

/* ---- CLIENT_HELLO body (D3) ------------------------------------------------
 */

/* A CLIENT_HELLO packet with ceb/auth fields and a body of body_len. */
static size_t ch_packet(uint8_t *buf, uint32_t ceb, uint32_t auth,
                        const uint8_t *body, uint32_t body_len) {
  uint8_t m[64];
  memcpy(m, g_ch, 64);
  wc_put_le(m + 56, 4, auth);
  wc_put_le(m + 60, 4, ceb);
  return wc_packet(buf, PKT_CAP, CH, 0, m, body, body_len);
}

TEST(client_hello_body_d3) {
  uint8_t body[64];
  uint8_t buf[256];
  nnrp_packet p;
  nnrp_fault f;
  static const uint8_t pol[8] = {1, 0, 0, 0, 1, 0, 0, 0};
  entry8(body, 0x0101, 0, pol);
  memcpy(body + 16, "tok!", 4);
  /* Valid: 16 + 4. */
  size_t n = ch_packet(buf, 16, 4, body, 20);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), 0);
  CHECK(p.b.client_hello.auth.ptr == buf + 104 + 16);
  CHECK_EQ_U64(p.b.client_hello.auth.len, 4);
  CHECK_EQ_U64(p.b.client_hello.ext.block.len, 16);
  /* body_len one more / one less than the sum, both modes. */
  uint32_t lens[] = {21, 19, 0, 16};
  for (int i = 0; i < 4; i++) {
    n = ch_packet(buf, 16, 4, body, lens[i]);
    for (uint32_t fl = 0; fl <= LENIENT; fl++) {
      CHECK_EQ_INT(wc_decode(&p, buf, n, fl, &f), NNRP_ERR_MALFORMED_BODY);
      CHECK_EQ_STR(f.rule, "wire.md §4.1 D3");
      CHECK_EQ_STR(f.field, "body_len");
      CHECK_EQ_INT(f.offset, 104);
    }
  }
  /* The sum is 64-bit: 0xFFFFFFF8 + 0x10 wraps to 8 in 32 bits. */
  n = ch_packet(buf, 0xFFFFFFF8u, 0x10, body, 8);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.rule, "wire.md §4.1 D3");
  /* Empty body; auth only; extensions only. */
  n = ch_packet(buf, 0, 0, NULL, 0);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), 0);
  CHECK_EQ_U64(p.b.client_hello.auth.len, 0);
  CHECK_EQ_U64(p.b.client_hello.ext.entry_count, 0);
  n = ch_packet(buf, 0, 4, body + 16, 4);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), 0);
  CHECK_EQ_MEM(p.b.client_hello.auth.ptr, "tok!", 4);
  n = ch_packet(buf, 16, 0, body, 16);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), 0);
  CHECK_EQ_INT(p.b.client_hello.ext.transport_policy.transport_id, 1);
}

TEST(client_hello_body_tlv) {
  uint8_t body[64];
  uint8_t buf[256];
  nnrp_packet p;
  nnrp_fault f;
  static const uint8_t pol[8] = {1, 0, 0, 0, 1, 0, 0, 0};
  /* Unknown CRITICAL entry: UNSUPPORTED_CAPABILITY at its body offset. */
  entry8(body, 0x0101, 0, pol);
  entry8(body + 16, 0x4001, NNRP_EXT_FLAG_CRITICAL, pol);
  size_t n = ch_packet(buf, 32, 0, body, 32);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), NNRP_ERR_UNSUPPORTED_CAPABILITY);
  CHECK_EQ_INT(f.offset, 104 + 16);
  CHECK_EQ_STR(f.field, "ext_type");
  /* Structure fault: MALFORMED_BODY at its packet offset. */
  entry8(body + 16, 0x0103, 0, pol);
  wc_put_le(body + 20, 4, 9);
  n = ch_packet(buf, 32, 0, body, 32);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_INT(f.offset, 104 + 20);
  CHECK_EQ_STR(f.rule, "wire.md §5.2 rule 2");
  /* The auth block is not TLV: bytes after ceb are never parsed. */
  memset(body + 16, 0xFF, 16);
  n = ch_packet(buf, 16, 16, body, 32);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), 0);
  /* Reserved byte in 0x0101: strict rejects, lenient accepts. */
  entry8(body, 0x0101, 0, (const uint8_t[8]){1, 1, 0, 0, 1, 0, 0, 0});
  n = ch_packet(buf, 16, 0, body, 16);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_INT(f.offset, 104 + 9);
  CHECK_EQ_INT(wc_decode(&p, buf, n, LENIENT, &f), 0);
  /* The header session_id of a CLIENT_HELLO is ignored (§2.4). */
  n = ch_packet(buf, 0, 0, NULL, 0);
  wc_put_le(buf + 20, 4, 77);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), 0);
}

/* ---- SERVER_HELLO_ACK metadata (§4.2) --------------------------------------
 */

TEST(server_hello_ack_reserved0) {
  uint8_t m[80];
  nnrp_meta d;
  nnrp_fault f;
  memcpy(m, g_sha, 80);
  m[3] = 0x80;
  WC_META_FAULT(SHA, m, 0, NNRP_ERR_MALFORMED_BODY, "reserved0", 3);
  CHECK_EQ_INT(wc_meta_decode(SHA, m, LENIENT, &d, &f), 0);
  CHECK_EQ_INT(d.server_hello_ack.reserved0, 0x80); /* kept as read */
}

TEST(server_hello_ack_session_id_zero) {
  uint8_t m[80];
  nnrp_meta d;
  nnrp_fault f;
  memcpy(m, g_sha, 80);
  wc_put_le(m + 4, 4, 0);
  WC_META_FAULT(SHA, m, 0, NNRP_ERR_MALFORMED_BODY, "session_id", 4);
  CHECK_EQ_INT(wc_meta_decode(SHA, m, LENIENT, &d, &f), 0);
  CHECK_EQ_INT(d.server_hello_ack.session_id, 0);
}

TEST(server_hello_ack_server_flags) {
  uint8_t m[80];
  nnrp_meta d;
  nnrp_fault f;
  memcpy(m, g_sha, 80);
  /* Accept mask 0x7 (D8) in both modes. */
  for (uint32_t v = 0; v <= 7; v++) {
    wc_put_le(m + 76, 4, v);
    CHECK_EQ_INT(wc_meta_decode(SHA, m, 0, &d, &f), 0);
    CHECK_EQ_U64(d.server_hello_ack.server_flags, v);
  }
  uint32_t bad[] = {0x8, 0x9, 0x80000000u, 0xFFFFFFFFu};
  for (int i = 0; i < 4; i++) {
    wc_put_le(m + 76, 4, bad[i]);
    WC_META_FAULT(SHA, m, 0, NNRP_ERR_MALFORMED_BODY, "server_flags", 76);
    CHECK_EQ_INT(wc_meta_decode(SHA, m, LENIENT, &d, &f), 0);
    CHECK_EQ_U64(d.server_hello_ack.server_flags, bad[i] & 0x7u); /* cleared */
  }
}

TEST(server_hello_ack_selected_version) {
  uint8_t m[80];
  nnrp_meta d;
  nnrp_fault f;
  uint8_t versions[] = {0, 2, 255};
  for (int i = 0; i < 3; i++) {
    memcpy(m, g_sha, 80);
    m[0] = versions[i];
    for (uint32_t fl = 0; fl <= LENIENT; fl++)
      WC_META_FAULT(SHA, m, fl, NNRP_ERR_UNSUPPORTED_VERSION,
                    "selected_version_major", 0);
  }
  memcpy(m, g_sha, 80);
  m[1] = 1;
  for (uint32_t fl = 0; fl <= LENIENT; fl++)
    WC_META_FAULT(SHA, m, fl, NNRP_ERR_UNSUPPORTED_VERSION,
                  "selected_wire_format", 1);
  /* Step 16 (reserved0) is reported before step 17 in strict mode. */
  m[3] = 1;
  CHECK_EQ_INT(wc_meta_decode(SHA, m, 0, &d, &f), NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_INT(wc_meta_decode(SHA, m, LENIENT, &d, &f),
               NNRP_ERR_UNSUPPORTED_VERSION);
}

TEST(server_hello_ack_subset_free_fields) {
  /* No client context here: over-wide accepted bitmaps, a non-zero
   * auth_status and any free values decode (the session checks D5). */
  uint8_t m[80];
  nnrp_meta d;
  nnrp_fault f;
  memcpy(m, g_sha, 80);
  m[2] = 1;                 /* auth_status: rejected */
  memset(m + 8, 0xFF, 32);  /* every accepted bitmap */
  memset(m + 40, 0xFF, 32); /* quotas, lanes, timings, limits */
  CHECK_EQ_INT(wc_meta_decode(SHA, m, 0, &d, &f), 0);
  CHECK_EQ_INT(d.server_hello_ack.auth_status, 1);
  CHECK_EQ_U64(d.server_hello_ack.accepted_payload_kind_bitmap, 0xFFFFFFFFu);
  CHECK_EQ_U64(d.server_hello_ack.retry_after_ms, 0xFFFFFFFFu);
}

/* ---- SERVER_HELLO_ACK body (D5) and header session id
 * ------------------------- */

static size_t sha_packet(uint8_t *buf, uint32_t hdr_session, uint32_t ceb,
                         const uint8_t *body, uint32_t body_len) {
  uint8_t m[80];
  memcpy(m, g_sha, 80);
  wc_put_le(m + 72, 4, ceb);
  return wc_packet(buf, PKT_CAP, SHA, hdr_session, m, body, body_len);
}

TEST(server_hello_ack_body_d5) {
  uint8_t body[300];
  uint8_t buf[512];
  nnrp_packet p;
  nnrp_fault f;
  static const uint8_t pol[8] = {1, 1, 0, 0, 1, 0, 0, 0};
  entry8(body, 0x0102, 0, pol);
  /* TLV form: control_extension_bytes = body_len. */
  size_t n = sha_packet(buf, 1, 16, body, 16);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), 0);
  CHECK_EQ_U64(p.b.server_hello_ack.ext.present,
               NNRP_HELLO_EXT_TRANSPORT_POLICY);
  CHECK_EQ_U64(p.b.server_hello_ack.opaque.len, 0);
  /* Empty body, empty block. */
  n = sha_packet(buf, 1, 0, NULL, 0);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), 0);
  CHECK_EQ_U64(p.b.server_hello_ack.opaque.len, 0);
  CHECK_EQ_U64(p.b.server_hello_ack.ext.entry_count, 0);
  /* Opaque form (nnrp-py 1.0.0rc2 model name): kept, not parsed. */
  n = sha_packet(buf, 1, 0, (const uint8_t *)"sr-model", 8);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), 0);
  CHECK(p.b.server_hello_ack.opaque.ptr == buf + 120);
  CHECK_EQ_U64(p.b.server_hello_ack.opaque.len, 8);
  CHECK_EQ_U64(p.b.server_hello_ack.ext.present, 0);
  /* Opaque bytes that are not a valid TLV block (odd length). */
  n = sha_packet(buf, 1, 0, (const uint8_t *)"abc", 3);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), 0);
  /* Anything else: MALFORMED_BODY in both modes. */
  static const struct {
    uint32_t ceb, body_len;
  } bad[] = {{8, 16}, {16, 0}, {24, 16}, {16, 8}};
  for (int i = 0; i < 4; i++) {
    n = sha_packet(buf, 1, bad[i].ceb, body, bad[i].body_len);
    for (uint32_t fl = 0; fl <= LENIENT; fl++) {
      CHECK_EQ_INT(wc_decode(&p, buf, n, fl, &f), NNRP_ERR_MALFORMED_BODY);
      CHECK_EQ_STR(f.rule, "wire.md §4.2 D5");
      CHECK_EQ_STR(f.field, "control_extension_bytes");
      CHECK_EQ_INT(f.offset, 120);
    }
  }
}

TEST(server_hello_ack_header_session_id) {
  uint8_t buf[256];
  nnrp_packet p;
  nnrp_fault f;
  uint32_t sid = (uint32_t)wc_get_le(g_sha + 4, 4);
  /* 0 or the assigned id. */
  size_t n = sha_packet(buf, 0, 0, NULL, 0);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), 0);
  n = sha_packet(buf, sid, 0, NULL, 0);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), 0);
  /* Any other id: MALFORMED_BODY in both modes. */
  n = sha_packet(buf, sid + 1, 0, NULL, 0);
  for (uint32_t fl = 0; fl <= LENIENT; fl++) {
    CHECK_EQ_INT(wc_decode(&p, buf, n, fl, &f), NNRP_ERR_MALFORMED_BODY);
    CHECK_EQ_STR(f.field, "session_id");
    CHECK_EQ_STR(f.rule, "wire.md §2.4 D5");
  }
  /* Lenient metadata session_id 0 with header 0 is fine; with a header id
   * it is a mismatch. */
  uint8_t m[80];
  memcpy(m, g_sha, 80);
  wc_put_le(m + 4, 4, 0);
  wc_put_le(m + 72, 4, 0); /* control_extension_bytes: empty body */
  n = wc_packet(buf, PKT_CAP, SHA, 0, m, NULL, 0);
  CHECK_EQ_INT(wc_decode(&p, buf, n, LENIENT, &f), 0);
  n = wc_packet(buf, PKT_CAP, SHA, 5, m, NULL, 0);
  CHECK_EQ_INT(wc_decode(&p, buf, n, LENIENT, &f), NNRP_ERR_MALFORMED_BODY);
  /* Body form (step 15) is decided before the header cross rule. */
  n = sha_packet(buf, sid + 1, 8, (const uint8_t *)"abcdefghabcdefgh", 16);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.rule, "wire.md §4.2 D5");
}

TEST(server_hello_ack_body_tlv) {
  uint8_t body[300];
  uint8_t buf[512];
  nnrp_packet p;
  nnrp_fault f;
  /* active_transport_id 0: strict rejects, lenient tolerates (§13). */
  entry8(body, 0x0102, 0, (const uint8_t[8]){1, 1, 0, 0, 0, 0, 0, 0});
  size_t n = sha_packet(buf, 1, 16, body, 16);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.field, "active_transport_id");
  CHECK_EQ_INT(f.offset, 120 + 12);
  CHECK_EQ_INT(wc_decode(&p, buf, n, LENIENT, &f), 0);
  /* A client type in SERVER_HELLO_ACK is unknown: skipped, or fatal when
   * critical. */
  entry8(body, 0x0101, 0, (const uint8_t[8]){9, 9, 9, 9, 9, 9, 9, 9});
  n = sha_packet(buf, 1, 16, body, 16);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), 0);
  CHECK_EQ_INT(p.b.server_hello_ack.ext.unknown_count, 1);
  entry8(body, 0x0101, NNRP_EXT_FLAG_CRITICAL,
         (const uint8_t[8]){1, 0, 0, 0, 1, 0, 0, 0});
  n = sha_packet(buf, 1, 16, body, 16);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), NNRP_ERR_UNSUPPORTED_CAPABILITY);
  CHECK_EQ_INT(f.offset, 120);
  /* 0x8001 ACTIVE_MODEL_NAME. */
  wc_put_le(body, 2, 0x8001);
  wc_put_le(body + 2, 2, 0);
  wc_put_le(body + 4, 4, 5);
  memcpy(body + 8, "model\0\0\0", 8);
  n = sha_packet(buf, 1, 16, body, 16);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), 0);
  CHECK_EQ_U64(p.b.server_hello_ack.ext.present, NNRP_HELLO_EXT_MODEL_NAME);
  CHECK_EQ_MEM(p.b.server_hello_ack.ext.model_name.ptr, "model", 5);
  /* Version faults (step 17) of the metadata still surface in a packet. */
  uint8_t m[80];
  memcpy(m, g_sha, 80);
  m[0] = 2;
  wc_put_le(m + 72, 4, 0);
  n = wc_packet(buf, PKT_CAP, SHA, 1, m, NULL, 0);
  CHECK_EQ_INT(wc_decode(&p, buf, n, 0, &f), NNRP_ERR_UNSUPPORTED_VERSION);
  CHECK_EQ_INT(f.offset, 40);
}

int main(void) {
  wc_vec_copy("packet.client_hello.defaults_prefer_quic_auth", 40, g_ch, 64);
  wc_vec_copy("packet.server_hello_ack.with_transport_policy_ext", 40, g_sha,
              80);

  RUN(vectors_metadata);
  RUN(vectors_packets);
  RUN(client_hello_extension_bytes_multiple_of_8);
  RUN(client_hello_version_window);
  RUN(client_hello_wire_format_bitmap);
  RUN(client_hello_capability_bitmaps);
  RUN(client_hello_body_d3);
  RUN(client_hello_body_tlv);
  RUN(server_hello_ack_reserved0);
  RUN(server_hello_ack_session_id_zero);
  RUN(server_hello_ack_server_flags);
  RUN(server_hello_ack_selected_version);
  RUN(server_hello_ack_subset_free_fields);
  RUN(server_hello_ack_body_d5);
  RUN(server_hello_ack_header_session_id);
  RUN(server_hello_ack_body_tlv);
  wc_vectors_free();
  TEST_MAIN_END();
}
