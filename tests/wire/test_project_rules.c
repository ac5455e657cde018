/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_project_rules.c - the project rules [P] of docs/wire-notes.md that
 * no other test file owns: tile_index_bytes must be 0 when a composed
 * FRAME_SUBMIT or RESULT_PUSH carries no tile-index block at all.
 */
#include <string.h>

#include "harness.h"
#include <nnrp/nnrp_wire.h>

static const uint8_t cam[8] = "camera!!";
static const uint8_t tok[3] = {'t', 'o', 'k'};

/* A composed packet with the TENSOR bit, a camera, no tiles, one token
 * frame; then tile_index_bytes patched at meta_off. */
static size_t build(uint8_t msg, uint8_t *buf, size_t cap) {
  nnrp_tensor_data t;
  memset(&t, 0, sizeof(t));
  t.camera.ptr = cam;
  t.camera.len = sizeof(cam);
  nnrp_typed_frame tf;
  nnrp_token_chunk_frame(&tf, (nnrp_bytes){tok, sizeof(tok)}, 0);
  nnrp_body_data b;
  memset(&b, 0, sizeof(b));
  b.tensor = &t;
  b.typed = &tf;
  b.typed_count = 1;
  nnrp_header h;
  nnrp_header_init(&h, msg);
  h.session_id = 7;
  h.frame_id = 1;
  nnrp_out out;
  nnrp_out_init(&out, buf, cap, NULL, 0);
  nnrp_fault f;
  int rc;
  if (msg == NNRP_MSG_FRAME_SUBMIT) {
    nnrp_frame_submit m;
    memset(&m, 0, sizeof(m));
    m.src_width = m.src_height = m.tile_width = m.tile_height = 32;
    m.loss_tolerance_policy = NNRP_LOSS_TOLERANCE_INHERIT;
    rc = nnrp_build_frame_submit(&out, &h, &m, &b, &f);
  } else {
    nnrp_result_push m;
    memset(&m, 0, sizeof(m));
    rc = nnrp_build_result_push(&out, &h, &m, &b, &f);
  }
  return rc == 0 ? out.scratch_len : 0;
}

static void check(uint8_t msg, size_t meta_off, const char *rule) {
  uint8_t buf[1024];
  size_t n = build(msg, buf, sizeof(buf));
  if (!CHECK(n > 0))
    return;
  nnrp_packet p;
  nnrp_fault f;
  CHECK_EQ_INT(nnrp_packet_decode(&p, buf, n, NULL, &f), 0);
  buf[NNRP_HEADER_LEN + meta_off] = 4; /* tile_index_bytes = 4 */
  CHECK_EQ_INT(nnrp_packet_decode(&p, buf, n, NULL, &f),
               NNRP_ERR_MALFORMED_BODY);
  CHECK_EQ_STR(f.field, "tile_index_bytes");
  CHECK_EQ_STR(f.rule, rule);
}

TEST(submit_without_tile_index_block_has_no_length) {
  check(NNRP_MSG_FRAME_SUBMIT, 32, "wire.md §9.6 F9-F11 [P]");
}

TEST(result_without_tile_index_block_has_no_length) {
  check(NNRP_MSG_RESULT_PUSH, 24, "wire.md §9.7 P3 [P]");
}

int main(void) {
  RUN(submit_without_tile_index_block_has_no_length);
  RUN(result_without_tile_index_block_has_no_length);
  TEST_MAIN_END();
}
