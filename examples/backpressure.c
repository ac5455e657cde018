/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backpressure.c - the seed's "responding to backpressure" pattern in C
 * (session.md §8.6): read RESULT_HINTs as a stream; on SATURATED pause
 * submitting, on STEADY or NONE resume. Drops (RESULT_DROP) are explicit
 * results, never silent. With --auto the library does the same by itself
 * (nnrp_client_session_set_auto_pause).
 *
 *   backpressure [host [port [frames [--auto]]]]   default 127.0.0.1 4434 200
 *
 * Try it against a slow server: nnrp serve --delay-ms 5 --max-concurrent 4
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nnrp/nnrp_runtime.h>

static const char *const state_names[] = {"NONE", "STEADY", "ELEVATED",
                                          "SATURATED"};

/* Handles every queued hint; returns the number that changed the pause. */
static unsigned follow_hints(nnrp_client_session *cs, int *paused) {
  nnrp_result_hint h;
  uint32_t frame;
  unsigned changes = 0;
  while (nnrp_client_session_next_hint(cs, 0, &h, &frame) == 0) {
    if (h.congestion_state == NNRP_CONGESTION_SATURATED && !*paused) {
      nnrp_client_session_pause_submit(cs);
      *paused = 1;
      changes++;
    } else if (h.congestion_state <= NNRP_CONGESTION_STEADY && *paused) {
      nnrp_client_session_resume_submit(cs);
      *paused = 0;
      changes++;
    }
    if (h.reason != NNRP_HINT_REASON_NONE)
      printf("hint for frame %u: %s, reason %u\n", (unsigned)frame,
             h.congestion_state < 4 ? state_names[h.congestion_state] : "?",
             (unsigned)h.reason);
  }
  return changes;
}

int main(int argc, char **argv) {
  const char *host = argc > 1 ? argv[1] : "127.0.0.1";
  uint16_t port = (uint16_t)(argc > 2 ? atoi(argv[2]) : 4434);
  unsigned frames = argc > 3 ? (unsigned)atoi(argv[3]) : 200;
  int automatic = argc > 4 && strcmp(argv[4], "--auto") == 0;
  nnrp_runtime *rt;
  if (nnrp_runtime_new(&rt, NULL) != 0)
    return 1;
  nnrp_client_config cfg;
  nnrp_client_config_default(&cfg);
  cfg.host = host;
  cfg.port = port;
  cfg.auto_pause = (uint8_t)automatic;
  nnrp_client_session *cs;
  int rc = nnrp_dial_client(rt, NULL, NULL, &cfg, &cs);
  if (rc != 0) {
    fprintf(stderr, "connect %s:%u: %s\n", host, (unsigned)port,
            nnrp_strerror(rc));
    nnrp_runtime_del(rt);
    return 1;
  }
  static uint8_t pixels[256];
  nnrp_bytes tile = {pixels, sizeof(pixels)};
  uint16_t tile_id = 0;
  nnrp_section_data section = {
      .role_id = 1, .dtype_id = NNRP_DTYPE_UINT8, .tiles = &tile};
  nnrp_tensor_data tensor = {.tile_index_mode = NNRP_TILE_INDEX_RAW_U16,
                             .tile_ids = &tile_id,
                             .tile_count = 1,
                             .sections = &section,
                             .section_count = 1};
  nnrp_submit req;
  memset(&req, 0, sizeof(req));
  req.meta.src_width = req.meta.tile_width = 16;
  req.meta.src_height = req.meta.tile_height = 16;
  req.meta.loss_tolerance_policy = NNRP_LOSS_TOLERANCE_INHERIT;
  req.meta.budget_policy = NNRP_BUDGET_ALLOW_DROP; /* may be dropped early */
  req.body.tensor = &tensor;

  unsigned sent = 0, done = 0, results = 0, drops = 0, pauses = 0;
  int paused = 0;
  while (done < frames) {
    if (!automatic)
      pauses += follow_hints(cs, &paused);
    /* Submit while the window, the credits and our own pause allow it. */
    while (sent < frames &&
           nnrp_client_session_submit_nowait(cs, &req, 0, NULL) == 0)
      sent++;
    nnrp_client_result *r;
    rc = nnrp_client_session_receive_result(cs, 0, 100, &r);
    if (rc == NNRP_ERR_TIMEOUT)
      continue; /* paused with nothing in flight: hints will resume us */
    if (rc != 0) {
      fprintf(stderr, "receive_result: %s\n", nnrp_strerror(rc));
      break;
    }
    done++;
    results += r->kind == NNRP_RESULT_PUSH;
    drops += r->kind == NNRP_RESULT_DROP; /* explicit, counted */
    nnrp_client_result_free(r);
  }
  printf("%u frames: %u results, %u drops, %u pause/resume changes%s\n", done,
         results, drops, pauses, automatic ? " (automatic)" : "");
  nnrp_client_session_close(cs, 2000);
  nnrp_client_session_del(cs);
  nnrp_runtime_del(rt);
  return done == frames ? 0 : 1;
}
