/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_hello.c - libFuzzer target for the control extension block (TLV) of
 * CLIENT_HELLO and SERVER_HELLO_ACK (wire.md §5). The input is one block,
 * decoded for both carriers in strict and lenient mode. Accepted blocks must
 * iterate to exactly their bytes, re-encode byte for byte from their entries,
 * and round-trip their standard extensions; the same block inside a whole
 * hello packet must give the same verdict. Aborts on any mismatch.
 */
#include <nnrp/nnrp_wire.h>

#include <stdlib.h>
#include <string.h>

#include "nnrp_fuzz.h"

#define FZ_CHECK(c)                                                            \
  do {                                                                         \
    if (!(c))                                                                  \
      abort();                                                                 \
  } while (0)

#define MAX_INPUT 16384u

static uint64_t align8(uint64_t n) { return (n + 7u) & ~(uint64_t)7u; }

static void check_fault(int rc, const nnrp_fault *f) {
  FZ_CHECK(rc == NNRP_ERR_MALFORMED_BODY ||
           rc == NNRP_ERR_UNSUPPORTED_CAPABILITY);
  FZ_CHECK(f->err == rc && f->rule != NULL && f->field != NULL);
}

static int same_exts(const nnrp_hello_exts *a, const nnrp_hello_exts *b) {
  if (a->present != b->present)
    return 0;
  if ((a->present & NNRP_HELLO_EXT_TRANSPORT_POLICY) &&
      (a->transport_policy.transport_policy !=
           b->transport_policy.transport_policy ||
       a->transport_policy.accepted_transport_policy !=
           b->transport_policy.accepted_transport_policy ||
       a->transport_policy.reserved != b->transport_policy.reserved ||
       a->transport_policy.transport_id != b->transport_policy.transport_id))
    return 0;
  if ((a->present & NNRP_HELLO_EXT_LOSS_TOLERANCE) &&
      memcmp(&a->loss_tolerance, &b->loss_tolerance,
             sizeof a->loss_tolerance) != 0)
    return 0;
  if ((a->present & NNRP_HELLO_EXT_PAYLOAD_CAPS) &&
      (a->payload_caps.payload_kind_bitmap !=
           b->payload_caps.payload_kind_bitmap ||
       a->payload_caps.critical_extension_frame_bitmap !=
           b->payload_caps.critical_extension_frame_bitmap))
    return 0;
  if (a->model_name.len != b->model_name.len ||
      (a->model_name.len &&
       memcmp(a->model_name.ptr, b->model_name.ptr, a->model_name.len) != 0))
    return 0;
  return 1;
}

static int inside(const uint8_t *p, size_t n, const uint8_t *b, size_t len) {
  uintptr_t x = (uintptr_t)p, y = (uintptr_t)b;
  return n == 0 || (p != NULL && x >= y && x - y <= len && n <= len - (x - y));
}

/* An accepted block: iteration, verbatim re-encoding, standard entries. */
static void check_accepted(uint8_t t, uint32_t mode, const nnrp_hello_exts *x,
                           const uint8_t *in, size_t len) {
  FZ_CHECK(x->block.len == len && (len == 0 || x->block.ptr == in));
  FZ_CHECK(x->unknown_count <= x->entry_count);
  FZ_CHECK(len % 8 == 0 && x->entry_count <= len / 8);
  FZ_CHECK(inside(x->model_name.ptr, x->model_name.len, in, len));
  nnrp_ext_entry *e = calloc(x->entry_count + 1u, sizeof(*e));
  FZ_CHECK(e != NULL);
  nnrp_ext_iter it;
  nnrp_ext_iter_init(&it, x->block);
  size_t n = 0;
  uint64_t stride = 0;
  while (n <= x->entry_count && nnrp_ext_iter_next(&it, &e[n])) {
    FZ_CHECK(n < x->entry_count);
    FZ_CHECK(inside(e[n].payload.ptr, e[n].payload.len, in, len));
    stride += 8u + align8(e[n].payload.len);
    n++;
  }
  FZ_CHECK(n == x->entry_count && stride == len);
  /* Every entry passed verbatim reproduces the block exactly. */
  FZ_CHECK(nnrp_ext_block_size(t, NULL, e, n) == len);
  uint8_t *out = malloc(len + 1);
  FZ_CHECK(out != NULL);
  FZ_CHECK(nnrp_ext_block_encode(t, NULL, e, n, out, len) == (int)len);
  FZ_CHECK(len == 0 || memcmp(out, in, len) == 0);
  if (len > 0)
    FZ_CHECK(nnrp_ext_block_encode(t, NULL, e, n, out, len - 1) ==
             NNRP_ERR_BUFFER_TOO_SMALL);
  free(out);
  free(e);
  /* The standard extensions alone round-trip. */
  size_t sn = nnrp_ext_block_size(t, x, NULL, 0);
  FZ_CHECK(sn <= 64u + 8u + 256u);
  uint8_t std[512];
  int w = nnrp_ext_block_encode(t, x, NULL, 0, std, sizeof std);
  FZ_CHECK(w >= 0 && (size_t)w == sn);
  nnrp_hello_exts y;
  FZ_CHECK(nnrp_ext_block_decode(t, &y, std, sn, mode, NULL) == 0);
  FZ_CHECK(same_exts(x, &y));
  FZ_CHECK(y.unknown_count == 0);
}

/* The block inside a whole hello: the packet decoder's verdict matches. */
static void check_in_packet(uint8_t t, const uint8_t *in, size_t len, int want,
                            const nnrp_hello_exts *x) {
  size_t ml = t == NNRP_MSG_CLIENT_HELLO ? 64 : 80;
  size_t total = 40 + ml + len + 3;
  uint8_t *pkt = calloc(1, total);
  FZ_CHECK(pkt != NULL);
  nnrp_header h;
  nnrp_header_init(&h, t);
  h.flags = NNRP_FLAG_ACK_REQUIRED;
  nnrp_meta m;
  memset(&m, 0, sizeof m);
  if (t == NNRP_MSG_CLIENT_HELLO) {
    m.client_hello.min_version_major = 1;
    m.client_hello.max_version_major = 1;
    m.client_hello.supported_wire_format_bitmap = 1;
    m.client_hello.supported_profile_bitmap = 1;
    m.client_hello.supported_payload_kind_bitmap = 1;
    m.client_hello.control_extension_bytes = (uint32_t)len;
    m.client_hello.auth_bytes = 3; /* the auth block follows the TLVs */
  } else {
    m.server_hello_ack.selected_version_major = 1;
    m.server_hello_ack.session_id = 7;
    m.server_hello_ack.control_extension_bytes = (uint32_t)len;
    h.session_id = 7;
    total -= 3;
  }
  h.body_len = (uint32_t)(total - 40 - ml);
  nnrp_header_encode(&h, pkt);
  FZ_CHECK(nnrp_meta_encode(t, &m, pkt + 40, ml) == (int)ml);
  if (len)
    memcpy(pkt + 40 + ml, in, len);
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  nnrp_packet p;
  nnrp_fault f = {1, 0, NULL, NULL};
  int rc = nnrp_packet_decode(&p, pkt, total, &o, &f);
  if (t == NNRP_MSG_CLIENT_HELLO && len % 8 != 0)
    FZ_CHECK(rc == NNRP_ERR_MALFORMED_BODY); /* metadata rule, §4.1 */
  else
    FZ_CHECK(rc == want);
  if (rc != 0) {
    FZ_CHECK(f.err == rc && f.rule != NULL && f.field != NULL);
  } else {
    const nnrp_hello_exts *px = t == NNRP_MSG_CLIENT_HELLO
                                    ? &p.b.client_hello.ext
                                    : &p.b.server_hello_ack.ext;
    FZ_CHECK(same_exts(x, px));
    FZ_CHECK(px->entry_count == x->entry_count &&
             px->unknown_count == x->unknown_count);
    if (t == NNRP_MSG_CLIENT_HELLO)
      FZ_CHECK(p.b.client_hello.auth.len == 3);
  }
  free(pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > MAX_INPUT)
    return 0;
  uint8_t *in = calloc(size ? size : 1, 1);
  FZ_CHECK(in != NULL);
  if (size)
    memcpy(in, data, size);
  static const uint8_t carriers[2] = {NNRP_MSG_CLIENT_HELLO,
                                      NNRP_MSG_SERVER_HELLO_ACK};
  for (int c = 0; c < 2; c++) {
    uint8_t t = carriers[c];
    nnrp_hello_exts s, l;
    nnrp_fault f = {1, 0, NULL, NULL};
    int rs = nnrp_ext_block_decode(t, &s, in, size, 0, &f);
    if (rs != 0)
      check_fault(rs, &f);
    f.err = 1;
    int rl = nnrp_ext_block_decode(t, &l, in, size, NNRP_WIRE_LENIENT, &f);
    if (rl != 0)
      check_fault(rl, &f);
    if (rs == 0) {
      FZ_CHECK(rl == 0);
      FZ_CHECK(same_exts(&s, &l));
      check_accepted(t, 0, &s, in, size);
    }
    if (rl == 0)
      check_accepted(t, NNRP_WIRE_LENIENT, &l, in, size);
    check_in_packet(t, in, size, rs, &s);
  }
  /* Not a hello: the encoder refuses. */
  uint8_t out[8];
  FZ_CHECK(nnrp_ext_block_encode(NNRP_MSG_PING, NULL, NULL, 0, out,
                                 sizeof out) == NNRP_ERR_INVALID_ARGUMENT);
  free(in);
  return 0;
}
