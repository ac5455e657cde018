/* SPDX-License-Identifier: Apache-2.0 */
/*
 * build.c - builder runners and the re-encoder of `nnrp decode` (build.h).
 * Builders write into a scratch buffer in contiguous mode (no iovecs); the
 * result is flattened into an exactly sized malloc'd buffer.
 */
#include "build.h"

#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "util.h"

typedef struct build_job {
  const nnrp_header *h;
  nnrp_meta *m; /* caller's; updated on success */
  const nnrp_control_body *ctl;
  const nnrp_body_data *data;
} build_job;

static int run_job(const build_job *j, nnrp_out *o, nnrp_meta *m,
                   nnrp_fault *f) {
  if (j->ctl != NULL)
    return nnrp_build_control(o, j->h, m, j->ctl, f);
  if (j->h->msg_type == NNRP_MSG_FRAME_SUBMIT)
    return nnrp_build_frame_submit(o, j->h, &m->frame_submit, j->data, f);
  if (j->h->msg_type == NNRP_MSG_RESULT_PUSH)
    return nnrp_build_result_push(o, j->h, &m->result_push, j->data, f);
  return NNRP_ERR_INVALID_ARGUMENT;
}

/* Runs the job with a growing scratch buffer; each attempt starts from the
 * caller's metadata again. */
static int run_growing(const build_job *j, size_t cap, uint8_t **out,
                       size_t *len, nnrp_fault *f) {
  for (int attempt = 0; attempt < 8; attempt++, cap *= 2) {
    uint8_t *scratch = cli_xmalloc(cap);
    nnrp_out o;
    nnrp_meta m = *j->m;
    nnrp_out_init(&o, scratch, cap, NULL, 0);
    int rc = run_job(j, &o, &m, f);
    if (rc == 0) {
      size_t n = (size_t)o.total;
      uint8_t *buf = cli_xmalloc(n);
      int64_t w = nnrp_out_flatten(&o, buf, n);
      free(scratch);
      if (w < 0) {
        free(buf);
        return (int)w;
      }
      *j->m = m;
      *out = buf;
      *len = n;
      return 0;
    }
    free(scratch);
    if (rc != NNRP_ERR_BUFFER_TOO_SMALL)
      return rc;
  }
  return NNRP_ERR_BUFFER_TOO_SMALL;
}

int cli_build_control(const nnrp_header *h, nnrp_meta *m,
                      const nnrp_control_body *c, uint8_t **out, size_t *len,
                      nnrp_fault *f) {
  build_job j = {h, m, c, NULL};
  size_t cap = 256 + c->bytes.len + 16 * c->extra_ext_count;
  for (size_t i = 0; i < c->extra_ext_count; i++)
    cap += c->extra_ext[i].payload.len;
  if (h->msg_type == NNRP_MSG_TRANSPORT_PROBE)
    cap += m->transport_probe.probe_payload_bytes;
  if (c->ext != NULL)
    cap += c->ext->model_name.len + 64;
  return run_growing(&j, cap, out, len, f);
}

int cli_build_data(const nnrp_header *h, nnrp_meta *m, const nnrp_body_data *b,
                   uint8_t **out, size_t *len, nnrp_fault *f) {
  build_job j = {h, m, NULL, b};
  size_t cap = 256 + nnrp_build_scratch_bound(b) + h->body_len;
  return run_growing(&j, cap, out, len, f);
}

/* Control extension entries that the parsed standard fields do not cover:
 * unknown types, types of the other hello, later duplicates. */
static size_t ext_extras(uint8_t type, const nnrp_hello_exts *x,
                         nnrp_ext_entry **out) {
  nnrp_ext_iter it;
  nnrp_ext_entry e;
  size_t n = 0, k = 0;
  nnrp_ext_iter_init(&it, x->block);
  while (nnrp_ext_iter_next(&it, &e) == 1)
    n++;
  *out = cli_xcalloc(n, sizeof(**out));
  uint32_t seen = 0;
  nnrp_ext_iter_init(&it, x->block);
  while (nnrp_ext_iter_next(&it, &e) == 1) {
    uint32_t bit = cli_ext_std_bit(type, e.ext_type);
    if (bit != 0 && (x->present & bit) != 0 && (seen & bit) == 0) {
      seen |= bit;
      continue;
    }
    (*out)[k++] = e;
  }
  return k;
}

static int reencode_control(const nnrp_packet *p, uint8_t **out, size_t *len,
                            nnrp_fault *f) {
  nnrp_control_body c;
  nnrp_ext_entry *extra = NULL;
  nnrp_meta m = p->m;
  memset(&c, 0, sizeof(c));
  switch (p->hdr.msg_type) {
  case NNRP_MSG_CLIENT_HELLO:
    c.ext = &p->b.client_hello.ext;
    c.extra_ext_count = ext_extras(p->hdr.msg_type, c.ext, &extra);
    c.bytes = p->b.client_hello.auth;
    break;
  case NNRP_MSG_SERVER_HELLO_ACK:
    if (p->m.server_hello_ack.control_extension_bytes > 0) {
      c.ext = &p->b.server_hello_ack.ext;
      c.extra_ext_count = ext_extras(p->hdr.msg_type, c.ext, &extra);
    } else {
      c.bytes = p->b.server_hello_ack.opaque; /* D5 opaque form */
    }
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
  default: /* filler is regenerated; CLOSE/MIGRATE_ACK bodies are dropped */
    break;
  }
  c.extra_ext = extra;
  int rc = cli_build_control(&p->hdr, &m, &c, out, len, f);
  free(extra);
  return rc;
}

/* Element counts of the storage arrays come from the decoded counts. */
static void storage_alloc(nnrp_body_storage *st, const nnrp_packet *p) {
  const nnrp_data_body *v = &p->b.data;
  size_t tc = p->hdr.msg_type == NNRP_MSG_FRAME_SUBMIT
                  ? p->m.frame_submit.tile_count
                  : p->m.result_push.tile_count;
  if (v->tensor.tiles.count > tc)
    tc = v->tensor.tiles.count;
  size_t sc = v->tensor.section_count;
  memset(st, 0, sizeof(*st));
  st->sections = cli_xcalloc(sc, sizeof(*st->sections));
  st->sections_cap = sc;
  st->tiles = cli_xcalloc(sc * tc, sizeof(*st->tiles));
  st->tiles_cap = sc * tc;
  st->codecs = cli_xcalloc(sc * tc, sizeof(*st->codecs));
  st->codecs_cap = sc * tc;
  st->tile_ids = cli_xcalloc(tc, sizeof(*st->tile_ids));
  st->tile_ids_cap = tc;
  st->typed = cli_xcalloc(v->typed_count, sizeof(*st->typed));
  st->typed_cap = v->typed_count;
  st->refs = cli_xcalloc(v->ref_count, sizeof(*st->refs));
  st->refs_cap = v->ref_count;
  st->extra_inline = cli_xcalloc(v->inline_count, sizeof(*st->extra_inline));
  st->extra_inline_cap = v->inline_count;
  st->ext = cli_xcalloc(v->ext_count, sizeof(*st->ext));
  st->ext_cap = v->ext_count;
}

static void storage_free(nnrp_body_storage *st) {
  free(st->sections);
  free(st->tiles);
  free(st->codecs);
  free(st->tile_ids);
  free(st->typed);
  free(st->refs);
  free(st->extra_inline);
  free(st->ext);
}

static int reencode_data(const nnrp_packet *p, uint8_t **out, size_t *len,
                         nnrp_fault *f) {
  nnrp_body_storage st;
  nnrp_body_data bd;
  nnrp_meta m = p->m;
  storage_alloc(&st, p);
  int rc =
      nnrp_body_data_from_view(p->hdr.msg_type, &p->m, &p->b.data, &bd, &st);
  if (rc == 0)
    rc = cli_build_data(&p->hdr, &m, &bd, out, len, f);
  storage_free(&st);
  return rc;
}

/* Header (nnrp_header_encode) and metadata (nnrp_meta_encode) come from
 * the decoded fields verbatim; the body is the builder's. body_len follows
 * the body actually rebuilt (e.g. an ignored CLOSE body is not re-sent). */
static int compose(const nnrp_packet *p, const uint8_t *built, size_t blen,
                   uint8_t **out, size_t *len) {
  int mlen = nnrp_msg_meta_len(p->hdr.msg_type);
  if (mlen < 0 || blen < NNRP_HEADER_LEN)
    return NNRP_ERR_INTERNAL;
  uint64_t bmeta = cli_rd32(built + 12);
  if (NNRP_HEADER_LEN + bmeta > blen)
    return NNRP_ERR_INTERNAL;
  size_t body_len = blen - NNRP_HEADER_LEN - (size_t)bmeta;
  size_t n = NNRP_HEADER_LEN + (size_t)mlen + body_len;
  uint8_t *res = cli_xmalloc(n);
  nnrp_header h = p->hdr;
  h.meta_len = (uint32_t)mlen;
  h.body_len = (uint32_t)body_len;
  nnrp_header_encode(&h, res);
  int w = nnrp_meta_encode(p->hdr.msg_type, &p->m, res + NNRP_HEADER_LEN,
                           (size_t)mlen);
  if (w != mlen) {
    free(res);
    return w < 0 ? w : NNRP_ERR_INTERNAL;
  }
  if (body_len > 0)
    memcpy(res + NNRP_HEADER_LEN + mlen,
           built + NNRP_HEADER_LEN + (size_t)bmeta, body_len);
  *out = res;
  *len = n;
  return 0;
}

int cli_reencode(const nnrp_packet *p, uint8_t **out, size_t *len,
                 nnrp_fault *f) {
  uint8_t *built = NULL;
  size_t blen = 0;
  int rc;
  if (p->hdr.msg_type == NNRP_MSG_FRAME_SUBMIT ||
      p->hdr.msg_type == NNRP_MSG_RESULT_PUSH)
    rc = reencode_data(p, &built, &blen, f);
  else
    rc = reencode_control(p, &built, &blen, f);
  if (rc != 0)
    return rc;
  rc = compose(p, built, blen, out, len);
  free(built);
  return rc;
}
