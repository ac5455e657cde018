/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_conformance.c - the public conformance suite (NagareWorks/
 * nnrp-conformance, ../shared/vectors/conformance) on the seed line:
 * preview2 in full (shared/vectors/README.md §2): the 12 semantic-vector
 * recipes encoded through the reflection API and compared with the golden
 * hex of seed-line.json, every case executed or skipped with a reason, and
 * the adapter self-report (capability manifest + case results, checked
 * against the suite's schemas). preview4 and preview3 (README §3, §4):
 * test_conformance_p4.c. What runs, what is skipped: docs/conformance.md.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "vectors.h"
#include "wire/wire_int.h"

#define P2 "conformance/protocol/nnrp-1-preview2/"
#define PKT_CAP 8192u
#define MB NNRP_ERR_MALFORMED_BODY

static cJSON *g_seed;    /* seed-line.json */
static cJSON *g_recipes; /* preview2 vectors/semantic-vectors.json */

/* ---- Failure accounting: a case passes when none of its checks failed -- */

static unsigned g_fails;
static int note(int ok) {
  if (!ok)
    g_fails++;
  return ok;
}
#define CK(c) note(CHECK(c))
#define CK_INT(a, b) note(CHECK_EQ_INT(a, b))
#define CK_U64(a, b) note(CHECK_EQ_U64(a, b))
#define CK_MEM(a, b, n) note(CHECK_EQ_MEM(a, b, n))
#define CK_STR(a, b) note(CHECK_EQ_STR(a, b))
#define FAIL(what, name) fail_at(__LINE__, what, name)

static void fail_at(int line, const char *what, const char *name) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, name ? name : "(null)");
  harness_fail(__FILE__, line, msg);
  g_fails++;
}

static void show_fault(const nnrp_fault *f) {
  char line[256];
  nnrp_fault_format(f, line, sizeof line);
  printf("  fault: %s\n", line);
}

/* ---- JSON ------------------------------------------------------------ */

/* An integer item: a JSON number (exact below 2^53), or a string of
 * decimal digits or "0x" hex, optionally followed by " NAME" (the seed-line
 * "fields" write "0x10 FRAME_SUBMIT"). Returns 1 on success. */
static int json_u64(const cJSON *it, uint64_t *out) {
  if (cJSON_IsNumber(it)) {
    double d = it->valuedouble;
    if (!(d >= 0.0 && d <= 9007199254740992.0) || d != (double)(uint64_t)d)
      return 0;
    *out = (uint64_t)d;
    return 1;
  }
  if (!cJSON_IsString(it))
    return 0;
  const char *s = it->valuestring;
  int base = 10;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s += 2;
    base = 16;
  }
  if (!isxdigit((unsigned char)s[0]))
    return 0;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, base);
  if (errno != 0 || (*end != '\0' && *end != ' '))
    return 0;
  *out = (uint64_t)v;
  return 1;
}

static const char *jstr(const cJSON *o, const char *key) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* Item of a list whose "key" equals val, or NULL. */
static const cJSON *find_by(const cJSON *list, const char *key,
                            const char *val) {
  const cJSON *it;
  cJSON_ArrayForEach(it, list) {
    const char *s = jstr(it, key);
    if (s != NULL && strcmp(s, val) == 0)
      return it;
  }
  return NULL;
}

/* ---- Seed-line vectors ------------------------------------------------- */

static const cJSON *seed_vec(const char *name) {
  const cJSON *v = find_by(cJSON_GetObjectItemCaseSensitive(g_seed, "vectors"),
                           "name", name);
  if (v == NULL)
    harness_die(__FILE__, __LINE__, name);
  return v;
}

/* The one vector whose "source" names token exactly (followed by the end,
 * ';' or ' '), or NULL. */
static const cJSON *seed_vec_by_source(const char *token) {
  const cJSON *v, *hit = NULL;
  size_t tl = strlen(token);
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(g_seed, "vectors")) {
    const char *s = jstr(v, "source");
    for (const char *p = s ? strstr(s, token) : NULL; p != NULL;
         p = strstr(p + 1, token)) {
      if (p[tl] == '\0' || p[tl] == ';' || p[tl] == ' ') {
        if (hit != NULL && hit != v)
          return NULL; /* ambiguous */
        hit = v;
      }
    }
  }
  return hit;
}

static size_t vec_hex(const cJSON *v, uint8_t **out) {
  const char *hex = jstr(v, "hex");
  if (hex == NULL)
    harness_die(__FILE__, __LINE__, "vector without hex");
  return nnrp_test_hex_decode(hex, out);
}

static size_t vec_bytes(const char *name, uint8_t **out) {
  return vec_hex(seed_vec(name), out);
}

/* ---- Recipe names -> wire.md fields and values ------------------------- */

/* Symbolic recipe values per (struct, wire.md field): the words of an
 * enum ('e') are its values 0, 1, 2, ...; the words of a bitmask ('b') are
 * bits 0, 1, 2, ... ("-" holds an unused place). A list of words is ORed.
 * "inherit_session" is wire.md's 0xFF INHERIT (see sym_value()). */
#define KINDS                                                                  \
  "tensor token_chunk audio_chunk video_chunk structured_event tool_delta "    \
  "opaque_bytes"
#define BUDGET "allow_partial allow_stale_reuse allow_degraded allow_drop"
#define PATCH                                                                  \
  "target_cadence quality_tier degrade_policy active_lane_mask "               \
  "preferred_codec preferred_compression profile_patch"
static const struct {
  int sid;
  const char *field;
  char kind;
  const char *words;
} k_syms[] = {
    {NNRP_STRUCT_HEADER, "flags", 'b',
     "ack_required can_drop stale eos retransmit keyframe"},
    {NNRP_STRUCT_CLIENT_HELLO, "supported_payload_kind_bitmap", 'b', KINDS},
    {NNRP_STRUCT_SESSION_PATCH_ACK, "ack_status", 'e',
     "accepted partially_applied rejected"},
    {NNRP_STRUCT_SESSION_PATCH_ACK, "reject_reason", 'e',
     "none unsupported_field invalid_range unsupported_strategy "
     "invalid_lane_mask rate_limited"},
    {NNRP_STRUCT_SESSION_PATCH_ACK, "applied_patch_mask", 'b', PATCH},
    {NNRP_STRUCT_SESSION_PATCH_ACK, "rejected_patch_mask", 'b', PATCH},
    {NNRP_STRUCT_FLOW_UPDATE, "scope_kind", 'e',
     "connection session operation"},
    {NNRP_STRUCT_FLOW_UPDATE, "update_reason", 'e',
     "grant reduce pause resume congestion"},
    {NNRP_STRUCT_FLOW_UPDATE, "backpressure_level", 'e', "none soft hard"},
    {NNRP_STRUCT_FLOW_UPDATE, "flow_flags", 'b',
     "credit_valid retry_after_valid background_only drain_in_flight_only"},
    {NNRP_STRUCT_RESULT_HINT, "applied_budget_policy", 'e',
     "none full partial stale_reuse drop"},
    {NNRP_STRUCT_RESULT_HINT, "congestion_state", 'e',
     "none steady elevated saturated"},
    {NNRP_STRUCT_RESULT_HINT, "reason", 'e',
     "none queue_full server_busy budget_exceeded superseded"},
    {NNRP_STRUCT_FRAME_SUBMIT, "input_profile", 'e',
     "unspecified changed_tiles_luma dense_luma_frame"},
    {NNRP_STRUCT_FRAME_SUBMIT, "tile_index_mode", 'e',
     "dense_range raw_u16 delta_u16 bitset"},
    {NNRP_STRUCT_FRAME_SUBMIT, "submit_mode", 'e', "inline reference mixed"},
    {NNRP_STRUCT_FRAME_SUBMIT, "budget_policy", 'b', BUDGET},
    {NNRP_STRUCT_FRAME_SUBMIT, "loss_tolerance_policy", 'e',
     "strict best_effort low_latency fire_and_forget"},
    {NNRP_STRUCT_FRAME_SUBMIT, "payload_kind_bitmap", 'b', KINDS},
    {NNRP_STRUCT_RESULT_PUSH, "result_flags", 'b', "stale fallback partial"},
    {NNRP_STRUCT_RESULT_PUSH, "result_class", 'e',
     "complete partial stale_reuse degraded"},
    {NNRP_STRUCT_RESULT_PUSH, "applied_budget_policy", 'b', BUDGET},
    {NNRP_STRUCT_RESULT_PUSH, "payload_kind_bitmap", 'b', KINDS},
    {NNRP_STRUCT_OBJECT_REF, "object_kind", 'e',
     "- camera_block tile_index_block tensor_section_table codec_table "
     "reusable_result_object payload_layout_template prompt_segment "
     "tool_schema structured_event_schema"},
    {NNRP_STRUCT_TYPED_FRAME, "payload_kind", 'b', KINDS},
};
/* Recipe keys that differ from the wire.md field name (docs/conformance.md). */
static const struct {
  int sid;
  const char *recipe, *wire;
} k_names[] = {
    {NNRP_STRUCT_HEADER, "message_type", "msg_type"},
    {NNRP_STRUCT_FLOW_UPDATE, "flow_update_flags", "flow_flags"},
};

static const char *wire_name(int sid, const char *key) {
  for (size_t i = 0; i < sizeof k_names / sizeof k_names[0]; i++)
    if (k_names[i].sid == sid && strcmp(k_names[i].recipe, key) == 0)
      return k_names[i].wire;
  return key;
}

/* Index of word w in a space-separated list, or -1. */
static int word_index(const char *list, const char *w) {
  size_t wl = strlen(w);
  for (int i = 0; *list != '\0'; i++) {
    size_t l = strcspn(list, " ");
    if (l == wl && strncmp(list, w, wl) == 0)
      return i;
    list += l + (list[l] == ' ');
  }
  return -1;
}

static int sym_value(int sid, const char *field, const char *name,
                     uint64_t *v) {
  if (sid == NNRP_STRUCT_HEADER && strcmp(field, "msg_type") == 0) {
    int t = nnrp_msg_type_from_name(name);
    *v = (uint64_t)(t > 0 ? t : 0);
    return t > 0;
  }
  if (sid == NNRP_STRUCT_FRAME_SUBMIT &&
      strcmp(field, "loss_tolerance_policy") == 0 &&
      strcmp(name, "inherit_session") == 0)
    return (*v = NNRP_LOSS_TOLERANCE_INHERIT), 1;
  for (size_t i = 0; i < sizeof k_syms / sizeof k_syms[0]; i++) {
    if (k_syms[i].sid != sid || strcmp(k_syms[i].field, field) != 0)
      continue;
    int k = word_index(k_syms[i].words, name);
    if (k < 0)
      return 0;
    *v = k_syms[i].kind == 'b' ? (uint64_t)1 << (unsigned)k : (uint64_t)k;
    return 1;
  }
  return 0;
}

/* The value of a recipe item for (sid, field): an integer, a symbol, or a
 * list of symbols (bitmask, ORed; [] is 0). */
static int recipe_value(int sid, const char *field, const cJSON *it,
                        uint64_t *out) {
  if (cJSON_IsArray(it)) {
    const cJSON *e;
    uint64_t acc = 0, v;
    cJSON_ArrayForEach(e, it) {
      if (!cJSON_IsString(e) || !sym_value(sid, field, e->valuestring, &v))
        return 0;
      acc |= v;
    }
    *out = acc;
    return 1;
  }
  if (cJSON_IsString(it) && sym_value(sid, field, it->valuestring, out))
    return 1;
  return json_u64(it, out);
}

typedef struct target {
  int sid;
  void *base;
} target;

/* Finds the field a recipe key names in the first target that has it. */
static const nnrp_field_desc *target_field(const target *t, size_t n,
                                           const char *key, size_t *which) {
  for (size_t i = 0; i < n; i++) {
    const nnrp_field_desc *fd =
        nnrp_field_find(t[i].sid, wire_name(t[i].sid, key));
    if (fd != NULL)
      return (*which = i), fd;
  }
  return NULL;
}

/* Sets (compare = 0) or compares (compare = 1) every field of recipe r;
 * a key naming no field, an unresolvable value or a value too wide for its
 * field is a failure. Returns 1 when everything matched. */
static int recipe_fields(const cJSON *r, const target *t, size_t n,
                         int compare) {
  int ok = 1;
  const cJSON *it;
  cJSON_ArrayForEach(it, r) {
    if (word_index("recipe_type name description frames", it->string) >= 0)
      continue; /* identification and typed frame lists, not fields */
    size_t w = 0;
    uint64_t v;
    const nnrp_field_desc *fd = target_field(t, n, it->string, &w);
    if (fd == NULL) {
      FAIL("recipe key with no wire.md field", it->string);
      ok = 0;
    } else if (!recipe_value(t[w].sid, fd->name, it, &v) ||
               (fd->size < 8 && (v >> (8u * fd->size)) != 0)) {
      FAIL("recipe value not resolvable", it->string);
      ok = 0;
    } else if (!compare) {
      nnrp_field_set(t[w].base, fd, v);
    } else if (!CK_U64(nnrp_field_get(t[w].base, fd), v)) {
      printf("  field %s of %s\n", fd->name,
             jstr(r, "name") ? jstr(r, "name") : "vector");
      ok = 0;
    }
  }
  return ok;
}

/* The integer "fields" of a seed vector, or a metadata context, set into
 * (compare 0) or compared with (1) one struct; the rules of recipes. */
static int fields_of(const cJSON *obj, int sid, const void *base, int compare) {
  target t = {sid, (void *)(uintptr_t)base};
  return recipe_fields(obj, &t, 1, compare);
}

/* ---- Packet helpers ---------------------------------------------------- */

static void put_le(uint8_t *p, uint64_t v, unsigned width) {
  for (unsigned i = 0; i < width; i++)
    p[i] = (uint8_t)(v >> (8u * i));
}

static int pkt_decode(nnrp_packet *p, const uint8_t *b, size_t n,
                      uint32_t flags, nnrp_fault *f) {
  nnrp_wire_opts o;
  nnrp_wire_opts_default(&o);
  o.flags = flags;
  memset(f, 0, sizeof(*f));
  return nnrp_packet_decode(p, b, n, &o, f);
}

/* One patch: v (width bytes, little-endian) written at off, decoded with
 * flags; expects err (0: accepted) and, for a failure, the fault's field. */
typedef struct patch {
  size_t off;
  uint64_t v;
  unsigned width;
  uint32_t flags;
  int err;
  const char *field;
} patch;
#define LENIENT NNRP_WIRE_LENIENT
#define NPATCH(a) (sizeof(a) / sizeof((a)[0]))

/* Decodes a patched copy of in: the metadata of msg, or (msg 0) a packet
 * of n bytes followed by grow zero bytes. */
static int check_patch(uint8_t msg, const uint8_t *in, size_t n, size_t grow,
                       const patch *pt) {
  uint8_t buf[PKT_CAP] = {0};
  nnrp_meta m;
  nnrp_packet p;
  nnrp_fault f = {0};
  if (msg != 0)
    n = (size_t)nnrp_msg_meta_len(msg);
  memcpy(buf, in, n);
  put_le(buf + pt->off, pt->v, pt->width);
  int rc = msg != 0 ? nnrp_meta_decode(msg, &m, buf, n, pt->flags, &f)
                    : pkt_decode(&p, buf, n + grow, pt->flags, &f);
  int ok = CK_INT(rc, pt->err) && (rc == 0 || CK_STR(f.field, pt->field));
  if (!ok)
    printf("  patch @%zu = %llu (flags %u)\n", pt->off,
           (unsigned long long)pt->v, (unsigned)pt->flags);
  return ok;
}

static void check_patches(uint8_t msg, const uint8_t *in, size_t n,
                          const patch *pt, size_t count) {
  for (size_t i = 0; i < count; i++)
    check_patch(msg, in, n, 0, &pt[i]);
}

/* Control packet: decode (strict), rebuild from the decoded header and
 * metadata (CACHE_PUT object carried over), compare bytes. */
static int reemit_control(const uint8_t *pkt, size_t n) {
  nnrp_packet p;
  nnrp_fault f;
  uint8_t out[PKT_CAP];
  nnrp_out o;
  if (!CK_INT(pkt_decode(&p, pkt, n, 0, &f), 0))
    return show_fault(&f), 0;
  nnrp_control_body ctl;
  memset(&ctl, 0, sizeof ctl);
  if (p.hdr.msg_type == NNRP_MSG_CACHE_PUT)
    ctl.bytes = p.b.object;
  nnrp_meta m = p.m;
  nnrp_out_init(&o, out, sizeof out, NULL, 0);
  int rc = nnrp_build_control(&o, &p.hdr, &m, &ctl, &f);
  return CK_INT(rc, 0) && CK_U64(o.total, n) && CK_MEM(out, pkt, n);
}

/* Storage for nnrp_body_data_from_view(). */
typedef struct export_store {
  nnrp_body_storage st;
  nnrp_body_data data;
  nnrp_section_data sections[4];
  nnrp_bytes tiles[4 * 16];
  uint8_t codecs[4 * 16];
  uint16_t ids[16];
  nnrp_typed_frame typed[8];
  nnrp_object_ref refs[4];
  nnrp_inline_object extra[4];
  nnrp_ext_frame ext[4];
} export_store;

static int export_body(const nnrp_packet *p, export_store *e) {
  memset(e, 0, sizeof(*e));
  nnrp_body_storage *st = &e->st;
#define STORE(f, a) (st->f = e->a, st->f##_cap = NPATCH(e->a))
  STORE(sections, sections), STORE(tiles, tiles), STORE(codecs, codecs);
  STORE(tile_ids, ids), STORE(typed, typed), STORE(refs, refs);
  STORE(extra_inline, extra), STORE(ext, ext);
#undef STORE
  return CK_INT(nnrp_body_data_from_view(p->hdr.msg_type, &p->m, &p->b.data,
                                         &e->data, &e->st),
                0);
}

/* Builds FRAME_SUBMIT or RESULT_PUSH (session 7, frame 1 unless hdr) into
 * out; returns the length, or -1 after a failed check. */
static long data_build(uint8_t msg, const nnrp_header *hdr, nnrp_meta *m,
                       const nnrp_body_data *b, uint8_t *out, size_t cap) {
  nnrp_header h;
  nnrp_fault f = {0};
  nnrp_out o;
  if (hdr != NULL) {
    h = *hdr;
  } else {
    nnrp_header_init(&h, msg);
    h.session_id = 7;
    h.frame_id = 1;
  }
  nnrp_out_init(&o, out, cap, NULL, 0);
  int rc = msg == NNRP_MSG_FRAME_SUBMIT
               ? nnrp_build_frame_submit(&o, &h, &m->frame_submit, b, &f)
               : nnrp_build_result_push(&o, &h, &m->result_push, b, &f);
  if (!CK_INT(rc, 0))
    return show_fault(&f), -1;
  return (long)o.total;
}

/* Data packet: decode (strict) -> builder input -> rebuild into out.
 * Returns the rebuilt length, or -1 after a failed check. */
static long rebuild(const uint8_t *pkt, size_t n, uint8_t *out, size_t cap) {
  static export_store e;
  nnrp_packet p;
  nnrp_fault f;
  if (!CK_INT(pkt_decode(&p, pkt, n, 0, &f), 0)) {
    show_fault(&f);
    return -1;
  }
  if (!export_body(&p, &e))
    return -1;
  nnrp_meta m = p.m;
  return data_build(p.hdr.msg_type, &p.hdr, &m, &e.data, out, cap);
}

/* ... and the rebuilt packet is the same bytes. */
static int reemit_data(const uint8_t *pkt, size_t n) {
  static uint8_t out[PKT_CAP];
  long k = rebuild(pkt, n, out, sizeof out);
  return k > 0 && CK_U64(k, n) && CK_MEM(out, pkt, n);
}

/* Builds msg of b (FRAME_SUBMIT in submit_mode mode), checks that the
 * last gn bytes of region r of its composed body (r < 0: the prelude) are
 * the golden bytes, writes the golden bytes there and decodes the packet
 * (strict) into *p: the caller then compares what the golden bytes decode
 * to. Returns the packet length, or 0 after a failed check. */
static size_t body_golden(uint8_t msg, const nnrp_body_data *b, uint8_t mode,
                          int r, const uint8_t *g, size_t gn, uint8_t *pkt,
                          nnrp_packet *p) {
  nnrp_meta m;
  nnrp_fault f;
  memset(&m, 0, sizeof m);
  if (msg == NNRP_MSG_FRAME_SUBMIT)
    m.frame_submit.submit_mode = mode;
  long n = data_build(msg, NULL, &m, b, pkt, PKT_CAP);
  if (n <= 0 || !CK_INT(pkt_decode(p, pkt, (size_t)n, 0, &f), 0) ||
      !CK(p->b.data.composed))
    return 0;
  const uint8_t *at = r < 0 ? p->body_raw.ptr : p->b.data.regions[r].ptr;
  size_t len = r < 0 ? 32u : p->b.data.regions[r].len;
  if (!CK(len >= gn) || !CK_MEM(at + len - gn, g, gn))
    return 0;
  memcpy(pkt + (at - pkt) + len - gn, g, gn);
  return CK_INT(pkt_decode(p, pkt, (size_t)n, 0, &f), 0) ? (size_t)n : 0;
}

/* ---- Recipe runners ---------------------------------------------------- */

static void recipe_header(const cJSON *r, int arg, const uint8_t *g,
                          size_t gn) {
  (void)arg;
  nnrp_header h, d;
  uint8_t enc[NNRP_HEADER_LEN];
  nnrp_wire_opts o;
  nnrp_fault f;
  nnrp_header_init(&h, 0);
  target t = {NNRP_STRUCT_HEADER, &h};
  if (!recipe_fields(r, &t, 1, 0) || !CK_U64(gn, NNRP_HEADER_LEN))
    return;
  nnrp_header_encode(&h, enc);
  CK_MEM(enc, g, gn);
  nnrp_wire_opts_default(&o);
  if (!CK_INT(nnrp_header_decode(&d, g, gn, &o, &f), 0))
    return;
  t.base = &d;
  recipe_fields(r, &t, 1, 1);
  nnrp_header_encode(&d, enc);
  CK_MEM(enc, g, gn);
}

static void recipe_meta(const cJSON *r, int arg, const uint8_t *g, size_t gn) {
  uint8_t msg = (uint8_t)arg;
  nnrp_meta m, d;
  uint8_t enc[128];
  nnrp_fault f = {0};
  memset(&m, 0, sizeof m);
  target t = {nnrp_meta_struct_id(msg), &m};
  if (!recipe_fields(r, &t, 1, 0))
    return;
  int n = nnrp_meta_encode(msg, &m, enc, sizeof enc);
  if (CK_U64(n, gn))
    CK_MEM(enc, g, gn);
  if (!CK_INT(nnrp_meta_decode(msg, &d, g, gn, 0, &f), 0)) {
    show_fault(&f);
    return;
  }
  t.base = &d;
  recipe_fields(r, &t, 1, 1);
  if (CK_INT(nnrp_meta_encode(msg, &d, enc, sizeof enc), (int)gn))
    CK_MEM(enc, g, gn);
}

/* Packet recipes carry header and metadata fields in one object; the
 * builder derives meta_len/body_len. */
static void recipe_packet(const cJSON *r, int arg, const uint8_t *g,
                          size_t gn) {
  uint8_t msg = (uint8_t)arg;
  nnrp_header h;
  nnrp_meta m;
  nnrp_packet p;
  nnrp_fault f = {0};
  uint8_t out[PKT_CAP];
  nnrp_out o;
  nnrp_header_init(&h, msg);
  memset(&m, 0, sizeof m);
  target t[2] = {{nnrp_meta_struct_id(msg), &m}, {NNRP_STRUCT_HEADER, &h}};
  if (!recipe_fields(r, t, 2, 0))
    return;
  nnrp_out_init(&o, out, sizeof out, NULL, 0);
  if (CK_INT(nnrp_build_control(&o, &h, &m, NULL, &f), 0) &&
      CK_U64(o.total, gn))
    CK_MEM(out, g, gn);
  if (!CK_INT(pkt_decode(&p, g, gn, 0, &f), 0)) {
    show_fault(&f);
    return;
  }
  t[0].base = &p.m;
  t[1].base = &p.hdr;
  recipe_fields(r, t, 2, 1);
  reemit_control(g, gn);
}

/* A FRAME_SUBMIT whose six regions have the recipe's lengths: one non-slot
 * inline object (PROMPT_SEGMENT), one reference (PAYLOAD_LAYOUT_TEMPLATE
 * slot, REFERENCE mode), one typed frame, one extension frame. */
static void recipe_prelude(const cJSON *r, int arg, const uint8_t *g,
                           size_t gn) {
  (void)arg;
  static const uint8_t fill[64] = {'x'};
  static uint8_t pkt[PKT_CAP];
  nnrp_prelude pr;
  nnrp_packet p;
  memset(&pr, 0, sizeof pr);
  target t = {NNRP_STRUCT_PRELUDE, &pr};
  if (!recipe_fields(r, &t, 1, 0) || !CK_U64(gn, 32))
    return;
  if (!CK(pr.inline_object_bytes >= 16 && pr.inline_object_bytes % 8 == 0 &&
          pr.inline_object_bytes <= 16 + sizeof fill &&
          pr.object_reference_bytes == 16 &&
          pr.typed_payload_descriptor_bytes == 16 &&
          pr.extension_descriptor_bytes == 16 &&
          pr.typed_payload_frame_bytes <= sizeof fill &&
          pr.extension_payload_bytes <= sizeof fill)) {
    FAIL("prelude shape not buildable here", jstr(r, "name"));
    return;
  }
  nnrp_inline_object io = {.object_kind = NNRP_OBJECT_PROMPT_SEGMENT,
                           .data = {fill, pr.inline_object_bytes - 16u}};
  nnrp_object_ref ref = {.object_kind = NNRP_OBJECT_PAYLOAD_LAYOUT_TEMPLATE,
                         .cache_namespace = 1,
                         .cache_key_lo = 1};
  nnrp_typed_frame tf;
  nnrp_token_chunk_frame(&tf, (nnrp_bytes){fill, pr.typed_payload_frame_bytes},
                         0);
  nnrp_ext_frame ef = {.extension_kind = 0x7001,
                       .data = {fill, pr.extension_payload_bytes}};
  nnrp_body_data b = {.typed = &tf,
                      .typed_count = 1,
                      .refs = &ref,
                      .ref_count = 1,
                      .extra_inline = &io,
                      .extra_inline_count = 1,
                      .ext = &ef,
                      .ext_count = 1};
  if (body_golden(NNRP_MSG_FRAME_SUBMIT, &b, NNRP_SUBMIT_MODE_REFERENCE, -1, g,
                  gn, pkt, &p)) {
    t.base = &p.b.data.prelude;
    recipe_fields(r, &t, 1, 1);
  }
}

/* One reference block in a MIXED FRAME_SUBMIT (its slot set by the kind). */
static void recipe_ref(const cJSON *r, int arg, const uint8_t *g, size_t gn) {
  (void)arg;
  static uint8_t pkt[PKT_CAP];
  nnrp_object_ref ref, d;
  nnrp_packet p;
  memset(&ref, 0, sizeof ref);
  target t = {NNRP_STRUCT_OBJECT_REF, &ref};
  if (!recipe_fields(r, &t, 1, 0))
    return;
  nnrp_body_data b = {.refs = &ref, .ref_count = 1};
  if (!body_golden(NNRP_MSG_FRAME_SUBMIT, &b, NNRP_SUBMIT_MODE_MIXED,
                   NNRP_REGION_REFS, g, gn, pkt, &p) ||
      !CK_INT(nnrp_data_body_ref(&p.b.data, 0, &d), 0))
    return;
  t.base = &d;
  recipe_fields(r, &t, 1, 1);
}

/* The descriptor of a typed frame; a payload_offset > 0 is produced by a
 * preceding frame of that many bytes (encoders pack frames from 0, T5). */
static void recipe_typed_desc(const cJSON *r, int arg, const uint8_t *g,
                              size_t gn) {
  (void)arg;
  static const uint8_t fill[256];
  static uint8_t pkt[PKT_CAP];
  nnrp_typed_frame want, tf[2], d;
  nnrp_packet p;
  memset(&want, 0, sizeof want);
  target t = {NNRP_STRUCT_TYPED_FRAME, &want};
  if (!recipe_fields(r, &t, 1, 0) || !CK_U64(gn, 16) ||
      !CK(want.payload_offset + want.payload_length <= sizeof fill))
    return;
  uint16_t i = want.payload_offset != 0;
  nnrp_opaque_bytes_frame(&tf[0], (nnrp_bytes){fill, want.payload_offset}, 0);
  tf[i] = (nnrp_typed_frame){
      .payload_kind = want.payload_kind,
      .profile_id = want.profile_id,
      .data = {fill + want.payload_offset, want.payload_length}};
  nnrp_body_data b = {.typed = tf, .typed_count = (uint16_t)(i + 1u)};
  if (body_golden(NNRP_MSG_FRAME_SUBMIT, &b, NNRP_SUBMIT_MODE_INLINE,
                  NNRP_REGION_TYPED_DESC, g, gn, pkt, &p) &&
      CK_INT(nnrp_data_body_typed(&p.b.data, i, &d), 0)) {
    t.base = &d;
    recipe_fields(r, &t, 1, 1);
  }
}

/* Typed frames of a recipe's "frames" list (data: views of the JSON). */
static uint16_t recipe_frames(const cJSON *r, nnrp_typed_frame *tf,
                              uint16_t cap) {
  uint16_t n = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "frames")) {
    uint64_t kind = 0, profile = 0;
    const char *s = jstr(it, "payload_utf8");
    if (n == cap || s == NULL ||
        !sym_value(NNRP_STRUCT_TYPED_FRAME, "payload_kind",
                   jstr(it, "payload_kind") ? jstr(it, "payload_kind") : "",
                   &kind) ||
        !json_u64(cJSON_GetObjectItemCaseSensitive(it, "profile_id"),
                  &profile) ||
        profile > 0xFFFF)
      return FAIL("typed frame not readable", jstr(r, "name")), 0;
    tf[n++] = (nnrp_typed_frame){.payload_kind = (uint8_t)kind,
                                 .profile_id = (uint16_t)profile,
                                 .data = {(const uint8_t *)s, strlen(s)}};
  }
  return n;
}

/* Packs a typed-only message of the frames and checks region r against
 * the golden bytes, then decodes the golden bytes back into the frames. */
static void typed_region(uint8_t msg, const nnrp_typed_frame *tf, uint16_t n,
                         int r, const uint8_t *g, size_t gn) {
  static uint8_t pkt[PKT_CAP];
  nnrp_packet p;
  nnrp_typed_frame d;
  nnrp_body_data b = {.typed = tf, .typed_count = n};
  size_t len = body_golden(msg, &b, 0, r, g, gn, pkt, &p);
  if (len == 0 || !CK_U64(p.b.data.typed_count, n) ||
      !CK_U64(p.b.data.regions[r].len, gn))
    return;
  for (uint16_t i = 0; i < n; i++) {
    if (!CK_INT(nnrp_data_body_typed(&p.b.data, i, &d), 0))
      return;
    CK_INT(d.payload_kind, tf[i].payload_kind);
    CK_INT(d.profile_id, tf[i].profile_id);
    if (CK_U64(d.data.len, tf[i].data.len))
      CK_MEM(d.data.ptr, tf[i].data.ptr, d.data.len);
  }
  CK(reemit_data(pkt, len));
}

static void recipe_typed_region(const cJSON *r, int region, const uint8_t *g,
                                size_t gn) {
  nnrp_typed_frame tf[8];
  uint16_t n = recipe_frames(r, tf, 8);
  if (CK(n > 0))
    typed_region(NNRP_MSG_FRAME_SUBMIT, tf, n, region, g, gn);
}

/* ---- Recipe dispatch --------------------------------------------------- */

static const char *g_ran[32]; /* preview2 recipes run, for the coverage */
static size_t g_nran;

/* recipe_type -> runner and its argument (message type or region). */
static const struct {
  const char *type;
  void (*run)(const cJSON *r, int arg, const uint8_t *g, size_t gn);
  int arg;
} k_runners[] = {
    {"header", recipe_header, 0},
    {"client_hello_metadata", recipe_meta, NNRP_MSG_CLIENT_HELLO},
    {"session_patch_ack_metadata", recipe_meta, NNRP_MSG_SESSION_PATCH_ACK},
    {"frame_submit_metadata", recipe_meta, NNRP_MSG_FRAME_SUBMIT},
    {"result_push_metadata", recipe_meta, NNRP_MSG_RESULT_PUSH},
    {"flow_update_packet", recipe_packet, NNRP_MSG_FLOW_UPDATE},
    {"result_hint_packet", recipe_packet, NNRP_MSG_RESULT_HINT},
    {"body_region_prelude", recipe_prelude, 0},
    {"object_reference_block", recipe_ref, 0},
    {"typed_payload_descriptor", recipe_typed_desc, 0},
    {"typed_payload_descriptor_region", recipe_typed_region,
     NNRP_REGION_TYPED_DESC},
    {"typed_payload_frame_region", recipe_typed_region,
     NNRP_REGION_TYPED_FRAMES},
};

static void run_recipe(const cJSON *r, const cJSON *golden) {
  const char *type = jstr(r, "recipe_type");
  uint8_t *g;
  size_t i = 0;
  while (i < NPATCH(k_runners) && strcmp(k_runners[i].type, type ? type : ""))
    i++;
  if (!CK(golden != NULL) || !CK(i < NPATCH(k_runners)) ||
      !CK_STR(jstr(golden, "status"), "golden")) {
    FAIL("recipe without runner or golden vector", jstr(r, "name"));
    return;
  }
  size_t gn = vec_hex(golden, &g);
  k_runners[i].run(r, k_runners[i].arg, g, gn);
  free(g);
}

/* Runs recipes by name from a recipe file; the golden vector is the one
 * whose source says "conformance <rev> recipe <name>". */
static void run_recipes(const cJSON *file, const char *rev,
                        const char *const *names, size_t n) {
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(file, "vectors");
  for (size_t i = 0; i < n; i++) {
    char token[256];
    const cJSON *r = find_by(list, "name", names[i]);
    if (r == NULL) {
      FAIL("recipe missing from the suite", names[i]);
      continue;
    }
    snprintf(token, sizeof token, "conformance %s recipe %s", rev, names[i]);
    run_recipe(r, seed_vec_by_source(token));
    if (file == g_recipes && g_nran < 32)
      g_ran[g_nran++] = names[i];
  }
}

#define RECIPES(...)                                                           \
  do {                                                                         \
    static const char *const n_[] = {__VA_ARGS__};                             \
    run_recipes(g_recipes, "preview2", n_, sizeof n_ / sizeof n_[0]);          \
  } while (0)

/* ---- preview2 L0 cases: the recipes of README §2 ----------------------- */

static void l0_header(void) {
  RECIPES("current.header.frame_submit_ack_required_keyframe");
}
static void l0_client_hello(void) { RECIPES("current.metadata.client_hello"); }
static void l0_patch_ack(void) {
  RECIPES("current.metadata.session_patch_ack");
}
static void l0_flow(void) { RECIPES("current.packet.flow_update"); }
static void l0_hint(void) { RECIPES("current.packet.result_hint"); }
static void l0_submit(void) { RECIPES("current.metadata.frame_submit"); }
static void l0_result(void) { RECIPES("current.metadata.result_push"); }
static void l0_prelude(void) { RECIPES("current.body_region.prelude"); }
static void l0_ref(void) {
  RECIPES("current.object_reference.tile_index_block");
}
static void l0_typed_desc(void) { RECIPES("current.typed_payload.descriptor"); }
static void l0_typed_regions(void) {
  RECIPES("current.typed_payload.frame_descriptor_region",
          "current.typed_payload.frame_region");
}

/* ---- preview2 L1 cases ------------------------------------------------- */

/* A metadata vector: decoded (strict) to its published fields and
 * re-encoded, its patch table checked; then a packet (session 9) around it
 * built (CACHE_PUT carries object_bytes of object), decoded (metadata as
 * published) and re-emitted. Returns the packet length (0 after a failed
 * check); *p holds the decoded packet. */
static size_t control_vector(const char *name, nnrp_meta *m, const patch *pt,
                             size_t npt, uint8_t *pkt, nnrp_packet *p) {
  static const uint8_t obj[4096] = {'o', 'b', 'j'};
  const cJSON *v = seed_vec(name);
  int msg = nnrp_msg_type_from_name(jstr(v, "message_type"));
  uint8_t *g, enc[128];
  nnrp_fault f = {0};
  nnrp_header h;
  nnrp_out o;
  nnrp_control_body ctl;
  size_t n = vec_hex(v, &g), k = 0;
  memset(&ctl, 0, sizeof ctl);
  memset(m, 0, sizeof(*m));
  memset(p, 0, sizeof(*p));
  if (CK(msg > 0) &&
      CK_INT(nnrp_meta_decode((uint8_t)msg, m, g, n, 0, &f), 0)) {
    fields_of(cJSON_GetObjectItemCaseSensitive(v, "fields"),
              nnrp_meta_struct_id((uint8_t)msg), m, 1);
    if (CK_INT(nnrp_meta_encode((uint8_t)msg, m, enc, sizeof enc), (int)n))
      CK_MEM(enc, g, n);
    check_patches((uint8_t)msg, g, 0, pt, npt);
    if (msg == NNRP_MSG_CACHE_PUT && CK(m->cache_put.object_bytes <= 4096))
      ctl.bytes = (nnrp_bytes){obj, m->cache_put.object_bytes};
    nnrp_header_init(&h, (uint8_t)msg);
    h.session_id = 9;
    nnrp_out_init(&o, pkt, PKT_CAP, NULL, 0);
    if (CK_INT(nnrp_build_control(&o, &h, m, &ctl, &f), 0) &&
        CK_INT(pkt_decode(p, pkt, (size_t)o.total, 0, &f), 0) &&
        CK_U64(p->meta_raw.len, n) && CK_MEM(p->meta_raw.ptr, g, n) &&
        CK(reemit_control(pkt, (size_t)o.total)))
      k = (size_t)o.total;
  }
  free(g);
  return k;
}

/* header (session 7, frame 1) ‖ metadata ‖ body, for published bodies. */
static long assemble(uint8_t msg, const nnrp_meta *m, const uint8_t *body,
                     size_t n, uint8_t *out, size_t cap) {
  nnrp_header h;
  nnrp_header_init(&h, msg);
  h.session_id = 7;
  h.frame_id = 1;
  h.body_len = (uint32_t)n;
  if (!CK(NNRP_HEADER_LEN + h.meta_len + n <= cap))
    return -1;
  nnrp_header_encode(&h, out);
  if (!CK_INT(nnrp_meta_encode(msg, m, out + NNRP_HEADER_LEN, 128),
              (int)h.meta_len))
    return -1;
  memcpy(out + NNRP_HEADER_LEN + h.meta_len, body, n);
  return (long)(NNRP_HEADER_LEN + h.meta_len + n);
}

/* wire.md §4.7: enums, reserved fields, flow_flags (both modes), the
 * retry_after gate, the routing columns; then the framed round trip. */
static void l1_flow(void) {
  static const patch pt[] = {
      {28, 0x1, 4, 0, MB, "retry_after_ms"}, /* 40 ms, RETRY_AFTER_VALID 0 */
      {28, 0x13, 4, 0, MB, "flow_flags"},
      {28, 0x80000003u, 4, LENIENT, MB, "flow_flags"},
      {0, 3, 1, 0, MB, "scope_kind"},
      {1, 5, 1, 0, MB, "update_reason"},
      {2, 3, 1, LENIENT, MB, "backpressure_level"},
      {3, 1, 1, 0, MB, "reserved0"},
      {3, 1, 1, LENIENT, 0, NULL},
      {10, 1, 2, 0, MB, "reserved1"},
      {4, 1, 2, 0, MB, "connection_credit"}, /* SESSION scope routing */
      {8, 1, 2, 0, MB, "operation_credit"},
      {12, 1, 8, 0, MB, "operation_id"},
      {6, 0, 2, 0, 0, NULL},
  };
  uint8_t *g, meta[32];
  size_t n = vec_bytes("packet.flow_update.session_congestion_hard", &g);
  CK(reemit_control(g, n));
  check_patches(NNRP_MSG_FLOW_UPDATE, g + NNRP_HEADER_LEN, 0, pt, NPATCH(pt));
  memcpy(meta, g + NNRP_HEADER_LEN, sizeof meta); /* retry 0 needs no flag */
  put_le(meta + 20, 0, 4);
  check_patch(NNRP_MSG_FLOW_UPDATE, meta, 0, 0, &(patch){28, 0x1, 4, 0, 0, 0});
  check_patch(0, g, n, 0, &(patch){20, 0, 4, 0, MB, "session_id"});
  check_patch(0, g, n, 8, &(patch){16, 8, 4, 0, MB, "body_len"});
  free(g);
}

/* wire.md §4.8: three enums in both modes (reason 99), the fixed width. */
static void l1_hint(void) {
  static const patch pt[] = {
      {8, 99, 4, 0, MB, "reason"},
      {8, 99, 4, LENIENT, MB, "reason"},
      {8, 5, 4, 0, MB, "reason"},
      {8, 4, 4, 0, 0, NULL},
      {0, 5, 4, 0, MB, "applied_budget_policy"},
      {4, 4, 4, 0, MB, "congestion_state"},
  };
  static uint8_t pkt0[PKT_CAP];
  uint8_t *pkt, buf[128] = {0};
  nnrp_meta m;
  nnrp_packet p;
  nnrp_fault f;
  if (CK(control_vector("metadata.result_hint.partial_elevated_server_busy", &m,
                        pt, NPATCH(pt), pkt0, &p) > 0))
    memcpy(buf, p.meta_raw.ptr, 16); /* 15 and 17 bytes are not metadata */
  CK_INT(nnrp_meta_decode(NNRP_MSG_RESULT_HINT, &m, buf, 15, 0, &f), MB);
  CK_INT(nnrp_meta_decode(NNRP_MSG_RESULT_HINT, &m, buf, 17, 0, &f), MB);
  size_t pn = vec_bytes("packet.result_hint", &pkt);
  CK(reemit_control(pkt, pn));
  check_patch(0, pkt, pn, 4, &(patch){16, 4, 4, 0, MB, "body_len"});
  /* meta_len 20: four more bytes as metadata */
  check_patch(0, pkt, pn, 4, &(patch){12, 20, 4, 0, MB, "meta_len"});
  free(pkt);
}

/* CACHE_PUT with its object, the CACHE_ACK echoing its key, then
 * CACHE_INVALIDATE (scope 0 with non-zero keys is accepted). */
static void l1_cache(void) {
  static const patch put[] = {{12, 10, 4, 0, MB, "object_kind"},
                              {12, 0, 4, 0, MB, "object_kind"},
                              {28, 4, 4, 0, MB, "flags"},
                              {28, 4, 4, LENIENT, 0, NULL}};
  static const patch ack[] = {{12, 3, 4, 0, MB, "status"}};
  static const patch inv[] = {{0, 4, 4, 0, MB, "invalidate_scope"}};
  static uint8_t pkt[PKT_CAP];
  nnrp_meta mp, ma, mi;
  nnrp_packet p;
  size_t n = control_vector("metadata.cache_put.camera_block", &mp, put,
                            NPATCH(put), pkt, &p);
  uint32_t ob = mp.cache_put.object_bytes;
  if (CK(n > 0) && CK_U64(p.b.object.len, ob))
    check_patch(
        0, pkt, n, 0,
        &(patch){NNRP_HEADER_LEN + 20, ob - 1u, 4, 0, MB, "object_bytes"});
  CK(control_vector("metadata.cache_ack.accepted", &ma, ack, NPATCH(ack), pkt,
                    &p) > 0);
  CK(control_vector("metadata.cache_invalidate.whole_session", &mi, inv,
                    NPATCH(inv), pkt, &p) > 0);
  CK_U64(ma.cache_ack.cache_namespace, mp.cache_put.cache_namespace);
  CK_U64(ma.cache_ack.cache_key_hi, mp.cache_put.cache_key_hi);
  CK_U64(ma.cache_ack.cache_key_lo, mp.cache_put.cache_key_lo);
}

/* TRANSPORT_PROBE with its 'P' filler and the ACK echoing its id. */
static void l1_probe(void) {
  static const patch ackp[] = {{4, 1, 4, 0, MB, "reserved0"},
                               {4, 1, 4, LENIENT, 0, NULL}};
  static uint8_t pkt[PKT_CAP];
  nnrp_meta mp, ma;
  nnrp_packet p;
  size_t n = control_vector("metadata.transport_probe", &mp, NULL, 0, pkt, &p);
  size_t fl = p.b.filler.len, k = 0;
  while (n > 0 && k < fl && p.b.filler.ptr[k] == 0x50)
    k++;
  if (CK(n > 0) && CK(fl == mp.transport_probe.probe_payload_bytes && k == fl))
    check_patch(0, pkt, n, 0,
                &(patch){NNRP_HEADER_LEN + 4, fl - 1u, 4, 0, MB,
                         "probe_payload_bytes"});
  CK(control_vector("metadata.transport_probe_ack", &ma, ackp, NPATCH(ackp),
                    pkt, &p) > 0);
  CK_U64(ma.transport_probe_ack.probe_id, mp.transport_probe.probe_id);
}

/* The decoded tile ids are the published ones, in order. */
static void tile_ids(const nnrp_data_body *b, const cJSON *want) {
  nnrp_tile_iter ti;
  uint32_t id;
  uint64_t w;
  const cJSON *e;
  nnrp_tile_iter_init(&ti, &b->tensor.tiles);
  cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(want, "tile_ids"))
      CK(nnrp_tile_iter_next(&ti, &id) == 1 && json_u64(e, &w) && id == w);
  CK_INT(nnrp_tile_iter_next(&ti, &id), 0);
}

/* The derived FRAME_SUBMIT packet and bodies: parse, re-emit byte-exact. */
static void l1_submit(void) {
  static const char *const bodies[] = {
      "body.frame_submit.typed_only",
      "body.frame_submit.mixed_tensor_typed_inline",
      "body.frame_submit.mixed_mode_references"};
  static uint8_t pkt[PKT_CAP], out[PKT_CAP];
  nnrp_packet p;
  nnrp_fault f;
  uint8_t *g;
  const cJSON *v = seed_vec("packet.frame_submit.legacy_inline_tensor");
  const cJSON *fl = cJSON_GetObjectItemCaseSensitive(v, "fields");
  const cJSON *body = cJSON_GetObjectItemCaseSensitive(fl, "body");
  size_t n = vec_hex(v, &g);
  CK(reemit_data(g, n));
  if (CK_INT(pkt_decode(&p, g, n, 0, &f), 0)) {
    const char *cam = jstr(body, "camera_block_utf8");
    CK(cam && p.b.data.camera.len == strlen(cam) &&
       memcmp(p.b.data.camera.ptr, cam, strlen(cam)) == 0);
    tile_ids(&p.b.data, body);
  }
  free(g);
  for (size_t i = 0; i < NPATCH(bodies); i++) {
    nnrp_meta m;
    memset(&m, 0, sizeof m);
    v = seed_vec(bodies[i]);
    fl = cJSON_GetObjectItemCaseSensitive(v, "fields");
    n = vec_hex(v, &g);
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(fl, "metadata_context");
    /* Only the body is published: the rebuilt body must be the same bytes
     * and the rebuilt metadata must keep the context's values. */
    if (fields_of(ctx, NNRP_STRUCT_FRAME_SUBMIT, &m, 0)) {
      long k = assemble(NNRP_MSG_FRAME_SUBMIT, &m, g, n, pkt, sizeof pkt);
      long k2 = k > 0 ? rebuild(pkt, (size_t)k, out, sizeof out) : -1;
      if (CK(k2 == k) && CK_MEM(out + NNRP_HEADER_LEN + 72, g, n) &&
          CK_INT(pkt_decode(&p, out, (size_t)k2, 0, &f), 0))
        fields_of(ctx, NNRP_STRUCT_FRAME_SUBMIT, &p.m, 1);
    }
    free(g);
  }
}

/* The derived legacy RESULT_PUSH body, then the same tiles as a stale
 * reuse of frame 41 and as a partial result with tile 1 dropped. */
static void l1_result(void) {
  static uint8_t pkt[PKT_CAP], out[PKT_CAP];
  static export_store e;
  nnrp_packet p, q;
  nnrp_fault f;
  nnrp_meta m;
  uint8_t *g;
  uint64_t tib = 0;
  const cJSON *v = seed_vec("body.result_push.legacy_tensor");
  const cJSON *fl = cJSON_GetObjectItemCaseSensitive(v, "fields");
  size_t n = vec_hex(v, &g);
  nnrp_result_push *r = &m.result_push;
  memset(&m, 0, sizeof m);
  CK(json_u64(cJSON_GetObjectItemCaseSensitive(fl, "tile_index_bytes"), &tib));
  r->tile_index_bytes = (uint32_t)tib;
  r->tile_count = (uint16_t)cJSON_GetArraySize(
      cJSON_GetObjectItemCaseSensitive(fl, "tile_ids"));
  r->section_count = (uint16_t)cJSON_GetArraySize(
      cJSON_GetObjectItemCaseSensitive(fl, "sections"));
  r->covered_tile_count = r->tile_count;
  r->payload_kind_bitmap = NNRP_PAYLOAD_KIND_TENSOR;
  long k = assemble(NNRP_MSG_RESULT_PUSH, &m, g, n, pkt, sizeof pkt);
  free(g);
  if (k <= 0 || !CK(reemit_data(pkt, (size_t)k)) ||
      !CK_INT(pkt_decode(&p, pkt, (size_t)k, 0, &f), 0) || !export_body(&p, &e))
    return;
  tile_ids(&p.b.data, fl);
  m = p.m;
  r->result_class = NNRP_RESULT_CLASS_STALE_REUSE;
  r->result_flags = NNRP_RESULT_FLAG_STALE;
  r->applied_budget_policy = NNRP_BUDGET_ALLOW_STALE_REUSE;
  r->reused_frame_id = 41;
  k = data_build(NNRP_MSG_RESULT_PUSH, &p.hdr, &m, &e.data, out, sizeof out);
  if (k > 0 && CK(reemit_data(out, (size_t)k)) &&
      CK_INT(pkt_decode(&q, out, (size_t)k, 0, &f), 0)) {
    CK_INT(q.m.result_push.result_class, NNRP_RESULT_CLASS_STALE_REUSE);
    CK_INT(q.m.result_push.result_flags, NNRP_RESULT_FLAG_STALE);
    CK_U64(q.m.result_push.reused_frame_id, 41);
  }
  m = p.m;
  r->result_class = NNRP_RESULT_CLASS_PARTIAL;
  r->result_flags = NNRP_RESULT_FLAG_PARTIAL;
  r->applied_budget_policy = NNRP_BUDGET_ALLOW_PARTIAL;
  r->covered_tile_count = (uint16_t)(r->tile_count - 1u);
  r->dropped_tile_count = 1;
  for (uint16_t s = 0; s < r->section_count; s++) /* tile 1 dropped */
    e.tiles[(size_t)s * r->tile_count + 1u] = (nnrp_bytes){NULL, 0};
  k = data_build(NNRP_MSG_RESULT_PUSH, &p.hdr, &m, &e.data, out, sizeof out);
  if (k > 0 && CK(reemit_data(out, (size_t)k)) &&
      CK_INT(pkt_decode(&q, out, (size_t)k, 0, &f), 0)) {
    CK_INT(q.m.result_push.dropped_tile_count, 1);
    CK_INT(q.m.result_push.covered_tile_count, q.m.result_push.tile_count - 1);
    /* R6: PARTIAL with no dropped tile. */
    check_patch(NNRP_MSG_RESULT_PUSH, out + NNRP_HEADER_LEN, 0, 0,
                &(patch){52, q.m.result_push.tile_count, 4, 0, MB,
                         "dropped_tile_count"});
  }
}

/* Typed regions pack to the published bytes in FRAME_SUBMIT and
 * RESULT_PUSH; offsets stay region-relative; T3 and T4 are enforced. */
static void l1_typed_pack(void) {
  static uint8_t pkt[PKT_CAP];
  nnrp_typed_frame tf[8], d;
  nnrp_packet p;
  nnrp_fault f;
  nnrp_meta m;
  uint8_t *gd, *gf;
  const cJSON *r =
      find_by(cJSON_GetObjectItemCaseSensitive(g_recipes, "vectors"), "name",
              "current.typed_payload.frame_region");
  const cJSON *dv =
      seed_vec("descriptor.typed_payload.region_token_audio_video_event");
  uint16_t n = r ? recipe_frames(r, tf, 8) : 0;
  size_t nd = vec_hex(dv, &gd);
  size_t nf = vec_bytes("body.typed_payload.frame_region", &gf);
  for (int i = 0; CK(n > 0) && i < 2; i++) {
    uint8_t msg = i ? NNRP_MSG_RESULT_PUSH : NNRP_MSG_FRAME_SUBMIT;
    typed_region(msg, tf, n, NNRP_REGION_TYPED_DESC, gd, nd);
    typed_region(msg, tf, n, NNRP_REGION_TYPED_FRAMES, gf, nf);
  }
  memset(&m, 0, sizeof m);
  nnrp_body_data b = {.typed = tf, .typed_count = n};
  long k = data_build(NNRP_MSG_FRAME_SUBMIT, NULL, &m, &b, pkt, sizeof pkt);
  if (k > 0 && CK_INT(pkt_decode(&p, pkt, (size_t)k, 0, &f), 0)) {
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(dv, "fields"), "descriptors");
    for (uint16_t i = 0; i < n; i++)
      if (CK_INT(nnrp_data_body_typed(&p.b.data, i, &d), 0))
        fields_of(cJSON_GetArrayItem(want, i), NNRP_STRUCT_TYPED_FRAME, &d, 1);
    size_t at = (size_t)(p.b.data.regions[NNRP_REGION_TYPED_DESC].ptr - pkt);
    check_patch(0, pkt, (size_t)k, 0,
                &(patch){at + 16 + 4, 2, 4, 0, MB, "payload_offset"});
    check_patch(0, pkt, (size_t)k, 0,
                &(patch){NNRP_HEADER_LEN + 64,
                         m.frame_submit.payload_kind_bitmap &
                             ~NNRP_PAYLOAD_KIND_AUDIO_CHUNK,
                         4, 0, MB, "payload_kind"});
  }
  free(gd);
  free(gf);
}

/* ---- preview2 cases: registry and run ---------------------------------- */

typedef struct p2_case {
  const char *id;
  void (*run)(void);
  const char *skip; /* why the case cannot run here (run == NULL) */
} p2_case;

static const p2_case k_cases[] = {
    {"l0.header.fixed_shape.golden", l0_header, NULL},
    {"l0.control.client_hello.golden", l0_client_hello, NULL},
    {"l0.control.session_patch_ack.golden", l0_patch_ack, NULL},
    {"l0.flow_update.packet.golden", l0_flow, NULL},
    {"l0.result_hint.packet.golden", l0_hint, NULL},
    {"l0.frame_submit.metadata.golden", l0_submit, NULL},
    {"l0.result_push.metadata.golden", l0_result, NULL},
    {"l0.body_region.prelude.golden", l0_prelude, NULL},
    {"l0.object_reference.block.golden", l0_ref, NULL},
    {"l0.typed_payload.descriptor.golden", l0_typed_desc, NULL},
    {"l0.typed_payload.frame_regions.golden", l0_typed_regions, NULL},
    {"l1.flow_update.metadata.validation", l1_flow, NULL},
    {"l1.result_hint.metadata.validation", l1_hint, NULL},
    {"l1.cache.lifecycle.roundtrip", l1_cache, NULL},
    {"l1.transport_probe.metadata.roundtrip", l1_probe, NULL},
    {"l1.frame_submit.message.parse_emit", l1_submit, NULL},
    {"l1.result_push.message.parse_emit", l1_result, NULL},
    {"l1.typed_payload.region.pack", l1_typed_pack, NULL},
    {"l1.result_push.object_reference.resolve", NULL,
     "needs a session: resolving references against the session cache "
     "(session.md §9.6) is not a wire-codec behaviour"},
    {"l1.result_push.degraded_semantics", NULL,
     "experimental: never selected by an execution plan"},
    {"l3.transport.probe.selection", NULL,
     "needs transports: probe selection (session.md §11) ranks live paths"},
    {"l3.transport.tcp.session_smoke", NULL,
     "needs a transport: end-to-end session over TCP"},
    {"l3.transport.quic.session_smoke", NULL,
     "needs a transport: no QUIC transport in this build"},
};

enum { OUT_PASS, OUT_FAIL, OUT_SKIP, OUT_NONE };
static const char *const k_outcome[] = {"pass", "fail", "skip", "error"};
static int g_out[NPATCH(k_cases)]; /* outcome of k_cases[i] */
static unsigned g_count[OUT_NONE];

static void run_cases(void) {
  for (size_t i = 0; i < NPATCH(k_cases); i++) {
    const p2_case *c = &k_cases[i];
    g_out[i] = OUT_SKIP;
    if (c->run != NULL) {
      unsigned before = g_fails;
      harness_run(c->id, c->run);
      g_out[i] = g_fails == before ? OUT_PASS : OUT_FAIL;
    } else {
      printf("skip - %s: %s\n", c->id, c->skip);
      fflush(stdout);
    }
    g_count[g_out[i]]++;
  }
}

/* Index of a case id in k_cases, or -1. */
static int case_index(const char *id) {
  for (size_t i = 0; i < NPATCH(k_cases); i++)
    if (id != NULL && strcmp(k_cases[i].id, id) == 0)
      return (int)i;
  return -1;
}

/* Every case of the preview2 suite: manifest.json -> case_manifests. */
static cJSON *g_manifest, *g_case_files[8], *g_cases;

static void load_suite(void) {
  const cJSON *m;
  size_t n = 0;
  g_manifest = nnrp_test_load_json(P2 "manifest.json");
  g_cases = cJSON_CreateArray();
  cJSON_ArrayForEach(
      m, cJSON_GetObjectItemCaseSensitive(g_manifest, "case_manifests")) {
    char rel[256];
    const cJSON *c;
    if (n == NPATCH(g_case_files))
      harness_die(__FILE__, __LINE__, "too many case manifests");
    snprintf(rel, sizeof rel, P2 "%s", m->valuestring);
    g_case_files[n] = nnrp_test_load_json(rel);
    cJSON_ArrayForEach(
        c, cJSON_GetObjectItemCaseSensitive(g_case_files[n], "cases"))
        cJSON_AddItemReferenceToArray(g_cases, (cJSON *)c);
    n++;
  }
}

/* The capability tokens this implementation declares (README §2). */
static const char k_supports[] =
    "body_region.prelude cache.lifecycle control.client_hello "
    "control.session_patch_ack flow_update frame_submit.mixed "
    "object_reference.cache payload.tensor payload.typed result_hint "
    "result_push.partial result_push.stale_reuse transport.probe "
    "transport.tcp";

/* The i-th word of k_supports copied into buf, or NULL past the end. */
static const char *support(size_t i, char *buf, size_t cap) {
  const char *l = k_supports;
  for (; i != 0 && *l != '\0'; i--)
    l += strcspn(l, " ") + (l[strcspn(l, " ")] == ' ');
  size_t n = strcspn(l, " ");
  if (n == 0 || n >= cap)
    return NULL;
  memcpy(buf, l, n);
  buf[n] = '\0';
  return buf;
}

/* The selection rule: every capability declared, never experimental. */
static int planned(const cJSON *c) {
  const cJSON *t;
  if (strcmp(jstr(c, "status") ? jstr(c, "status") : "", "experimental") == 0)
    return 0;
  cJSON_ArrayForEach(
      t, cJSON_GetObjectItemCaseSensitive(c, "required_capabilities")) {
    if (word_index(k_supports, t->valuestring) < 0)
      return 0;
  }
  return 1;
}

/* executed ∪ skipped = the suite's cases, each once; every recipe ran once;
 * every declared token is one the suite uses. */
TEST(p2_case_coverage) {
  const cJSON *c, *r, *t;
  size_t n = 0;
  size_t seen[NPATCH(k_cases)] = {0};
  cJSON_ArrayForEach(c, g_cases) {
    int i = case_index(jstr(c, "id"));
    if (!CHECK(i >= 0))
      printf("  case %s: neither executed nor skipped\n", jstr(c, "id"));
    else
      seen[i]++;
    n++;
  }
  CHECK_EQ_U64(n, NPATCH(k_cases));
  for (size_t i = 0; i < NPATCH(k_cases); i++)
    if (!CHECK_EQ_U64(seen[i], 1))
      printf("  case %s: not in the suite exactly once\n", k_cases[i].id);
  n = 0;
  cJSON_ArrayForEach(r,
                     cJSON_GetObjectItemCaseSensitive(g_recipes, "vectors")) {
    size_t hits = 0;
    for (size_t i = 0; i < g_nran; i++)
      hits += strcmp(g_ran[i], jstr(r, "name")) == 0;
    if (!CHECK_EQ_U64(hits, 1))
      printf("  recipe %s not run exactly once\n", jstr(r, "name"));
    n++;
  }
  CHECK_EQ_U64(n, g_nran);
  char tok[64];
  for (size_t i = 0; support(i, tok, sizeof tok) != NULL; i++) {
    int used = 0;
    cJSON_ArrayForEach(c, g_cases) {
      cJSON_ArrayForEach(
          t, cJSON_GetObjectItemCaseSensitive(c, "required_capabilities")) {
        used |= strcmp(t->valuestring, tok) == 0;
      }
    }
    if (!CHECK(used))
      printf("  token %s is not used by the suite\n", tok);
  }
}

/* ---- Adapter self-report ----------------------------------------------- */

static int type_ok(const char *t, const cJSON *d) {
  if (strcmp(t, "object") == 0)
    return cJSON_IsObject(d);
  if (strcmp(t, "array") == 0)
    return cJSON_IsArray(d);
  return strcmp(t, "string") == 0 && cJSON_IsString(d);
}

/* Violations of doc against the JSON-Schema keywords the adapter schemas
 * use for their shape (type, required, properties, additionalProperties:
 * false, items, enum); each one is printed. */
static int schema_violations(const cJSON *s, const cJSON *d, const char *at) {
  const cJSON *k, *e;
  const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
  const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items");
  const cJSON *en = cJSON_GetObjectItemCaseSensitive(s, "enum");
  char sub[256];
  int bad = 0;
  const char *t = jstr(s, "type");
  if (t != NULL && !type_ok(t, d))
    return printf("  schema: %s: not of type %s\n", at, t), 1;
  cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(s, "required")) {
    if (!cJSON_HasObjectItem(d, k->valuestring))
      bad++, printf("  schema: %s: required %s missing\n", at, k->valuestring);
  }
  if (cJSON_IsObject(d))
    cJSON_ArrayForEach(k, d) {
      const cJSON *ps = cJSON_GetObjectItemCaseSensitive(props, k->string);
      snprintf(sub, sizeof sub, "%s.%s", at, k->string);
      if (ps != NULL)
        bad += schema_violations(ps, k, sub);
      else if (cJSON_IsFalse(
                   cJSON_GetObjectItemCaseSensitive(s, "additionalProperties")))
        bad++, printf("  schema: %s: property not allowed\n", sub);
    }
  int i = 0;
  if (cJSON_IsArray(d) && items != NULL)
    cJSON_ArrayForEach(e, d) {
      snprintf(sub, sizeof sub, "%s[%d]", at, i++);
      bad += schema_violations(items, e, sub);
    }
  int hit = en == NULL;
  cJSON_ArrayForEach(e, en) hit |= cJSON_Compare(e, d, 1);
  if (!hit)
    bad++, printf("  schema: %s: value not in enum\n", at);
  return bad;
}

static int doc_violations(const char *schema, const cJSON *doc) {
  char rel[256];
  snprintf(rel, sizeof rel, "conformance/schemas/%s", schema);
  cJSON *s = nnrp_test_load_json(rel);
  int bad = schema_violations(s, doc, "$");
  cJSON_Delete(s);
  return bad;
}

static cJSON *capability_doc(const char *pv) {
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "implementation_name", "libnnrp");
  cJSON_AddStringToObject(d, "protocol_version", pv);
  cJSON *list = cJSON_AddArrayToObject(d, "supports");
  char tok[64];
  for (size_t i = 0; support(i, tok, sizeof tok) != NULL; i++)
    cJSON_AddItemToArray(list, cJSON_CreateString(tok));
  return d;
}

/* One result per planned case; a planned case without an outcome is an
 * "error" (never expected: the coverage test fails first). */
static cJSON *results_doc(const char *pv) {
  cJSON *d = cJSON_CreateObject(), *list = cJSON_CreateArray();
  const cJSON *c;
  cJSON_AddStringToObject(d, "protocol_version", pv);
  cJSON_AddStringToObject(d, "implementation_name", "libnnrp");
  cJSON_AddItemToObject(d, "results", list);
  cJSON_ArrayForEach(c, g_cases) {
    if (!planned(c))
      continue;
    int i = case_index(jstr(c, "id")), out = i < 0 ? OUT_NONE : g_out[i];
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "id", jstr(c, "id"));
    cJSON_AddStringToObject(e, "outcome", k_outcome[out]);
    if (out != OUT_PASS)
      cJSON_AddStringToObject(e, "message",
                              out == OUT_SKIP   ? k_cases[i].skip
                              : out == OUT_FAIL ? "checks failed (test log)"
                                                : "not executed");
    if (out == OUT_FAIL)
      cJSON_AddStringToObject(e, "failure_kind", "assertion");
    cJSON_AddItemToArray(list, e);
  }
  return d;
}

/* Writes doc to dir/file, reads it back and validates the copy. */
static void write_doc(const char *dir, const char *file, const cJSON *doc,
                      const char *schema) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  char *text = cJSON_Print(doc);
  FILE *fp = fopen(path, "w");
  if (!CHECK(text != NULL && fp != NULL)) {
    free(text);
    return;
  }
  CHECK(fputs(text, fp) >= 0 && fputc('\n', fp) == '\n');
  CHECK(fclose(fp) == 0);
  cJSON *back = cJSON_Parse(text);
  CHECK(back != NULL && cJSON_Compare(back, doc, 1));
  CHECK_EQ_INT(doc_violations(schema, back), 0);
  printf("wrote %s\n", path);
  cJSON_Delete(back);
  free(text);
}

TEST(p2_adapter_report) {
  static const char caps_schema[] = "capability-manifest.schema.json";
  static const char res_schema[] = "adapter-case-results.schema.json";
  const char *pv = jstr(g_manifest, "protocol_version");
  if (!CHECK(pv != NULL))
    return;
  cJSON *caps = capability_doc(pv), *res = results_doc(pv);
  CHECK_EQ_INT(doc_violations(caps_schema, caps), 0);
  CHECK_EQ_INT(doc_violations(res_schema, res), 0);
  /* The validator accepts the suite's example and catches bad documents. */
  cJSON *ex = nnrp_test_load_json(P2 "example-capabilities.json");
  CHECK_EQ_INT(doc_violations(caps_schema, ex), 0);
  cJSON_DeleteItemFromObject(ex, "supports");
  CHECK(doc_violations(caps_schema, ex) > 0);
  cJSON *bad = cJSON_Duplicate(res, 1);
  cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(bad, "results"), 0);
  if (CHECK(first != NULL)) {
    cJSON_ReplaceItemInObject(first, "outcome", cJSON_CreateString("passed"));
    CHECK(doc_violations(res_schema, bad) > 0);
    cJSON_AddStringToObject(bad, "extra", "x");
    cJSON_ReplaceItemInObject(first, "outcome", cJSON_CreateString("pass"));
    CHECK(doc_violations(res_schema, bad) > 0);
  }
  /* Every planned case has a result; the unplanned ones are experimental or
   * need an undeclared token. */
  size_t planned_n = 0;
  const cJSON *c;
  cJSON_ArrayForEach(c, g_cases) planned_n += (size_t)planned(c);
  CHECK_EQ_U64((size_t)cJSON_GetArraySize(cJSON_GetObjectItem(res, "results")),
               planned_n);
  const char *dir = getenv("NNRP_CONFORMANCE_OUT");
  if (dir == NULL || dir[0] == '\0') {
    printf("skip - report files: NNRP_CONFORMANCE_OUT is not set\n");
  } else if (CHECK(mkdir(dir, 0777) == 0 || errno == EEXIST)) {
    write_doc(dir, "nnrp-1-preview2.capabilities.json", caps, caps_schema);
    write_doc(dir, "nnrp-1-preview2.case-results.json", res, res_schema);
  }
  cJSON_Delete(ex);
  cJSON_Delete(bad);
  cJSON_Delete(caps);
  cJSON_Delete(res);
}

int main(void) {
  g_seed = nnrp_test_load_json("seed-line.json");
  g_recipes = nnrp_test_load_json(P2 "vectors/semantic-vectors.json");
  load_suite();
  run_cases();
  RUN(p2_case_coverage);
  RUN(p2_adapter_report);
  printf("preview2 cases: %u pass, %u fail, %u skip\n", g_count[OUT_PASS],
         g_count[OUT_FAIL], g_count[OUT_SKIP]);
  cJSON_Delete(g_cases);
  for (size_t i = 0; i < NPATCH(g_case_files); i++)
    cJSON_Delete(g_case_files[i]);
  cJSON_Delete(g_manifest);
  cJSON_Delete(g_recipes);
  cJSON_Delete(g_seed);
  TEST_MAIN_END();
}
