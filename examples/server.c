/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server.c - a minimal NNRP/1 echo server on the libnnrp runtime: every
 * FRAME_SUBMIT is answered with a RESULT_PUSH carrying the same tensor body,
 * sent straight from the received copy (no payload copy on the way out).
 *
 *   server [port [seconds]]      default 4434, run until Ctrl-C
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nnrp/nnrp_runtime.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

/* Answer one submit: its body back as the result (tiles referenced). */
static void on_submit(nnrp_server_session *ss, const nnrp_received_submit *sub,
                      void *user) {
  unsigned long *answered = user;
  nnrp_section_data sections[16];
  nnrp_bytes tiles[256];
  uint8_t codecs[256];
  uint16_t ids[256];
  nnrp_typed_frame typed[16];
  nnrp_body_storage st;
  memset(&st, 0, sizeof(st));
  st.sections = sections;
  st.sections_cap = 16;
  st.tiles = tiles;
  st.tiles_cap = 256;
  st.codecs = codecs;
  st.codecs_cap = 256;
  st.tile_ids = ids;
  st.tile_ids_cap = 256;
  st.typed = typed;
  st.typed_cap = 16;
  nnrp_result r;
  memset(&r, 0, sizeof(r));
  r.final = 1;
  if (nnrp_body_data_from_view(NNRP_MSG_FRAME_SUBMIT, &sub->packet->m,
                               sub->body, &r.body, &st) != 0 ||
      nnrp_server_session_send_result(ss, sub->frame_id, &r) < 0) {
    /* Too big for this example's arrays, or refused: drop it, never stall. */
    (void)nnrp_server_session_send_result_drop(ss, sub->frame_id, 0);
    return;
  }
  (*answered)++;
}

/* Sessions belong to us (on_session); free each one once it is closed. */
static void on_event(nnrp_server_session *ss, const nnrp_event *ev,
                     void *user) {
  (void)user;
  if (ev->type == NNRP_EV_CLOSED) {
    printf("session %u closed: %s\n", (unsigned)nnrp_server_session_id(ss),
           ev->error.lib_err ? nnrp_strerror(ev->error.lib_err) : "clean");
    nnrp_server_session_del(ss);
  }
}

static void on_session(nnrp_server *srv, nnrp_server_session *ss, void *user) {
  (void)srv;
  (void)user;
  printf("session %u open\n", (unsigned)nnrp_server_session_id(ss));
}

int main(int argc, char **argv) {
  uint16_t port = (uint16_t)(argc > 1 ? atoi(argv[1]) : 4434);
  int seconds = argc > 2 ? atoi(argv[2]) : -1;
  nnrp_runtime *rt;
  if (nnrp_runtime_new(&rt, NULL) != 0)
    return 1;
  nnrp_server_profile profile;
  nnrp_server_profile_default(&profile);
  profile.max_concurrent_frames = 16;
  profile.model_name.ptr = (const uint8_t *)"echo";
  profile.model_name.len = 4;
  unsigned long answered = 0;
  nnrp_server_config cfg;
  nnrp_server_config_default(&cfg);
  cfg.port = port;
  cfg.on_session = on_session;
  cfg.on_submit = on_submit;
  cfg.on_event = on_event;
  cfg.user = &answered;
  nnrp_server *srv;
  int rc = nnrp_serve_tcp(rt, &profile, &cfg, &srv);
  if (rc != 0) {
    int os_err = 0;
    nnrp_runtime_last_error(rt, NULL, &os_err);
    fprintf(stderr, "listen: %s (%s)\n", nnrp_strerror(rc), strerror(-os_err));
    nnrp_runtime_del(rt);
    return 1;
  }
  printf("listening on port %u\n", (unsigned)nnrp_server_port(srv));
  fflush(stdout);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  /* Run in slices so that the signal flag is seen. */
  for (int ms = 0; !stop && (seconds < 0 || ms < seconds * 1000); ms += 100)
    nnrp_runtime_run(rt, 100);
  printf("answered %lu frames\n", answered);
  nnrp_server_close(srv);
  nnrp_runtime_del(rt);
  return 0;
}
