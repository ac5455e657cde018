/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_submit.c - `nnrp submit`: sends --frames demo frames one after the
 * other (nnrp_client_session_submit, then the remaining chunks of a
 * streamed frame with receive_result), prints one line per frame, and with
 * --dump / --verify shows or checks the result tiles and tokens against
 * what the server's model (upscale or echo) must return. docs/cli.md.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model.h"
#include "net_common.h"
#include "result_check.h"
#include "util.h"

typedef struct submit_args {
  net_opts net;
  uint32_t frames;
  net_frame_spec spec;
  int payload_given;
  int dump;
  int verify;
  int class_check;
  uint8_t budget_policy; /* --budget-policy: the submits' BudgetPolicy */
  uint8_t *tile;         /* --tile bytes (malloc'd) */
} submit_args;

/* Everything received for one frame. */
typedef struct frame_sum {
  uint32_t pushes, sections, tiles, typed, chunks;
  uint64_t bytes;
  uint16_t status;
  uint8_t klass;
  uint8_t *text; /* token chunks, concatenated */
  size_t text_len, text_cap;
  uint32_t tiles_ok;     /* tiles equal to the expected bytes */
  nnrp_result_push fin;  /* metadata of the final push */
  const char *tile_why;  /* check_result_tiles() of the final push */
  const char *class_why; /* check_result_class() of the final push */
  char why[96];          /* first verification failure */
} frame_sum;

typedef struct submit_ctx {
  submit_args a;
  net_frame f;
  int model;       /* model_kind of the server, -1 unknown */
  check_expect ex; /* expected result tiles (verify, dump) */
  int failed;
} submit_ctx;

void cli_usage_submit(FILE *out) {
  fputs("usage: nnrp submit [--host H] --port P [--frames N] [--payload "
        "BYTES]\n"
        "                   [--kind tensor|token|mixed|audio|video|event|tool|"
        "opaque]\n"
        "                   [--text STR] [--tile HEX [--tile-size WxH]]\n"
        "                   [--tiles N] [--budget-policy P] [--class-check]\n"
        "                   [--dump] [--verify] [--auth-token T] "
        "[--lenient]\n"
        "\n"
        "Sends frames one after the other and prints one line per frame:\n"
        "id, outcome and class, sections/tiles, typed payloads, token chunks,\n"
        "payload bytes received, round-trip time.\n"
        "  --frames N        frames to send (default 1)\n"
        "  --payload BYTES   payload size (default 1024; tensor: one FP16 "
        "tile)\n"
        "  --kind K          payload kind (default tensor); token and mixed\n"
        "                    frames are streamed (several RESULT_PUSH)\n"
        "  --text STR        token text (default: a short sentence)\n"
        "  --tile HEX        send these FP16 tile bytes (little-endian)\n"
        "  --tile-size WxH   shape of --tile (default: a square)\n"
        "  --tiles N         N identical tiles per frame (default 1)\n"
        "  --budget-policy P BudgetPolicy of the submits: partial, stale,\n"
        "                    degraded, drop, any or none, comma-separated\n"
        "  --class-check     print the class fields of each result and check\n"
        "                    them against the budget policy (session.md "
        "§7.7)\n"
        "  --dump            print the result tiles as FP16 hex values\n"
        "  --verify          check the results against the server's model\n"
        "                    (upscale: bilinear 2x; echo: unchanged)\n",
        out);
  net_opts_usage(out);
}

static int parse_size(const char *v, uint32_t *w, uint32_t *h) {
  unsigned long a = 0, b = 0;
  char x = 0, end = 0;
  if (v == NULL || sscanf(v, "%lu%c%lu%c", &a, &x, &b, &end) != 3 || x != 'x' ||
      a == 0 || b == 0 || a > 65535 || b > 65535)
    return -1;
  *w = (uint32_t)a;
  *h = (uint32_t)b;
  return 0;
}

/* Options of submit itself; 1 consumed, 0 unknown, or -(exit status+1). */
static int parse_own(submit_args *a, int argc, char **argv, int *i) {
  const char *v = NULL;
  uint64_t n = 0;
  size_t len = 0;
  if (cli_opt(argc, argv, i, "--frames", &v)) {
    if (cli_parse_num(v, 100000000, &n) != 0 || n == 0)
      return -1 - cli_usage_fail("submit", "--frames needs 1..100000000", v);
    a->frames = (uint32_t)n;
  } else if (cli_opt(argc, argv, i, "--payload", &v)) {
    if (cli_parse_num(v, 32u << 20, &n) != 0 || n == 0)
      return -1 - cli_usage_fail("submit", "--payload needs 1..33554432", v);
    a->spec.bytes = (size_t)n;
    a->payload_given = 1;
  } else if (cli_opt(argc, argv, i, "--kind", &v)) {
    if (net_kind_parse(v, &a->spec.kind) != 0)
      return -1 - cli_usage_fail("submit", "unknown --kind", v);
  } else if (cli_opt(argc, argv, i, "--text", &v)) {
    if (v == NULL)
      return -1 - cli_usage_fail("submit", "--text needs a value", NULL);
    a->spec.text = v;
  } else if (cli_opt(argc, argv, i, "--tile", &v)) {
    free(a->tile);
    a->tile = NULL;
    if (v == NULL || cli_hex_decode(v, &a->tile, &len) != 0 || len == 0)
      return -1 - cli_usage_fail("submit", "--tile needs FP16 hex bytes", v);
    a->spec.tile = a->tile;
    a->spec.tile_len = len;
  } else if (cli_opt(argc, argv, i, "--tile-size", &v)) {
    if (parse_size(v, &a->spec.tile_w, &a->spec.tile_h) != 0)
      return -1 - cli_usage_fail("submit", "--tile-size needs WxH", v);
  } else if (cli_opt(argc, argv, i, "--tiles", &v)) {
    if (cli_parse_num(v, 4096, &n) != 0 || n == 0)
      return -1 - cli_usage_fail("submit", "--tiles needs 1..4096", v);
    a->spec.tiles = (uint32_t)n;
  } else if (cli_opt(argc, argv, i, "--budget-policy", &v)) {
    if (net_budget_parse(v, &a->budget_policy) != 0)
      return -1 - cli_usage_fail("submit",
                                 "--budget-policy needs partial, stale, "
                                 "degraded, drop, any or none",
                                 v);
  } else if (strcmp(argv[*i], "--class-check") == 0) {
    a->class_check = 1;
  } else if (strcmp(argv[*i], "--dump") == 0) {
    a->dump = 1;
  } else if (strcmp(argv[*i], "--verify") == 0) {
    a->verify = 1;
  } else {
    return 0;
  }
  return 1;
}

/* Returns -1 to continue, or an exit status. */
static int parse_args(int argc, char **argv, submit_args *a) {
  memset(a, 0, sizeof(*a));
  net_opts_default(&a->net);
  a->frames = 1;
  a->spec.bytes = 1024;
  for (int i = 0; i < argc; i++) {
    int r = net_opt_parse(&a->net, "submit", argc, argv, &i);
    if (r < 0)
      return CLI_EXIT_USAGE;
    if (r > 0)
      continue;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      cli_usage_submit(stdout);
      return CLI_EXIT_OK;
    }
    r = parse_own(a, argc, argv, &i);
    if (r < 0)
      return -r - 1;
    if (r == 0)
      return cli_usage_fail("submit", "unknown argument", argv[i]);
  }
  if (!a->net.port_given)
    return cli_usage_fail("submit", "--port is required", NULL);
  if (a->spec.tile && a->spec.kind != NET_KIND_TENSOR &&
      a->spec.kind != NET_KIND_MIXED)
    return cli_usage_fail("submit", "--tile needs --kind tensor or mixed",
                          NULL);
  if (!a->payload_given && !a->spec.text &&
      (a->spec.kind == NET_KIND_TOKEN || a->spec.kind == NET_KIND_MIXED))
    a->spec.text = "hello from nnrp: every word comes back as its own chunk";
  return -1;
}

/* ---- checking and printing results -------------------------------------- */

static void fail(frame_sum *s, const char *why) {
  if (s->why[0] == '\0')
    snprintf(s->why, sizeof(s->why), "%s", why);
}

static void dump_tile(const submit_ctx *c, uint16_t role, uint32_t idx,
                      nnrp_bytes t) {
  size_t n = t.len / 2;
  uint32_t w = c->ex.full_w && t.len == c->ex.full_len ? c->ex.full_w : 16;
  printf("  section %u tile %u: %zu bytes, fp16 values (row width %u):\n",
         (unsigned)role, (unsigned)idx, t.len, (unsigned)w);
  for (size_t i = 0; i < n && i < 4096; i++) {
    uint16_t v = (uint16_t)(t.ptr[2 * i] | t.ptr[2 * i + 1] << 8);
    printf("%s%04x", i % w == 0 ? "    " : " ", (unsigned)v);
    if (i % w == w - 1 || i + 1 == n)
      printf("\n");
  }
}

static void take_tensor(submit_ctx *c, frame_sum *s,
                        const nnrp_tensor_view *tv) {
  nnrp_section_iter it;
  nnrp_section_view sv;
  nnrp_section_iter_init(&it, tv);
  while (nnrp_section_iter_next(&it, &sv)) {
    nnrp_tile_data_iter ti;
    nnrp_bytes t;
    s->sections++;
    nnrp_tile_data_iter_init(&ti, &sv);
    for (uint32_t j = 0; nnrp_tile_data_iter_next(&ti, &t, NULL); j++) {
      s->tiles++;
      s->bytes += t.len;
      if (c->a.dump)
        dump_tile(c, sv.desc.role_id, j, t);
      if (c->ex.full && t.len == c->ex.full_len &&
          memcmp(t.ptr, c->ex.full, t.len) == 0)
        s->tiles_ok++;
    }
  }
}

static void take_typed(submit_ctx *c, frame_sum *s, const nnrp_data_body *b) {
  for (uint32_t i = 0; i < b->typed_count; i++) {
    nnrp_typed_frame tf;
    if (nnrp_data_body_typed(b, i, &tf) != 0)
      continue;
    s->typed++;
    s->bytes += tf.data.len;
    if (tf.payload_kind != NNRP_PAYLOAD_KIND_TOKEN_CHUNK) {
      if (c->a.verify &&
          (tf.payload_kind != c->f.typed.payload_kind ||
           tf.data.len != c->f.typed.data.len ||
           memcmp(tf.data.ptr, c->f.typed.data.ptr, tf.data.len) != 0))
        fail(s, "typed payload differs from the one sent");
      continue;
    }
    s->chunks++;
    if (s->text_len + tf.data.len > s->text_cap) {
      s->text_cap = (s->text_len + tf.data.len) * 2;
      s->text = realloc(s->text, s->text_cap ? s->text_cap : 1);
      if (s->text == NULL) {
        fputs("nnrp: out of memory\n", stderr);
        exit(CLI_EXIT_INVALID);
      }
    }
    if (tf.data.len)
      memcpy(s->text + s->text_len, tf.data.ptr, tf.data.len);
    s->text_len += tf.data.len;
  }
}

static void take_push(submit_ctx *c, frame_sum *s,
                      const nnrp_client_result *r) {
  s->pushes++;
  s->status = r->meta->status_code;
  s->klass = r->meta->result_class;
  if (r->body->has_tensor)
    take_tensor(c, s, &r->body->tensor);
  take_typed(c, s, r->body);
  if (!r->final)
    return;
  s->fin = *r->meta;
  if (c->f.has_tensor)
    s->tile_why = check_result_tiles(&c->ex, r->meta, r->body);
  s->class_why = check_result_class(r->meta, c->a.budget_policy, r->frame_id);
}

/* Checks a frame's results against the model (--verify). */
static void verify(const submit_ctx *c, frame_sum *s) {
  if (c->model < 0)
    fail(s, "the server's model is not upscale or echo");
  if (c->f.has_tensor && s->tile_why != NULL)
    fail(s, s->tile_why);
  if (c->f.has_tensor && s->status != MODEL_STATUS_OK)
    fail(s, "status_code is not 0");
  if (c->f.typed.payload_kind == NNRP_PAYLOAD_KIND_TOKEN_CHUNK) {
    nnrp_bytes ch[MODEL_MAX_CHUNKS];
    size_t want =
        c->model == MODEL_ECHO
            ? 1
            : model_token_chunks(c->f.typed.data, ch, MODEL_MAX_CHUNKS);
    if (s->chunks != want)
      fail(s, "unexpected token chunk count");
    if (s->text_len != c->f.typed.data.len ||
        (s->text_len && memcmp(s->text, c->f.typed.data.ptr, s->text_len)))
      fail(s, "token text differs from the one sent");
  }
}

static int printable(const frame_sum *s) {
  for (size_t i = 0; i < s->text_len; i++)
    if (s->text[i] < 0x20 || s->text[i] > 0x7E)
      return 0;
  return 1;
}

static void print_push(const submit_ctx *c, uint32_t id, const frame_sum *s,
                       double ms) {
  printf("frame %u: %s status=%u sections=%u tiles=%u typed=%u chunks=%u "
         "pushes=%u bytes=%llu rtt=%.3fms",
         (unsigned)id, net_class_name(s->klass), (unsigned)s->status,
         (unsigned)s->sections, (unsigned)s->tiles, (unsigned)s->typed,
         (unsigned)s->chunks, (unsigned)s->pushes, (unsigned long long)s->bytes,
         ms);
  if (c->f.has_tensor && c->model == MODEL_UPSCALE && s->tiles_ok)
    printf(" upscaled=%ux%u->%ux%u", (unsigned)c->f.w, (unsigned)c->f.h,
           (unsigned)(2 * c->f.w), (unsigned)(2 * c->f.h));
  if (s->chunks > 0 && s->text_len <= 200 && printable(s))
    printf(" tokens=\"%.*s\"", (int)s->text_len,
           s->text ? (const char *)s->text : "");
  if (c->a.class_check)
    printf(
        " flags=0x%x applied=0x%x covered=%u dropped=%u reused=%u "
        "class-check=%s%s",
        (unsigned)s->fin.result_flags, (unsigned)s->fin.applied_budget_policy,
        (unsigned)s->fin.covered_tile_count,
        (unsigned)s->fin.dropped_tile_count, (unsigned)s->fin.reused_frame_id,
        s->class_why ? "FAILED: " : "ok", s->class_why ? s->class_why : "");
  if (c->a.verify)
    printf(" verify=%s%s", s->why[0] ? "FAILED: " : "ok", s->why);
  printf("\n");
}

/* ---- the frames --------------------------------------------------------- */

/* Takes results of frame id until its final one; prints the frame line. */
static void finish_frame(submit_ctx *c, nnrp_client_session *cs, uint32_t id,
                         nnrp_client_result *r, uint64_t t0) {
  frame_sum s;
  memset(&s, 0, sizeof(s));
  int rc = 0;
  while (r->kind == NNRP_RESULT_PUSH) {
    take_push(c, &s, r);
    if (r->final)
      break;
    nnrp_client_result_free(r);
    r = NULL;
    rc = nnrp_client_session_receive_result(cs, id, (int)c->a.net.timeout_ms,
                                            &r);
    if (rc != 0)
      break;
  }
  double ms = (double)((r ? r->received_at : nnrp_runtime_now()) - t0) / 1e6;
  if (rc != 0) {
    printf("frame %u: %s after %u push(es) rtt=%.3fms\n", (unsigned)id,
           nnrp_err_name(rc), (unsigned)s.pushes, ms);
    (void)nnrp_client_session_discard_frame(cs, id);
    c->failed = 1;
  } else if (r->kind == NNRP_RESULT_PUSH) {
    if (c->a.verify)
      verify(c, &s);
    c->failed |= s.why[0] != '\0' || (c->a.class_check && s.class_why);
    print_push(c, id, &s, ms);
  } else {
    char why[300] = "";
    if (r->kind == NNRP_RESULT_FAILED)
      net_record_text(&r->error, why, sizeof(why));
    printf("frame %u: %s%s%s rtt=%.3fms\n", (unsigned)id,
           r->kind == NNRP_RESULT_DROP ? "DROPPED" : "FAILED",
           why[0] ? " " : "", why, ms);
    c->failed = 1;
  }
  nnrp_client_result_free(r);
  free(s.text);
}

static void send_frames(submit_ctx *c, nnrp_client_session *cs) {
  for (uint32_t i = 0; i < c->a.frames; i++) {
    nnrp_client_result *r = NULL;
    uint32_t id = 0;
    uint64_t t0 = nnrp_runtime_now();
    int rc = nnrp_client_session_submit(cs, &c->f.req, (int)c->a.net.timeout_ms,
                                        &id, &r);
    if (rc != 0) {
      printf("frame %u: %s (%s)\n", (unsigned)id, nnrp_err_name(rc),
             nnrp_strerror(rc));
      c->failed = 1;
      if (rc != NNRP_ERR_TIMEOUT)
        return; /* nothing was sent, the session cannot go on */
      (void)nnrp_client_session_discard_frame(cs, id);
      continue;
    }
    finish_frame(c, cs, id, r, t0);
    fflush(stdout);
  }
}

static void print_session(const submit_ctx *c, nnrp_client_session *cs) {
  nnrp_bytes m = nnrp_client_session_model_name(cs);
  const nnrp_server_hello_ack *ack = nnrp_client_session_server_hello(cs);
  printf("connected to %s:%u, session %08x, model \"%.*s\", window %u\n",
         c->a.net.host, (unsigned)c->a.net.port,
         (unsigned)nnrp_client_session_id(cs), (int)m.len,
         m.ptr ? (const char *)m.ptr : "",
         ack ? (unsigned)ack->max_concurrent_frames : 0u);
}

int cli_cmd_submit(int argc, char **argv) {
  submit_ctx c;
  memset(&c, 0, sizeof(c));
  int st = parse_args(argc, argv, &c.a);
  if (st >= 0 || net_frame_init(&c.f, &c.a.spec) != 0) {
    free(c.a.tile);
    return st >= 0 ? st : CLI_EXIT_USAGE;
  }
  c.f.req.meta.budget_policy = c.a.budget_policy;
  nnrp_runtime *rt = NULL;
  nnrp_client_session *cs = NULL;
  st = CLI_EXIT_INVALID;
  if (nnrp_runtime_new(&rt, NULL) == 0 &&
      net_dial(rt, &c.a.net, "submit", NULL, &cs) == 0) {
    nnrp_bytes m = nnrp_client_session_model_name(cs);
    c.model = m.ptr ? model_kind_from_name((const char *)m.ptr, m.len) : -1;
    print_session(&c, cs);
    check_expect_init(&c.ex, c.model, &c.f);
    send_frames(&c, cs);
    (void)nnrp_client_session_close(cs, (int)c.a.net.timeout_ms);
    nnrp_client_session_del(cs);
    st = c.failed ? CLI_EXIT_INVALID : CLI_EXIT_OK;
  }
  nnrp_runtime_del(rt);
  check_expect_free(&c.ex);
  free(c.a.tile);
  net_frame_free(&c.f);
  return st;
}
