/* SPDX-License-Identifier: Apache-2.0 */
/*
 * model_common.c - how the demo models of `nnrp serve` answer a frame
 * (model.h): the submit body exported as result input, token chunks
 * streamed as non-final RESULT_PUSH packets (session.md §7.8, D14), then
 * one final RESULT_PUSH (EOS) with the tensor (model_class.c) and the
 * other payloads. Referenced tensors are read from the resolved objects.
 */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "model_int.h"

int model_kind_from_name(const char *name, size_t len) {
  if (len == 7 && memcmp(name, "upscale", 7) == 0)
    return MODEL_UPSCALE;
  if (len == 4 && memcmp(name, "echo", 4) == 0)
    return MODEL_ECHO;
  return -1;
}

const char *model_kind_name(model_kind k) {
  return k == MODEL_ECHO ? "echo" : "upscale";
}

void model_body_free(model_body *mb) {
  free(mb->st.sections);
  free(mb->st.tiles);
  free(mb->st.codecs);
  free(mb->st.tile_ids);
  free(mb->st.typed);
  free(mb->st.refs);
  free(mb->st.extra_inline);
  free(mb->st.ext);
  memset(mb, 0, sizeof(*mb));
}

/* Storage arrays sized from the decoded counts (bounded by the packet). */
static int storage_alloc(nnrp_body_storage *st, const nnrp_data_body *v,
                         const nnrp_frame_submit *m) {
  size_t sc = m->section_count, tc = m->tile_count, nt = sc * tc;
  st->sections_cap = sc;
  st->tiles_cap = st->codecs_cap = nt;
  st->tile_ids_cap = tc;
  st->typed_cap = v->typed_count;
  st->refs_cap = v->ref_count;
  st->extra_inline_cap = v->inline_count;
  st->ext_cap = v->ext_count;
  st->sections = calloc(sc ? sc : 1, sizeof(*st->sections));
  st->tiles = calloc(nt ? nt : 1, sizeof(*st->tiles));
  st->codecs = calloc(nt ? nt : 1, 1);
  st->tile_ids = calloc(tc ? tc : 1, sizeof(*st->tile_ids));
  st->typed = calloc(v->typed_count ? v->typed_count : 1, sizeof(*st->typed));
  st->refs = calloc(v->ref_count ? v->ref_count : 1, sizeof(*st->refs));
  st->extra_inline =
      calloc(v->inline_count ? v->inline_count : 1, sizeof(*st->extra_inline));
  st->ext = calloc(v->ext_count ? v->ext_count : 1, sizeof(*st->ext));
  if (!st->sections || !st->tiles || !st->codecs || !st->tile_ids ||
      !st->typed || !st->refs || !st->extra_inline || !st->ext)
    return NNRP_ERR_NOMEM;
  return 0;
}

/* A tile index or section table given by reference: the tensor is
 * exported again from the view that combines the inline slots with the
 * objects resolved from the cache (session.md §9.5 rule 4), as if it had
 * been a legacy body. */
static int export_resolved(const nnrp_received_submit *sub, model_body *mb) {
  nnrp_tensor_view tv;
  int rc = nnrp_received_submit_tensor(sub, &tv);
  if (rc != 0)
    return rc;
  nnrp_data_body v;
  memset(&v, 0, sizeof(v));
  v.has_tensor = 1;
  v.tensor = tv;
  nnrp_body_data tensor_only;
  return nnrp_body_data_from_view(NNRP_MSG_FRAME_SUBMIT, &sub->packet->m, &v,
                                  &tensor_only, &mb->st);
}

int model_body_export(const nnrp_received_submit *sub, model_body *mb,
                      int *referenced) {
  memset(mb, 0, sizeof(*mb));
  *referenced = 0;
  int rc = storage_alloc(&mb->st, sub->body, sub->meta);
  if (rc == 0)
    rc = nnrp_body_data_from_view(NNRP_MSG_FRAME_SUBMIT, &sub->packet->m,
                                  sub->body, &mb->body, &mb->st);
  if (rc != 0) {
    model_body_free(mb);
    return rc;
  }
  nnrp_body_data *b = &mb->body;
  if (b->tensor != NULL) {
    for (uint32_t i = 0; i < b->ref_count; i++)
      if (mb->st.refs[i].object_kind == NNRP_OBJECT_TILE_INDEX_BLOCK ||
          mb->st.refs[i].object_kind == NNRP_OBJECT_TENSOR_SECTION_TABLE)
        *referenced = 1;
    if (*referenced && export_resolved(sub, mb) == 0)
      *referenced = 0;
    if (*referenced)
      b->tensor = NULL; /* cannot happen for a submit the library held */
    mb->st.tensor.camera.ptr = NULL; /* a result has no camera block */
    mb->st.tensor.camera.len = 0;
  }
  b->refs = NULL;
  b->ref_count = 0;
  b->extra_inline = NULL;
  b->extra_inline_count = 0;
  b->ext = NULL;
  b->ext_count = 0;
  return 0;
}

static uint16_t ms16(uint64_t ns) {
  uint64_t ms = ns / 1000000u;
  return (uint16_t)(ms > UINT16_MAX ? UINT16_MAX : ms);
}

/* Timing fields of a result (wire.md §6.3). */
static void set_timing(nnrp_result_push *m, const nnrp_received_submit *sub,
                       uint64_t start) {
  uint64_t now = nnrp_runtime_now();
  m->queue_ms = ms16(start - sub->received_at);
  m->inference_ms = ms16(now - start);
  m->server_total_ms = ms16(now - sub->received_at);
}

/* One non-final push carrying a single token chunk. */
static int64_t send_chunk(const nnrp_received_submit *sub,
                          const nnrp_typed_frame *chunk, uint64_t start,
                          const model_sink *sink) {
  nnrp_result r;
  memset(&r, 0, sizeof(r));
  r.body.typed = chunk;
  r.body.typed_count = 1;
  set_timing(&r.meta, sub, start);
  return sink->send(sink->ctx, &r, NULL);
}

/*
 * Streams the token payloads of mb: every chunk but the last goes out now
 * as a non-final push; fin[] receives the final result's typed list (the
 * other payloads in order, then the last chunk).
 * @return >= 0 the count in fin; a negative error.
 */
static int stream_tokens(const nnrp_received_submit *sub, const model_body *mb,
                         nnrp_typed_frame *fin, uint64_t start,
                         const model_sink *sink, model_report *rep) {
  const nnrp_body_data *b = &mb->body;
  nnrp_typed_frame pending;
  int have = 0, n = 0;
  for (uint16_t i = 0; i < b->typed_count; i++) {
    const nnrp_typed_frame *tf = &b->typed[i];
    if (tf->payload_kind != NNRP_PAYLOAD_KIND_TOKEN_CHUNK) {
      fin[n++] = *tf;
      continue;
    }
    nnrp_bytes chunks[MODEL_MAX_CHUNKS];
    size_t nc = model_token_chunks(tf->data, chunks, MODEL_MAX_CHUNKS);
    for (size_t c = 0; c < nc; c++) {
      if (have) {
        int64_t rc = send_chunk(sub, &pending, start, sink);
        if (rc < 0)
          return (int)rc;
        rep->packets += rc > 0;
      }
      nnrp_token_chunk_frame(&pending, chunks[c], tf->profile_id);
      have = 1;
    }
  }
  if (have)
    fin[n++] = pending;
  return n;
}

int model_answer(model_kind kind, const nnrp_received_submit *sub,
                 const model_plan *plan, const model_sink *sink,
                 model_report *rep) {
  uint64_t start = nnrp_runtime_now();
  model_body mb;
  int referenced = 0;
  int rc = model_body_export(sub, &mb, &referenced);
  if (rc != 0)
    return rc;
  nnrp_result fin;
  memset(&fin, 0, sizeof(fin));
  fin.final = 1;
  fin.body = mb.body;
  if (referenced)
    fin.meta.status_code = MODEL_STATUS_REFERENCED;
  void *owned = NULL;
  nnrp_typed_frame *typed = NULL;
  if (mb.body.tensor != NULL)
    rc = model_tensor_result(kind, sub, plan, &mb, &fin, &owned, rep);
  if (rc == 0 && kind == MODEL_UPSCALE && mb.body.typed_count != 0) {
    typed = calloc(mb.body.typed_count, sizeof(*typed));
    rc = typed ? stream_tokens(sub, &mb, typed, start, sink, rep)
               : NNRP_ERR_NOMEM;
    if (rc >= 0) {
      fin.body.typed = rc ? typed : NULL;
      fin.body.typed_count = (uint16_t)rc;
      rc = 0;
    }
  }
  if (rc == 0) {
    set_timing(&fin.meta, sub, start);
    int64_t sent = sink->send(sink->ctx, &fin, owned); /* takes owned */
    owned = NULL;
    rep->packets += sent > 0;
    rc = sent < 0 ? (int)sent : 0;
  }
  free(owned);
  free(typed);
  model_body_free(&mb);
  return rc;
}
