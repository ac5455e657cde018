/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client.c - a minimal NNRP/1 client on the libnnrp runtime: connects,
 * pipelines N small tensor frames (submit_nowait with the server's window
 * full, receive_result as results arrive), pings, and closes.
 *
 *   client [host [port [frames]]]   default 127.0.0.1 4434 10
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nnrp/nnrp_runtime.h>

int main(int argc, char **argv) {
  const char *host = argc > 1 ? argv[1] : "127.0.0.1";
  uint16_t port = (uint16_t)(argc > 2 ? atoi(argv[2]) : 4434);
  unsigned frames = argc > 3 ? (unsigned)atoi(argv[3]) : 10;
  nnrp_runtime *rt;
  if (nnrp_runtime_new(&rt, NULL) != 0)
    return 1;
  nnrp_client_config cfg;
  nnrp_client_config_default(&cfg);
  cfg.host = host;
  cfg.port = port;
  nnrp_client_session *cs;
  int rc = nnrp_dial_client(rt, NULL, NULL, &cfg, &cs);
  if (rc != 0) {
    int os_err = 0;
    nnrp_runtime_last_error(rt, NULL, &os_err);
    fprintf(stderr, "connect %s:%u: %s%s%s\n", host, (unsigned)port,
            nnrp_strerror(rc), os_err ? " / " : "",
            os_err ? strerror(-os_err) : "");
    nnrp_runtime_del(rt);
    return 1;
  }
  nnrp_bytes model = nnrp_client_session_model_name(cs);
  printf("session %u, model \"%.*s\", window %u\n",
         (unsigned)nnrp_client_session_id(cs), (int)model.len,
         model.ptr ? (const char *)model.ptr : "",
         (unsigned)nnrp_client_session_server_hello(cs)->max_concurrent_frames);

  /* One 32x32 tile of 1024 bytes, sent by reference (never copied). */
  static uint8_t pixels[1024];
  for (size_t i = 0; i < sizeof(pixels); i++)
    pixels[i] = (uint8_t)i;
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
  req.meta.src_width = req.meta.tile_width = 32;
  req.meta.src_height = req.meta.tile_height = 32;
  req.meta.loss_tolerance_policy = NNRP_LOSS_TOLERANCE_INHERIT;
  req.body.tensor = &tensor;

  unsigned sent = 0, done = 0, ok = 0;
  uint64_t t0 = nnrp_runtime_now();
  while (done < frames) {
    /* Fill the window without waiting, then wait for one result. */
    while (sent < frames &&
           nnrp_client_session_submit_nowait(cs, &req, 0, NULL) == 0)
      sent++;
    nnrp_client_result *r;
    rc = nnrp_client_session_receive_result(cs, 0, 5000, &r);
    if (rc != 0) {
      fprintf(stderr, "receive_result: %s\n", nnrp_strerror(rc));
      break;
    }
    done++;
    ok += r->kind == NNRP_RESULT_PUSH;
    nnrp_client_result_free(r);
  }
  double ms = (double)(nnrp_runtime_now() - t0) / 1e6;
  printf("%u frames, %u results, %u dropped/failed, %.1f ms\n", sent, ok,
         done - ok, ms);
  uint64_t rtt = 0;
  if (nnrp_client_session_ping(cs, 1000, &rtt) == 0)
    printf("ping %.3f ms\n", (double)rtt / 1e6);
  rc = nnrp_client_session_close(cs, 2000);
  nnrp_client_session_del(cs);
  nnrp_runtime_del(rt);
  return done == frames && ok == frames ? 0 : 1;
}
