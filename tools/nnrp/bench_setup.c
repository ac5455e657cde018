/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_setup.c - what `nnrp bench` does before the load (bench.h): dial
 * every session, put the frame's slot objects in each session's cache
 * (--cache, session.md §9.2; a session whose puts are REJECTED keeps
 * sending inline), and --cache-flood: pinned puts beyond the server's
 * quota, pipelined, their CACHE_ACKs counted from on_event. Also the
 * per-session flow counters (hints, pauses) taken before the close.
 */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "util.h"

/* user_data of the flood puts (their ACKs are counted in on_event). */
static char flood_tag;

void bench_on_event(nnrp_client_session *cs, const nnrp_event *ev, void *user) {
  bench_sess *bs = user;
  (void)cs;
  if (ev->type != NNRP_EV_CACHE_ACK || ev->user_data != &flood_tag ||
      ev->packet == NULL)
    return;
  bs->b->flood_acked++;
  if (ev->packet->m.cache_ack.status == NNRP_CACHE_ACK_REJECTED)
    bs->b->flood_rejected++;
}

void bench_take_flow_stats(bench *b, bench_sess *bs) {
  nnrp_client_flow_stats fs;
  memset(&fs, 0, sizeof(fs));
  if (bs->cs == NULL || bs->flow_taken ||
      nnrp_client_session_flow_stats(bs->cs, &fs) != 0)
    return;
  bs->flow_taken = 1;
  b->hints += fs.hints_received;
  b->pauses += fs.pauses_observed;
  b->drops_seen += fs.drops_received;
}

/* --cache: the slot objects in this session's cache, or inline frames. */
static int put_objects(bench *b, bench_sess *bs) {
  int rc = net_cache_put(bs->cs, &b->cache, (int)b->a.net.timeout_ms,
                         &b->cache_puts, &b->cache_rejected);
  if (rc < 0) {
    fprintf(stderr, "nnrp bench: session %u: put_cache: %s (%s)\n",
            (unsigned)bs->index, nnrp_err_name(rc), nnrp_strerror(rc));
    return -1;
  }
  bs->cached = rc == 1;
  if (!bs->cached)
    fprintf(stderr,
            "nnrp bench: session %u: cache objects REJECTED, its frames "
            "are sent inline\n",
            (unsigned)bs->index);
  return 0;
}

/* One flood put without waiting for its ACK; waits for room (at most 64
 * puts await their ACK) by running the loop. @return 0, -1. */
static int flood_put(bench *b, bench_sess *bs, uint32_t i) {
  nnrp_cache_put_req r;
  memset(&r, 0, sizeof(r));
  r.object_kind = NNRP_OBJECT_CAMERA_BLOCK;
  r.cache_namespace = NET_FLOOD_NAMESPACE;
  r.key_hi = bs->index;
  r.key_lo = i;
  r.data.ptr = b->flood_data;
  r.data.len = b->a.spec.bytes;
  r.flags = NNRP_CACHE_PUT_PINNED;
  r.user_data = &flood_tag;
  uint64_t give_up = nnrp_runtime_now() + b->a.net.timeout_ms * 1000000ull;
  for (;;) {
    int rc = nnrp_client_session_put_cache(bs->cs, &r, 0, NULL);
    if (rc == 0 || rc == NNRP_ERR_TIMEOUT) { /* sent; the ACK comes later */
      b->flood_sent++;
      b->cache_puts++;
      return 0;
    }
    if (rc != NNRP_ERR_WOULD_BLOCK || nnrp_runtime_now() > give_up) {
      fprintf(stderr, "nnrp bench: session %u: --cache-flood put %u: %s\n",
              (unsigned)bs->index, (unsigned)i, nnrp_err_name(rc));
      return -1;
    }
    nnrp_runtime_run_once(b->rt, 10);
  }
}

/* --cache-flood: N pinned puts per session, then every ACK. */
static int flood(bench *b) {
  b->flood_data = cli_xmalloc(b->a.spec.bytes);
  memset(b->flood_data, 0x5A, b->a.spec.bytes);
  for (uint32_t s = 0; s < b->a.sessions; s++)
    for (uint32_t i = 0; i < b->a.cache_flood; i++)
      if (flood_put(b, &b->ss[s], i) != 0)
        return -1;
  uint64_t give_up = nnrp_runtime_now() + b->a.net.timeout_ms * 1000000ull;
  while (b->flood_acked < b->flood_sent && nnrp_runtime_now() < give_up)
    nnrp_runtime_run(b->rt, 10);
  b->cache_rejected += b->flood_rejected;
  if (b->flood_acked < b->flood_sent) {
    fprintf(stderr, "nnrp bench: --cache-flood: %llu of %llu ACKs came\n",
            (unsigned long long)b->flood_acked,
            (unsigned long long)b->flood_sent);
    return -1;
  }
  return 0;
}

static void print_start(const bench *b) {
  const nnrp_server_hello_ack *ack =
      nnrp_client_session_server_hello(b->ss[0].cs);
  nnrp_bytes m = nnrp_client_session_model_name(b->ss[0].cs);
  printf("bench: %u session(s) x window %u to %s:%u (server window %u, model "
         "\"%.*s\"), ",
         (unsigned)b->a.sessions, (unsigned)b->a.window, b->a.net.host,
         (unsigned)b->a.net.port,
         ack ? (unsigned)ack->max_concurrent_frames : 0u, (int)m.len,
         m.ptr ? (const char *)m.ptr : "");
  if (b->a.duration_s)
    printf("frames for %u s", (unsigned)b->a.duration_s);
  else
    printf("%u frames", (unsigned)b->a.frames);
  printf(" of %zu payload bytes%s\n", b->f.payload,
         b->a.cache ? (b->a.cache_mixed ? ", slot objects by reference (MIXED)"
                                        : ", slot objects by reference")
                    : "");
  fflush(stdout);
}

int bench_setup(bench *b, nnrp_client_config *proto) {
  b->ss = cli_xcalloc(b->a.sessions, sizeof(*b->ss));
  for (uint32_t i = 0; i < b->a.sessions; i++) {
    bench_sess *bs = &b->ss[i];
    bs->b = b;
    bs->index = i;
    bs->quota = b->a.frames / b->a.sessions + (i < b->a.frames % b->a.sessions);
    nnrp_client_config cfg = *proto;
    cfg.user = bs;
    if (net_dial(b->rt, &b->a.net, "bench", &cfg, &bs->cs) != 0)
      return -1;
    if (b->a.cache && put_objects(b, bs) != 0)
      return -1;
  }
  if (b->a.cache_flood && flood(b) != 0)
    return -1;
  print_start(b);
  return 0;
}
