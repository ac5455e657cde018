/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gen_check.c - the decoded-packet half of gen_random.c (wire.md §2-§10):
 * views-inside checks, verbatim and builder re-encoding, and field-by-field
 * comparison of two decoded packets. Not built on its own: gen_random.c
 * includes it (declarations in gen_random.h).
 */
#include "gen_random.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================== */
/* Messages                                                                 */
/* ======================================================================== */

#define FAIL(...)                                                              \
  do {                                                                         \
    if (why && cap)                                                            \
      snprintf(why, cap, __VA_ARGS__);                                         \
    return 0;                                                                  \
  } while (0)

static int bytes_eq(nnrp_bytes a, nnrp_bytes b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* ======================================================================== */
/* Views of a decoded packet                                                */
/* ======================================================================== */

static int inside(const void *p, size_t n, const uint8_t *buf, size_t len) {
  if (n == 0)
    return 1; /* an empty view may point anywhere (or be NULL) */
  if (p == NULL || buf == NULL)
    return 0;
  uintptr_t q = (uintptr_t)p, b = (uintptr_t)buf;
  return q >= b && q - b <= len && n <= len - (size_t)(q - b);
}

#define IN(p, n, what)                                                         \
  do {                                                                         \
    if (!inside((p), (n), buf, len))                                           \
      FAIL("view %s outside the input", what);                                 \
  } while (0)

/* ti_inline: the tile index is part of the body (not referenced), so its
 * ids can be iterated. */
static int sections_inside(const nnrp_tensor_view *tv, int ti_inline,
                           const uint8_t *buf, size_t len, char *why,
                           size_t cap) {
  IN(tv->tiles.block.ptr, tv->tiles.block.len, "tile index block");
  IN(tv->sections.ptr, tv->sections.len, "sections");
  nnrp_tile_iter ti;
  nnrp_tile_iter_init(&ti, &tv->tiles);
  uint32_t id, n = 0;
  while (ti_inline && n <= tv->tiles.count && nnrp_tile_iter_next(&ti, &id))
    n++;
  if (ti_inline && n != tv->tiles.count)
    FAIL("tile iterator gave %u ids, tile_count %u", n, tv->tiles.count);
  nnrp_section_iter it;
  nnrp_section_iter_init(&it, tv);
  nnrp_section_view s;
  uint32_t k = 0;
  while (k <= tv->section_count && nnrp_section_iter_next(&it, &s)) {
    k++;
    if (s.tile_count != tv->tiles.count)
      FAIL("section %u has %u tiles, tile_count %u", k, s.tile_count,
           tv->tiles.count);
    IN(s.codec_table, s.desc.codec_table_bytes, "codec table");
    IN(s.length_table, s.desc.length_table_bytes, "length table");
    IN(s.payload, s.desc.payload_bytes, "payload blob");
    nnrp_tile_data_iter td;
    nnrp_tile_data_iter_init(&td, &s);
    nnrp_bytes tile;
    uint8_t codec;
    uint32_t j = 0;
    while (j <= s.tile_count && nnrp_tile_data_iter_next(&td, &tile, &codec)) {
      j++;
      if (!inside(tile.ptr, tile.len, s.payload, s.desc.payload_bytes))
        FAIL("tile %u of section %u outside its payload blob", j, k);
      if (s.desc.payload_stride_bytes && tile.len > s.desc.payload_stride_bytes)
        FAIL("tile longer than the stride");
    }
    if (j != s.tile_count)
      FAIL("tile data iterator gave %u tiles of %u", j, s.tile_count);
  }
  if (k != tv->section_count)
    FAIL("section iterator gave %u sections of %u", k, tv->section_count);
  return 1;
}

static int data_inside(const nnrp_data_body *b, const nnrp_bytes *body,
                       const uint8_t *buf, size_t len, char *why, size_t cap) {
  const uint8_t *bp = body->ptr;
  size_t bl = body->len;
  if (!inside(b->camera.ptr, b->camera.len, bp, bl))
    FAIL("camera outside the body");
  uint64_t sum = 32;
  for (int i = 0; i < NNRP_REGION_COUNT; i++) {
    if (!inside(b->regions[i].ptr, b->regions[i].len, bp, bl))
      FAIL("region %d outside the body", i);
    sum += b->regions[i].len;
  }
  if (b->composed && sum != bl)
    FAIL("regions + prelude = %llu, body_len %zu", (unsigned long long)sum, bl);
  int ti_inline = (b->slots_referenced & NNRP_SLOT_TILE_INDEX) == 0;
  if (b->has_tensor &&
      !sections_inside(&b->tensor, ti_inline, buf, len, why, cap))
    return 0;
  for (uint32_t i = 0; i < b->ref_count && i < 65536u; i++) {
    nnrp_object_ref r;
    if (nnrp_data_body_ref(b, i, &r) != 0)
      FAIL("reference %u missing", i);
  }
  for (uint32_t i = 0; i < b->typed_count && i < 65536u; i++) {
    nnrp_typed_frame t;
    if (nnrp_data_body_typed(b, i, &t) != 0)
      FAIL("typed payload %u missing", i);
    if (!inside(t.data.ptr, t.data.len,
                b->regions[NNRP_REGION_TYPED_FRAMES].ptr,
                b->regions[NNRP_REGION_TYPED_FRAMES].len))
      FAIL("typed frame %u outside its region", i);
  }
  for (uint32_t i = 0; i < b->ext_count && i < 65536u; i++) {
    nnrp_ext_frame e;
    if (nnrp_data_body_ext(b, i, &e) != 0)
      FAIL("extension frame %u missing", i);
    if (!inside(e.data.ptr, e.data.len, b->regions[NNRP_REGION_EXT_PAYLOAD].ptr,
                b->regions[NNRP_REGION_EXT_PAYLOAD].len))
      FAIL("extension frame %u outside its region", i);
  }
  nnrp_inline_iter it;
  nnrp_inline_object o;
  uint32_t n = 0;
  nnrp_inline_iter_init(&it, b);
  while (n <= b->inline_count && nnrp_inline_iter_next(&it, &o)) {
    n++;
    if (!inside(o.data.ptr, o.data.len, b->regions[NNRP_REGION_INLINE].ptr,
                b->regions[NNRP_REGION_INLINE].len))
      FAIL("inline object %u outside its region", n);
  }
  if (n != b->inline_count)
    FAIL("inline iterator gave %u objects of %u", n, b->inline_count);
  return 1;
}

static int exts_inside(const nnrp_hello_exts *x, const nnrp_bytes *body,
                       char *why, size_t cap) {
  if (!inside(x->block.ptr, x->block.len, body->ptr, body->len))
    FAIL("extension block outside the body");
  if (!inside(x->model_name.ptr, x->model_name.len, x->block.ptr, x->block.len))
    FAIL("model name outside the extension block");
  nnrp_ext_iter it;
  nnrp_ext_entry e;
  uint32_t n = 0;
  nnrp_ext_iter_init(&it, x->block);
  while (n <= x->entry_count && nnrp_ext_iter_next(&it, &e)) {
    n++;
    if (!inside(e.payload.ptr, e.payload.len, x->block.ptr, x->block.len))
      FAIL("extension entry %u outside the block", n);
  }
  if (n != x->entry_count)
    FAIL("extension iterator gave %u entries of %u", n, x->entry_count);
  if (x->unknown_count > x->entry_count)
    FAIL("unknown_count %u > entry_count %u", x->unknown_count, x->entry_count);
  return 1;
}

int nnrp_rt_views_inside(const nnrp_packet *p, const uint8_t *buf, size_t len,
                         char *why, size_t cap) {
  const nnrp_bytes *body = &p->body_raw;
  if (p->meta_raw.len != p->hdr.meta_len || body->len != p->hdr.body_len)
    FAIL("meta_raw/body_raw lengths differ from the header");
  if (p->meta_raw.len && p->meta_raw.ptr != buf + NNRP_HEADER_LEN)
    FAIL("meta_raw does not start at byte 40");
  if (body->len && body->ptr != buf + NNRP_HEADER_LEN + p->hdr.meta_len)
    FAIL("body_raw does not follow the metadata");
  IN(p->meta_raw.ptr, p->meta_raw.len, "meta_raw");
  IN(body->ptr, body->len, "body_raw");
#define INB(v, what)                                                           \
  do {                                                                         \
    if (!inside((v).ptr, (v).len, body->ptr, body->len))                       \
      FAIL("%s outside the body", what);                                       \
  } while (0)
  switch (p->hdr.msg_type) {
  case NNRP_MSG_CLIENT_HELLO:
    INB(p->b.client_hello.auth, "auth block");
    return exts_inside(&p->b.client_hello.ext, body, why, cap);
  case NNRP_MSG_SERVER_HELLO_ACK:
    INB(p->b.server_hello_ack.opaque, "opaque body");
    return exts_inside(&p->b.server_hello_ack.ext, body, why, cap);
  case NNRP_MSG_ERROR:
    INB(p->b.diagnostic, "diagnostic");
    break;
  case NNRP_MSG_CACHE_PUT:
    INB(p->b.object, "object");
    break;
  case NNRP_MSG_TRANSPORT_PROBE:
    INB(p->b.filler, "filler");
    break;
  case NNRP_MSG_SESSION_MIGRATE:
    INB(p->b.token, "token");
    break;
  case NNRP_MSG_CLOSE:
  case NNRP_MSG_SESSION_MIGRATE_ACK:
    INB(p->b.ignored, "ignored body");
    break;
  case NNRP_MSG_FRAME_SUBMIT:
  case NNRP_MSG_RESULT_PUSH:
    return data_inside(&p->b.data, body, buf, len, why, cap);
  default:
    break;
  }
#undef INB
  return 1;
}
#undef IN

/* ======================================================================== */
/* Re-encoding                                                              */
/* ======================================================================== */

long nnrp_rt_raw_encode(const nnrp_packet *p, uint8_t *out, size_t cap) {
  uint64_t total =
      (uint64_t)NNRP_HEADER_LEN + p->meta_raw.len + p->body_raw.len;
  if (total > cap)
    return -1;
  nnrp_header_encode(&p->hdr, out);
  int n = nnrp_meta_encode(p->hdr.msg_type, &p->m, out + NNRP_HEADER_LEN,
                           cap - NNRP_HEADER_LEN);
  if (n < 0 || (size_t)n != p->meta_raw.len)
    return -1;
  if (p->body_raw.len)
    memcpy(out + NNRP_HEADER_LEN + n, p->body_raw.ptr, p->body_raw.len);
  return (long)total;
}

/* Caller arrays for nnrp_body_data_from_view(), sized from the view. */
typedef struct rt_store {
  nnrp_body_storage st;
  nnrp_body_data data;
} rt_store;

static void *xcalloc(size_t n, size_t size) { return calloc(n ? n : 1, size); }

static void rt_store_free(rt_store *s) {
  free(s->st.sections);
  free(s->st.tiles);
  free(s->st.codecs);
  free(s->st.tile_ids);
  free(s->st.typed);
  free(s->st.refs);
  free(s->st.extra_inline);
  free(s->st.ext);
}

/* Exports a decoded data body. @return 0, NNRP_ERR_NOMEM or the export's
 * error. */
static int rt_export(const nnrp_packet *p, rt_store *s) {
  const nnrp_data_body *v = &p->b.data;
  size_t tc = p->hdr.msg_type == NNRP_MSG_FRAME_SUBMIT
                  ? p->m.frame_submit.tile_count
                  : p->m.result_push.tile_count;
  /* Only inline sections are exported; their tables bound sc * tc by the
   * body size. A referenced section table exports nothing per section. */
  size_t sc = (v->slots_referenced & NNRP_SLOT_SECTION_TABLE)
                  ? 0
                  : v->tensor.section_count;
  memset(s, 0, sizeof(*s));
  s->st.sections_cap = sc;
  s->st.tiles_cap = s->st.codecs_cap = sc * tc;
  s->st.tile_ids_cap = tc;
  s->st.typed_cap = v->typed_count;
  s->st.refs_cap = v->ref_count;
  s->st.extra_inline_cap = v->inline_count;
  s->st.ext_cap = v->ext_count;
  s->st.sections = xcalloc(sc, sizeof(nnrp_section_data));
  s->st.tiles = xcalloc(sc * tc, sizeof(nnrp_bytes));
  s->st.codecs = xcalloc(sc * tc, 1);
  s->st.tile_ids = xcalloc(tc, sizeof(uint16_t));
  s->st.typed = xcalloc(v->typed_count, sizeof(nnrp_typed_frame));
  s->st.refs = xcalloc(v->ref_count, sizeof(nnrp_object_ref));
  s->st.extra_inline = xcalloc(v->inline_count, sizeof(nnrp_inline_object));
  s->st.ext = xcalloc(v->ext_count, sizeof(nnrp_ext_frame));
  if (!s->st.sections || !s->st.tiles || !s->st.codecs || !s->st.tile_ids ||
      !s->st.typed || !s->st.refs || !s->st.extra_inline || !s->st.ext)
    return NNRP_ERR_NOMEM;
  return nnrp_body_data_from_view(p->hdr.msg_type, &p->m, v, &s->data, &s->st);
}

/* Collects the entries of a hello's TLV block as extra entries. */
static int rt_tlv(const nnrp_hello_exts *x, nnrp_ext_entry **out, size_t *n) {
  *out = xcalloc(x->entry_count, sizeof(nnrp_ext_entry));
  if (*out == NULL)
    return NNRP_ERR_NOMEM;
  nnrp_ext_iter it;
  nnrp_ext_iter_init(&it, x->block);
  size_t k = 0;
  while (k < x->entry_count && nnrp_ext_iter_next(&it, &(*out)[k]))
    k++;
  *n = k;
  return 0;
}

static int rt_fail(nnrp_fault *f, int err, const char *rule,
                   const char *field) {
  if (f) {
    f->err = err;
    f->offset = 0;
    f->rule = rule;
    f->field = field;
  }
  return err;
}

long nnrp_rt_rebuild(const nnrp_packet *p, uint8_t *out, size_t cap,
                     nnrp_fault *f) {
  nnrp_out o;
  nnrp_out_init(&o, out, cap, NULL, 0); /* contiguous: scratch is out */
  nnrp_header h = p->hdr;
  nnrp_meta m = p->m;
  uint8_t t = p->hdr.msg_type;
  if (t == NNRP_MSG_FRAME_SUBMIT || t == NNRP_MSG_RESULT_PUSH) {
    rt_store s;
    int rc = rt_export(p, &s);
    if (rc != 0) {
      rt_store_free(&s);
      return rt_fail(f, rc, "nnrp_body_data_from_view", "body");
    }
    if (t == NNRP_MSG_FRAME_SUBMIT)
      rc = nnrp_build_frame_submit(&o, &h, &m.frame_submit, &s.data, f);
    else
      rc = nnrp_build_result_push(&o, &h, &m.result_push, &s.data, f);
    rt_store_free(&s);
    return rc != 0 ? rc : (long)o.scratch_len;
  }
  nnrp_control_body c;
  memset(&c, 0, sizeof(c));
  nnrp_ext_entry *tlv = NULL;
  int rc = 0;
  switch (t) {
  case NNRP_MSG_CLIENT_HELLO:
    rc = rt_tlv(&p->b.client_hello.ext, &tlv, &c.extra_ext_count);
    c.bytes = p->b.client_hello.auth;
    break;
  case NNRP_MSG_SERVER_HELLO_ACK:
    rc = rt_tlv(&p->b.server_hello_ack.ext, &tlv, &c.extra_ext_count);
    c.bytes = p->b.server_hello_ack.opaque;
    break;
  case NNRP_MSG_SESSION_PATCH:
  case NNRP_MSG_SESSION_PATCH_ACK:
    c.patch = p->b.patch.present ? &p->b.patch.block : NULL;
    break;
  case NNRP_MSG_ERROR:
    c.bytes = p->b.diagnostic;
    break;
  case NNRP_MSG_CACHE_PUT:
    c.bytes = p->b.object;
    break;
  case NNRP_MSG_SESSION_MIGRATE:
    c.bytes = p->b.token;
    break;
  default:
    break;
  }
  c.extra_ext = c.extra_ext_count ? tlv : NULL;
  if (rc == 0)
    rc = nnrp_build_control(&o, &h, &m, &c, f);
  free(tlv);
  /* Contiguous mode: the whole packet is in out (the scratch). */
  return rc != 0 ? rc : (long)o.scratch_len;
}

/* ======================================================================== */
/* Comparison                                                               */
/* ======================================================================== */

static int is_reserved(const char *name) {
  return strncmp(name, "reserved", 8) == 0;
}

/* The header a control builder sends for a (decoded) header and metadata:
 * the send column of wire.md §2.4 and ACK_REQUIRED on the hellos. */
static nnrp_header send_rules(const nnrp_header *in, const nnrp_meta *m) {
  nnrp_header h = *in;
  switch (h.msg_type) {
  case NNRP_MSG_CLIENT_HELLO:
    h.session_id = 0;
    h.flags |= NNRP_FLAG_ACK_REQUIRED;
    break;
  case NNRP_MSG_SERVER_HELLO_ACK:
    h.session_id = m->server_hello_ack.session_id;
    h.flags |= NNRP_FLAG_ACK_REQUIRED;
    break;
  case NNRP_MSG_ERROR:
    h.session_id = m->error.related_session_id;
    h.frame_id = m->error.related_frame_id;
    h.view_id = (uint16_t)m->error.related_view_id;
    return h;
  case NNRP_MSG_FRAME_CANCEL:
  case NNRP_MSG_RESULT_DROP:
  case NNRP_MSG_FRAME_SUBMIT:
  case NNRP_MSG_RESULT_PUSH:
    return h;
  case NNRP_MSG_RESULT_HINT:
    h.view_id = 0;
    return h;
  case NNRP_MSG_FLOW_UPDATE:
    if (m->flow_update.scope_kind == NNRP_FLOW_SCOPE_CONNECTION)
      h.session_id = 0;
    break;
  default:
    break;
  }
  h.frame_id = 0;
  h.view_id = 0;
  return h;
}

static int struct_eq(int id, const void *a, const void *b, unsigned how,
                     const char *skip, char *why, size_t cap) {
  size_t n = 0;
  const nnrp_field_desc *fd = nnrp_struct_fields(id, &n);
  if (fd == NULL)
    FAIL("no field table for struct %d", id);
  for (size_t i = 0; i < n; i++) {
    if (how == NNRP_RT_SEMANTIC &&
        (is_reserved(fd[i].name) || (skip && strstr(skip, fd[i].name))))
      continue;
    uint64_t x = nnrp_field_get(a, &fd[i]), y = nnrp_field_get(b, &fd[i]);
    if (x != y)
      FAIL("%s.%s: 0x%llx != 0x%llx", nnrp_struct_name(id), fd[i].name,
           (unsigned long long)x, (unsigned long long)y);
  }
  return 1;
}

static int hello_exts_eq(const nnrp_hello_exts *a, const nnrp_hello_exts *b,
                         char *why, size_t cap) {
  if (a->present != b->present)
    FAIL("hello extensions present 0x%x != 0x%x", a->present, b->present);
  if ((a->present & NNRP_HELLO_EXT_TRANSPORT_POLICY) &&
      !struct_eq(NNRP_STRUCT_EXT_TRANSPORT_POLICY, &a->transport_policy,
                 &b->transport_policy, NNRP_RT_EXACT, NULL, why, cap))
    return 0;
  if ((a->present & NNRP_HELLO_EXT_LOSS_TOLERANCE) &&
      !struct_eq(NNRP_STRUCT_EXT_LOSS_TOLERANCE, &a->loss_tolerance,
                 &b->loss_tolerance, NNRP_RT_EXACT, NULL, why, cap))
    return 0;
  if ((a->present & NNRP_HELLO_EXT_PAYLOAD_CAPS) &&
      !struct_eq(NNRP_STRUCT_EXT_PAYLOAD_CAPS, &a->payload_caps,
                 &b->payload_caps, NNRP_RT_EXACT, NULL, why, cap))
    return 0;
  if (!bytes_eq(a->model_name, b->model_name))
    FAIL("model name differs");
  if (!bytes_eq(a->block, b->block))
    FAIL("extension block bytes differ");
  if (a->entry_count != b->entry_count || a->unknown_count != b->unknown_count)
    FAIL("extension entry counts differ");
  return 1;
}

/* Tile id i of builder input t (ids, or base + i when NULL). */
static uint32_t tid(const nnrp_tensor_data *t, uint32_t i) {
  return t->tile_ids ? t->tile_ids[i] : t->tile_base_id + i;
}

static int sections_eq(const nnrp_tensor_data *a, const nnrp_tensor_data *b,
                       char *why, size_t cap) {
  if ((a->sections == NULL) != (b->sections == NULL))
    FAIL("inline section table on one side only");
  if (a->sections == NULL)
    return 1;
  for (uint32_t s = 0; s < a->section_count; s++) {
    const nnrp_section_data *x = &a->sections[s], *y = &b->sections[s];
    if (x->role_id != y->role_id || x->codec_id != y->codec_id ||
        x->dtype_id != y->dtype_id || x->layout_id != y->layout_id ||
        x->scale_policy != y->scale_policy ||
        x->element_count_per_tile != y->element_count_per_tile ||
        x->payload_stride_bytes != y->payload_stride_bytes)
      FAIL("section %u descriptor differs", s);
    for (uint32_t i = 0; i < a->tile_count; i++) {
      if (!bytes_eq(x->tiles[i], y->tiles[i]))
        FAIL("section %u tile %u bytes differ", s, i);
      uint8_t cx = x->tile_codec_ids ? x->tile_codec_ids[i] : x->codec_id;
      uint8_t cy = y->tile_codec_ids ? y->tile_codec_ids[i] : y->codec_id;
      if (cx != cy)
        FAIL("section %u tile %u codec %u != %u", s, i, cx, cy);
    }
  }
  return 1;
}

/* Builder inputs a and b describe the same body. refs: slots referenced
 * (then the tile ids / sections live in the cache and are not compared). */
static int body_data_eq(const nnrp_body_data *a, const nnrp_body_data *b,
                        char *why, size_t cap) {
  if ((a->tensor == NULL) != (b->tensor == NULL))
    FAIL("tensor on one side only");
  if (a->tensor) {
    const nnrp_tensor_data *x = a->tensor, *y = b->tensor;
    if (!bytes_eq(x->camera, y->camera))
      FAIL("camera differs");
    if (x->tile_count != y->tile_count || x->section_count != y->section_count)
      FAIL("tile_count/section_count %u/%u != %u/%u", x->tile_count,
           x->section_count, y->tile_count, y->section_count);
    int ref_ti = 0;
    for (uint32_t i = 0; i < a->ref_count; i++)
      ref_ti |= a->refs[i].object_kind == NNRP_OBJECT_TILE_INDEX_BLOCK;
    for (uint32_t i = 0; !ref_ti && i < x->tile_count; i++)
      if (tid(x, i) != tid(y, i))
        FAIL("tile id %u: %u != %u", i, tid(x, i), tid(y, i));
    if (!sections_eq(x, y, why, cap))
      return 0;
  }
  if (a->typed_count != b->typed_count)
    FAIL("typed_count %u != %u", a->typed_count, b->typed_count);
  for (uint32_t i = 0; i < a->typed_count; i++) {
    const nnrp_typed_frame *x = &a->typed[i], *y = &b->typed[i];
    if (x->payload_kind != y->payload_kind || x->profile_id != y->profile_id ||
        !bytes_eq(x->data, y->data))
      FAIL("typed payload %u differs", i);
  }
  if (a->ref_count != b->ref_count)
    FAIL("ref_count %u != %u", a->ref_count, b->ref_count);
  for (uint32_t i = 0; i < a->ref_count; i++)
    if (!struct_eq(NNRP_STRUCT_OBJECT_REF, &a->refs[i], &b->refs[i],
                   NNRP_RT_EXACT, NULL, why, cap))
      return 0;
  if (a->extra_inline_count != b->extra_inline_count)
    FAIL("extra inline objects %u != %u", a->extra_inline_count,
         b->extra_inline_count);
  for (uint32_t i = 0; i < a->extra_inline_count; i++) {
    const nnrp_inline_object *x = &a->extra_inline[i], *y = &b->extra_inline[i];
    if (x->object_kind != y->object_kind || x->profile_id != y->profile_id ||
        !bytes_eq(x->data, y->data))
      FAIL("inline object %u differs", i);
  }
  if (a->ext_count != b->ext_count)
    FAIL("ext_count %u != %u", a->ext_count, b->ext_count);
  for (uint32_t i = 0; i < a->ext_count; i++) {
    const nnrp_ext_frame *x = &a->ext[i], *y = &b->ext[i];
    if (x->extension_kind != y->extension_kind ||
        x->extension_flags != y->extension_flags ||
        x->profile_id != y->profile_id || !bytes_eq(x->data, y->data))
      FAIL("extension frame %u differs", i);
  }
  return 1;
}

/* Everything of two decoded data bodies, views compared by content. */
static int data_view_eq(const nnrp_data_body *a, const nnrp_data_body *b,
                        char *why, size_t cap) {
  if (a->composed != b->composed || a->has_tensor != b->has_tensor ||
      a->slots_inline != b->slots_inline ||
      a->slots_referenced != b->slots_referenced ||
      a->inline_count != b->inline_count || a->ref_count != b->ref_count ||
      a->typed_count != b->typed_count || a->ext_count != b->ext_count)
    FAIL("data body summaries differ");
  if (!struct_eq(NNRP_STRUCT_PRELUDE, &a->prelude, &b->prelude, NNRP_RT_EXACT,
                 NULL, why, cap))
    return 0;
  for (int i = 0; i < NNRP_REGION_COUNT; i++)
    if (!bytes_eq(a->regions[i], b->regions[i]))
      FAIL("region %d differs", i);
  if (!bytes_eq(a->camera, b->camera))
    FAIL("camera differs");
  const nnrp_tensor_view *x = &a->tensor, *y = &b->tensor;
  if (x->tiles.mode != y->tiles.mode || x->tiles.count != y->tiles.count ||
      x->tiles.base_id != y->tiles.base_id ||
      !bytes_eq(x->tiles.block, y->tiles.block) ||
      x->section_count != y->section_count ||
      !bytes_eq(x->sections, y->sections))
    FAIL("tensor views differ");
  for (uint32_t i = 0; i < a->typed_count; i++) {
    nnrp_typed_frame s, t;
    nnrp_data_body_typed(a, i, &s);
    nnrp_data_body_typed(b, i, &t);
    if (!bytes_eq(s.data, t.data) || !struct_eq(NNRP_STRUCT_TYPED_FRAME, &s, &t,
                                                NNRP_RT_EXACT, NULL, why, cap))
      FAIL("typed payload %u differs", i);
  }
  for (uint32_t i = 0; i < a->ext_count; i++) {
    nnrp_ext_frame s, t;
    nnrp_data_body_ext(a, i, &s);
    nnrp_data_body_ext(b, i, &t);
    if (!bytes_eq(s.data, t.data) || !struct_eq(NNRP_STRUCT_EXT_FRAME, &s, &t,
                                                NNRP_RT_EXACT, NULL, why, cap))
      FAIL("extension frame %u differs", i);
  }
  return 1;
}

static int control_body_eq(const nnrp_packet *a, const nnrp_packet *b,
                           unsigned how, char *why, size_t cap) {
  switch (a->hdr.msg_type) {
  case NNRP_MSG_CLIENT_HELLO:
    if (!bytes_eq(a->b.client_hello.auth, b->b.client_hello.auth))
      FAIL("auth block differs");
    return hello_exts_eq(&a->b.client_hello.ext, &b->b.client_hello.ext, why,
                         cap);
  case NNRP_MSG_SERVER_HELLO_ACK:
    if (!bytes_eq(a->b.server_hello_ack.opaque, b->b.server_hello_ack.opaque))
      FAIL("opaque body differs");
    return hello_exts_eq(&a->b.server_hello_ack.ext, &b->b.server_hello_ack.ext,
                         why, cap);
  case NNRP_MSG_SESSION_PATCH:
  case NNRP_MSG_SESSION_PATCH_ACK:
    if (a->b.patch.present != b->b.patch.present)
      FAIL("profile patch block on one side only");
    if (a->b.patch.present &&
        !struct_eq(NNRP_STRUCT_PROFILE_PATCH, &a->b.patch.block,
                   &b->b.patch.block, NNRP_RT_EXACT, NULL, why, cap))
      return 0;
    return 1;
  case NNRP_MSG_ERROR:
    if (!bytes_eq(a->b.diagnostic, b->b.diagnostic))
      FAIL("diagnostic differs");
    return 1;
  case NNRP_MSG_CACHE_PUT:
    if (!bytes_eq(a->b.object, b->b.object))
      FAIL("object differs");
    return 1;
  case NNRP_MSG_SESSION_MIGRATE:
    if (!bytes_eq(a->b.token, b->b.token))
      FAIL("token differs");
    return 1;
  case NNRP_MSG_TRANSPORT_PROBE:
    /* Filler content is not checked on receive; a builder writes 'P'. */
    if (a->b.filler.len != b->b.filler.len ||
        (how == NNRP_RT_EXACT && !bytes_eq(a->b.filler, b->b.filler)))
      FAIL("filler differs");
    return 1;
  case NNRP_MSG_CLOSE:
  case NNRP_MSG_SESSION_MIGRATE_ACK:
    /* A received body is ignored; builders send none. */
    if (how == NNRP_RT_EXACT && !bytes_eq(a->b.ignored, b->b.ignored))
      FAIL("ignored body differs");
    return 1;
  default:
    return 1;
  }
}

/* Metadata fields a builder derives and may legitimately change when the
 * input was not in canonical form. */
static int data_meta_eq(const nnrp_packet *a, const nnrp_packet *b, char *why,
                        size_t cap) {
  if (a->hdr.msg_type == NNRP_MSG_FRAME_SUBMIT) {
    const nnrp_frame_submit *x = &a->m.frame_submit, *y = &b->m.frame_submit;
    int tensor = (x->payload_kind_bitmap & NNRP_PAYLOAD_KIND_TENSOR) != 0;
    if (!struct_eq(NNRP_STRUCT_FRAME_SUBMIT, x, y, NNRP_RT_SEMANTIC,
                   "payload_kind_bitmap tile_index_mode tile_index_bytes", why,
                   cap))
      return 0;
    if ((x->payload_kind_bitmap ^ y->payload_kind_bitmap) &
        NNRP_PAYLOAD_KIND_TENSOR)
      FAIL("TENSOR bit differs");
    if (tensor && x->tile_index_mode != y->tile_index_mode)
      FAIL("tile_index_mode %u != %u", x->tile_index_mode, y->tile_index_mode);
    /* BITSET tolerates trailing zero bytes (§8.4), and a composed body
     * without an inline tile index names no block: no rule binds
     * tile_index_bytes there (F9 and F11 cover the other two cases). */
    int ti_block =
        !a->b.data.composed || (a->b.data.slots_inline & NNRP_SLOT_TILE_INDEX);
    if (tensor && ti_block && x->tile_index_mode != NNRP_TILE_INDEX_BITSET &&
        x->tile_index_bytes != y->tile_index_bytes)
      FAIL("tile_index_bytes %u != %u", x->tile_index_bytes,
           y->tile_index_bytes);
    return 1;
  }
  const nnrp_result_push *x = &a->m.result_push, *y = &b->m.result_push;
  if (!struct_eq(NNRP_STRUCT_RESULT_PUSH, x, y, NNRP_RT_SEMANTIC,
                 "payload_kind_bitmap tile_index_bytes", why, cap))
    return 0;
  int ti_block =
      !a->b.data.composed || (a->b.data.slots_inline & NNRP_SLOT_TILE_INDEX);
  if (ti_block && x->tile_index_bytes != y->tile_index_bytes)
    FAIL("tile_index_bytes %u != %u", x->tile_index_bytes, y->tile_index_bytes);
  if ((x->payload_kind_bitmap ^ y->payload_kind_bitmap) &
      NNRP_PAYLOAD_KIND_TENSOR)
    FAIL("TENSOR bit differs");
  return 1;
}

static int meta_eq(const nnrp_packet *a, const nnrp_packet *b, unsigned how,
                   char *why, size_t cap) {
  uint8_t t = a->hdr.msg_type;
  int id = nnrp_meta_struct_id(t);
  if (id < 0)
    return 1;
  if (how == NNRP_RT_SEMANTIC &&
      (t == NNRP_MSG_FRAME_SUBMIT || t == NNRP_MSG_RESULT_PUSH))
    return data_meta_eq(a, b, why, cap);
  if (how == NNRP_RT_SEMANTIC && t == NNRP_MSG_SESSION_PATCH) {
    /* The builder sets PROFILE_PATCH exactly when the block is sent. */
    nnrp_session_patch x = a->m.session_patch;
    if (a->b.patch.present)
      x.patch_mask |= NNRP_PATCH_PROFILE_PATCH;
    return struct_eq(id, &x, &b->m.session_patch, NNRP_RT_EXACT, NULL, why,
                     cap);
  }
  /* Control metadata is sent verbatim, reserved fields included. */
  return struct_eq(id, &a->m, &b->m, NNRP_RT_EXACT, NULL, why, cap);
}

int nnrp_rt_compare(const nnrp_packet *a, const nnrp_packet *b, unsigned how,
                    char *why, size_t cap) {
  uint8_t t = a->hdr.msg_type;
  if (t != b->hdr.msg_type)
    FAIL("msg_type 0x%02x != 0x%02x", t, b->hdr.msg_type);
  nnrp_header ha =
      how == NNRP_RT_SEMANTIC ? send_rules(&a->hdr, &a->m) : a->hdr;
  if (!struct_eq(NNRP_STRUCT_HEADER, &ha, &b->hdr, how,
                 how == NNRP_RT_SEMANTIC ? "body_len" : NULL, why, cap))
    return 0;
  if (!meta_eq(a, b, how, why, cap))
    return 0;
  if (how == NNRP_RT_EXACT && !bytes_eq(a->body_raw, b->body_raw))
    FAIL("body bytes differ");
  if (t != NNRP_MSG_FRAME_SUBMIT && t != NNRP_MSG_RESULT_PUSH)
    return control_body_eq(a, b, how, why, cap);
  if (how == NNRP_RT_EXACT)
    return data_view_eq(&a->b.data, &b->b.data, why, cap);
  rt_store sa, sb;
  int ra = rt_export(a, &sa), rb = rt_export(b, &sb);
  int ok = 1;
  if (ra != 0 || rb != 0) {
    if (why && cap)
      snprintf(why, cap, "export failed: %s / %s", nnrp_err_name(ra),
               nnrp_err_name(rb));
    ok = 0;
  } else {
    ok = body_data_eq(&sa.data, &sb.data, why, cap);
  }
  rt_store_free(&sa);
  rt_store_free(&sb);
  return ok;
}
