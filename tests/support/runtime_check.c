/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime_check.c - helpers shared by the runtime tests: descriptor count,
 * tensor submits, first tile, echo, 127.0.0.1 configs and a raw socket peer
 * (see runtime_check.h).
 */
#include "runtime_check.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int rc_open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  if (d == NULL)
    return -1;
  while (readdir(d) != NULL)
    n++;
  closedir(d);
  return n;
}

void rc_submit_meta(nnrp_submit *r, uint16_t n) {
  memset(r, 0, sizeof(*r));
  r->meta.src_width = (uint16_t)(32u * n);
  r->meta.src_height = 32;
  r->meta.tile_width = 32;
  r->meta.tile_height = 32;
  r->meta.loss_tolerance_policy = NNRP_LOSS_TOLERANCE_INHERIT;
}

void rc_tensor_submit(nnrp_submit *r, rc_tensor_frame *tf,
                      uint8_t *const *tile, size_t len, uint16_t n,
                      void *user_data) {
  if (n > RC_TILES_MAX)
    n = RC_TILES_MAX;
  for (uint16_t t = 0; t < n; t++) {
    tf->tiles[t].ptr = tile[t];
    tf->tiles[t].len = len;
    tf->ids[t] = t;
  }
  memset(&tf->section, 0, sizeof(tf->section));
  tf->section.role_id = 1;
  tf->section.dtype_id = NNRP_DTYPE_UINT8;
  tf->section.tiles = tf->tiles;
  memset(&tf->tensor, 0, sizeof(tf->tensor));
  tf->tensor.tile_index_mode = NNRP_TILE_INDEX_RAW_U16;
  tf->tensor.tile_ids = tf->ids;
  tf->tensor.tile_count = n;
  tf->tensor.sections = &tf->section;
  tf->tensor.section_count = 1;
  rc_submit_meta(r, n);
  r->body.tensor = &tf->tensor;
  r->user_data = user_data;
}

nnrp_bytes rc_first_tile(const nnrp_data_body *b) {
  nnrp_bytes none = {NULL, 0};
  if (b == NULL || !b->has_tensor)
    return none;
  nnrp_section_iter si;
  nnrp_section_view sv;
  nnrp_section_iter_init(&si, &b->tensor);
  if (!nnrp_section_iter_next(&si, &sv))
    return none;
  nnrp_tile_data_iter ti;
  nnrp_tile_data_iter_init(&ti, &sv);
  nnrp_bytes tile;
  return nnrp_tile_data_iter_next(&ti, &tile, NULL) ? tile : none;
}

int64_t rc_echo(nnrp_server_session *ss, const nnrp_received_submit *sub) {
  nnrp_section_data sections[2];
  nnrp_bytes tiles[8];
  uint8_t codecs[8];
  uint16_t ids[8];
  nnrp_body_storage st;
  memset(&st, 0, sizeof(st));
  st.sections = sections;
  st.sections_cap = 2;
  st.tiles = tiles;
  st.tiles_cap = 8;
  st.codecs = codecs;
  st.codecs_cap = 8;
  st.tile_ids = ids;
  st.tile_ids_cap = 8;
  nnrp_result r;
  memset(&r, 0, sizeof(r));
  if (nnrp_body_data_from_view(NNRP_MSG_FRAME_SUBMIT, &sub->packet->m,
                               sub->body, &r.body, &st) != 0)
    return NNRP_ERR_INTERNAL;
  r.final = 1;
  return nnrp_server_session_send_result(ss, sub->frame_id, &r);
}

void rc_server_config(nnrp_server_config *sc) {
  nnrp_server_config_default(sc);
  sc->host = "127.0.0.1";
}

void rc_client_config(nnrp_client_config *cc, uint16_t port) {
  nnrp_client_config_default(cc);
  cc->host = "127.0.0.1";
  cc->port = port;
}

int rc_connect_loopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int rc_write_output(int fd, nnrp_session *s, size_t limit) {
  nnrp_iov iov[64];
  size_t n = nnrp_session_pending_output(s, iov, 64), sent = 0;
  for (size_t i = 0; i < n && sent < limit; i++) {
    size_t len = iov[i].len < limit - sent ? iov[i].len : limit - sent;
    const uint8_t *p = iov[i].base;
    size_t off = 0;
    while (off < len) {
      ssize_t w = write(fd, p + off, len - off);
      if (w <= 0)
        return -1;
      off += (size_t)w;
    }
    sent += len;
  }
  (void)nnrp_session_output_consumed(s, sent, 0);
  return (int)sent;
}

/* Takes s's queued events; 1 (with *got set) at the first of type want. */
static int take_events(nnrp_session *s, nnrp_event_type want,
                       nnrp_event *got) {
  nnrp_event ev;
  while (nnrp_session_next_event(s, &ev) == 1)
    if (ev.type == want) {
      if (got != NULL)
        *got = ev;
      return 1;
    }
  return 0;
}

int rc_read_until(nnrp_runtime *rt, int fd, nnrp_session *s,
                  nnrp_event_type want, nnrp_event *got) {
  uint8_t buf[4096];
  int rounds = rt != NULL ? 400 : 200;
  for (int i = 0; i < rounds; i++) {
    if (take_events(s, want, got))
      return 1;
    if (rt != NULL)
      (void)nnrp_runtime_run_once(rt, 5);
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, rt != NULL ? 0 : 10) <= 0)
      continue;
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0)
      return 0;
    size_t off = 0;
    while (off < (size_t)n) {
      int64_t c = nnrp_session_recv(s, buf + off, (size_t)n - off, 0);
      if (c < 0)
        return 0;
      off += (size_t)c;
      if (take_events(s, want, got))
        return 1;
    }
  }
  return 0;
}

void rc_raw_peer_end(int fd, nnrp_session *raw, nnrp_server_session *ss) {
  if (fd >= 0)
    close(fd);
  nnrp_session_del(raw);
  nnrp_server_session_del(ss);
}
