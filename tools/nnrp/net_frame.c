/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net_frame.c - the demo frames `nnrp submit` and `nnrp bench` send
 * (net_common.h): FP16 luma tiles (legacy tensor body), a TOKEN_CHUNK of
 * text, both (composed body), or one typed payload of another kind; and
 * the --budget-policy names (session.md §7.7).
 */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "net_common.h"
#include "util.h"

static const struct {
  const char *name;
  net_kind kind;
  uint8_t payload_kind;
} kinds[] = {
    {"tensor", NET_KIND_TENSOR, NNRP_PAYLOAD_KIND_TENSOR},
    {"token", NET_KIND_TOKEN, NNRP_PAYLOAD_KIND_TOKEN_CHUNK},
    {"mixed", NET_KIND_MIXED, NNRP_PAYLOAD_KIND_TOKEN_CHUNK},
    {"audio", NET_KIND_AUDIO, NNRP_PAYLOAD_KIND_AUDIO_CHUNK},
    {"video", NET_KIND_VIDEO, NNRP_PAYLOAD_KIND_VIDEO_CHUNK},
    {"event", NET_KIND_EVENT, NNRP_PAYLOAD_KIND_STRUCTURED_EVENT},
    {"tool", NET_KIND_TOOL, NNRP_PAYLOAD_KIND_TOOL_DELTA},
    {"opaque", NET_KIND_OPAQUE, NNRP_PAYLOAD_KIND_OPAQUE_BYTES},
};

int net_kind_parse(const char *s, net_kind *out) {
  for (size_t i = 0; s != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
    if (strcmp(s, kinds[i].name) == 0) {
      *out = kinds[i].kind;
      return 0;
    }
  return -1;
}

/* w x h = n elements with w >= h, h the largest divisor <= sqrt(n), both
 * u16; n shrinks until such a shape exists (large primes). */
static uint32_t tile_shape(uint32_t n, uint32_t *w, uint32_t *h) {
  for (; n > 0; n--) {
    uint32_t s = 1;
    while ((uint64_t)(s + 1) * (s + 1) <= n)
      s++;
    while (n % s != 0)
      s--;
    if (n / s <= UINT16_MAX) {
      *w = n / s;
      *h = s;
      return n;
    }
  }
  *w = *h = 1;
  return 1;
}

/* A deterministic FP16 ramp in [0, 1). */
static void fill_ramp(uint8_t *p, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    uint16_t v = fp16_from_float((float)((i * 7u) % 1024u) / 1024.0f);
    p[2u * i] = (uint8_t)(v & 0xFFu);
    p[2u * i + 1u] = (uint8_t)(v >> 8);
  }
}

/* The tile bytes: spec->tile as given, or a ramp of about `bytes`. */
static int init_tile(net_frame *f, const net_frame_spec *sp, size_t bytes) {
  if (sp->tile != NULL) {
    uint32_t w = sp->tile_w, h = sp->tile_h;
    if (!fp16_tile_shape(sp->tile_len, w, h, &w, &h)) {
      fputs("nnrp: --tile: length does not match --tile-size (or is not a "
            "square of FP16 values)\n",
            stderr);
      return -1;
    }
    f->tile_buf = cli_xmalloc(sp->tile_len);
    memcpy(f->tile_buf, sp->tile, sp->tile_len);
    f->w = w;
    f->h = h;
  } else {
    uint32_t n =
        bytes / 2 > UINT32_MAX / 4 ? UINT32_MAX / 4 : (uint32_t)(bytes / 2);
    n = tile_shape(n ? n : 1, &f->w, &f->h);
    f->tile_buf = cli_xmalloc((size_t)n * 2u);
    fill_ramp(f->tile_buf, n);
  }
  f->tile.ptr = f->tile_buf;
  f->tile.len = (size_t)f->w * f->h * 2u;
  return 0;
}

static uint16_t clamp16(uint64_t v) {
  return (uint16_t)(v > UINT16_MAX ? UINT16_MAX : v);
}

/* spec->tiles identical tiles (views of one buffer), ids 0..n-1. */
static int init_tensor(net_frame *f, const net_frame_spec *sp, size_t bytes) {
  uint32_t nt = sp->tiles ? sp->tiles : 1;
  if (nt > UINT16_MAX || init_tile(f, sp, bytes / nt ? bytes / nt : 2) != 0)
    return -1;
  f->tiles = (uint16_t)nt;
  f->tile_views = cli_xmalloc(nt * sizeof(*f->tile_views));
  for (uint32_t i = 0; i < nt; i++)
    f->tile_views[i] = f->tile;
  f->payload += (size_t)nt * f->tile.len;
  f->section.role_id = 1;
  f->section.dtype_id = NNRP_DTYPE_FP16;
  f->section.layout_id = NNRP_LAYOUT_NCHW;
  f->section.element_count_per_tile = f->w * f->h;
  f->section.tiles = f->tile_views;
  f->tensor.tile_index_mode = NNRP_TILE_INDEX_DENSE_RANGE;
  f->tensor.tile_ids = NULL; /* DENSE_RANGE from 0 */
  f->tensor.tile_count = (uint16_t)nt;
  f->tensor.sections = &f->section;
  f->tensor.section_count = 1;
  nnrp_frame_submit *m = &f->req.meta;
  m->tile_width = (uint16_t)f->w;
  m->tile_height = (uint16_t)f->h;
  m->src_width = (uint16_t)f->w; /* tiles stacked vertically */
  m->src_height = clamp16((uint64_t)f->h * nt);
  m->input_profile = NNRP_INPUT_PROFILE_DENSE_LUMA_FRAME;
  f->req.body.tensor = &f->tensor;
  f->has_tensor = 1;
  return 0;
}

/* Words "tok0 tok1 ..." cut to exactly n bytes. */
static void fill_words(uint8_t *p, size_t n) {
  size_t off = 0;
  for (unsigned i = 0; off < n; i++) {
    char w[24];
    int k = snprintf(w, sizeof(w), "tok%u ", i);
    for (int j = 0; j < k && off < n; j++)
      p[off++] = (uint8_t)w[j];
  }
}

/* Typed payload contents per kind: text for tokens, JSON for events and
 * tool deltas, a byte pattern for the rest. */
static void fill_typed(uint8_t *p, size_t n, net_kind k) {
  if (k == NET_KIND_TOKEN || k == NET_KIND_MIXED) {
    fill_words(p, n);
  } else if (k == NET_KIND_EVENT || k == NET_KIND_TOOL) {
    static const char head[] = "{\"pad\":\"";
    for (size_t i = 0; i < n; i++)
      p[i] = 'x';
    if (n >= sizeof(head) + 1) {
      memcpy(p, head, sizeof(head) - 1);
      p[n - 2] = '"';
      p[n - 1] = '}';
    }
  } else {
    for (size_t i = 0; i < n; i++)
      p[i] = (uint8_t)(i * 31u + 7u);
  }
}

static void init_typed(net_frame *f, const net_frame_spec *sp, size_t bytes) {
  size_t n = sp->text != NULL ? strlen(sp->text) : bytes;
  f->data_buf = cli_xmalloc(n);
  if (sp->text != NULL)
    memcpy(f->data_buf, sp->text, n);
  else
    fill_typed(f->data_buf, n, sp->kind);
  memset(&f->typed, 0, sizeof(f->typed));
  for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
    if (kinds[i].kind == sp->kind)
      f->typed.payload_kind = kinds[i].payload_kind;
  f->typed.data.ptr = f->data_buf;
  f->typed.data.len = n;
  f->payload += n;
  f->req.body.typed = &f->typed;
  f->req.body.typed_count = 1;
  f->req.stream = f->typed.payload_kind == NNRP_PAYLOAD_KIND_TOKEN_CHUNK;
  f->has_typed = 1;
}

int net_frame_init(net_frame *f, const net_frame_spec *sp) {
  memset(f, 0, sizeof(*f));
  f->req.meta.loss_tolerance_policy = NNRP_LOSS_TOLERANCE_INHERIT;
  size_t bytes = sp->bytes ? sp->bytes : 2;
  int tensor = sp->kind == NET_KIND_TENSOR || sp->kind == NET_KIND_MIXED;
  int typed = sp->kind != NET_KIND_TENSOR;
  if (tensor && init_tensor(f, sp, typed ? bytes - bytes / 2 : bytes) != 0) {
    net_frame_free(f);
    return -1;
  }
  if (typed)
    init_typed(f, sp, tensor ? bytes / 2 : bytes);
  return 0;
}

void net_frame_free(net_frame *f) {
  free(f->tile_buf);
  free(f->tile_views);
  free(f->data_buf);
  memset(f, 0, sizeof(*f));
}

int net_budget_parse(const char *s, uint8_t *out) {
  static const struct {
    const char *name;
    uint8_t bits;
  } names[] = {{"none", 0},
               {"partial", NNRP_BUDGET_ALLOW_PARTIAL},
               {"stale", NNRP_BUDGET_ALLOW_STALE_REUSE},
               {"degraded", NNRP_BUDGET_ALLOW_DEGRADED},
               {"drop", NNRP_BUDGET_ALLOW_DROP},
               {"any", 0x0F}};
  uint8_t bits = 0;
  while (s != NULL && *s != '\0') {
    size_t n = strcspn(s, ",");
    size_t k = 0;
    while (k < sizeof(names) / sizeof(names[0]) &&
           (strlen(names[k].name) != n || strncmp(s, names[k].name, n) != 0))
      k++;
    if (k == sizeof(names) / sizeof(names[0]))
      return -1;
    bits |= names[k].bits;
    s += n + (s[n] == ',');
  }
  if (s == NULL)
    return -1;
  *out = bits;
  return 0;
}

const char *net_class_name(uint8_t k) {
  static const char *const n[] = {"COMPLETE", "PARTIAL", "STALE_REUSE",
                                  "DEGRADED"};
  return k < 4 ? n[k] : "CLASS?";
}
