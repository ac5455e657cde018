/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_decode.c - `nnrp decode`: argument parsing and the four input modes:
 * one packet given as hex (nnrp_packet_decode), a stream of packets from a
 * file or stdin (nnrp_reader_*), a bare 40-byte header (--header) and a bare
 * metadata block (--metadata TYPE). Output records: decode_emit.c.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "decode.h"
#include "json_out.h"
#include "util.h"

#define STREAM_CHUNK 65536u

typedef struct decode_args {
  int json, lenient, header, meta_type; /* meta_type -1: none */
  const char *input;
} decode_args;

void cli_usage_decode(FILE *out) {
  fputs("usage: nnrp decode [--json] [--lenient] [--metadata TYPE | --header]\n"
        "                   <hex | @file | ->\n"
        "\n"
        "Decodes and validates NNRP/1 bytes (wire.md) and prints every field.\n"
        "  <hex>            one packet as hex digits (whitespace allowed)\n"
        "  @file, -         a stream of packets from a binary file or stdin\n"
        "  --json           one JSON object per packet, one per line\n"
        "  --lenient        lenient validation (wire.md §13)\n"
        "  --metadata TYPE  the input is a bare metadata block of TYPE\n"
        "                   (FRAME_SUBMIT, 0x10, 16, ...)\n"
        "  --header         the input is a bare 40-byte header\n"
        "\n"
        "Exit status: 0 every input valid, 1 otherwise, 2 usage error.\n",
        out);
}

static int usage_error(const char *msg, const char *arg) {
  fprintf(stderr, "nnrp decode: %s%s%s\n\n", msg, arg ? ": " : "",
          arg ? arg : "");
  cli_usage_decode(stderr);
  return CLI_EXIT_USAGE;
}

/* Returns -1 to continue, or an exit status. */
static int parse_args(int argc, char **argv, decode_args *a) {
  memset(a, 0, sizeof(*a));
  a->meta_type = -1;
  int options_done = 0;
  for (int i = 0; i < argc; i++) {
    const char *s = argv[i];
    if (!options_done && strcmp(s, "--") == 0) {
      options_done = 1;
    } else if (!options_done &&
               (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0)) {
      cli_usage_decode(stdout);
      return CLI_EXIT_OK;
    } else if (!options_done && strcmp(s, "--json") == 0) {
      a->json = 1;
    } else if (!options_done && strcmp(s, "--lenient") == 0) {
      a->lenient = 1;
    } else if (!options_done && strcmp(s, "--header") == 0) {
      a->header = 1;
    } else if (!options_done && (strcmp(s, "--metadata") == 0 ||
                                 strncmp(s, "--metadata=", 11) == 0)) {
      const char *t = s[10] == '=' ? s + 11 : (i + 1 < argc ? argv[++i] : NULL);
      if (t == NULL)
        return usage_error("--metadata needs a message type", NULL);
      int v = nnrp_msg_type_from_name(t);
      if (v < 0)
        return usage_error("unknown message type", t);
      a->meta_type = v;
    } else if (!options_done && s[0] == '-' && s[1] != '\0') {
      return usage_error("unknown option", s);
    } else if (a->input != NULL) {
      return usage_error("more than one input", s);
    } else {
      a->input = s;
    }
  }
  if (a->input == NULL)
    return usage_error("no input given", NULL);
  if (a->header && a->meta_type >= 0)
    return usage_error("--header and --metadata exclude each other", NULL);
  return -1;
}

/* One packet as a whole buffer (hex input). */
static void decode_single(decode_ctx *c, const uint8_t *in, size_t len) {
  nnrp_packet p;
  nnrp_fault f;
  memset(&f, 0, sizeof(f));
  int rc = nnrp_packet_decode(&p, in, len, &c->wo, &f);
  if (rc == 0) {
    decode_emit_packet(c, &p, in, len);
    return;
  }
  nnrp_header h;
  int hdr_ok = nnrp_header_decode(&h, in, len, &c->wo, NULL) == 0;
  int type = len > 6 && nnrp_msg_type_name(in[6]) ? in[6] : -1;
  decode_emit_failure(c, hdr_ok ? &h : NULL, type, rc, decode_phase(type, 0),
                      &f);
}

/* Header faults end a stream (decision D18): no header can be shown. */
static int is_header_fault(int err) {
  return err == NNRP_ERR_MALFORMED_HEADER ||
         err == NNRP_ERR_UNSUPPORTED_VERSION ||
         err == NNRP_ERR_PACKET_TOO_LARGE || err == NNRP_ERR_FATAL_PROTOCOL;
}

typedef struct stream_state {
  nnrp_reader r;
  uint8_t *buf; /* assembly buffer handed to the reader */
  int dead;     /* a header fault ended the stream */
} stream_state;

/* Feeds one chunk to the reader and emits every record it yields. */
static void stream_feed(decode_ctx *c, stream_state *s, const uint8_t *in,
                        size_t len) {
  size_t off = 0;
  while (off < len && !s->dead) {
    nnrp_packet p;
    nnrp_fault f;
    size_t used = 0;
    memset(&f, 0, sizeof(f));
    int rc = nnrp_reader_next(&s->r, in + off, len - off, &used, &p, &f);
    off += used;
    int first = c->seen == 0;
    if (rc == NNRP_READ_NEED_MORE) {
      break;
    } else if (rc == NNRP_READ_NEED_BUFFER) {
      size_t need = nnrp_reader_need(&s->r);
      uint8_t *nb = cli_xmalloc(need);
      if (nnrp_reader_set_buffer(&s->r, nb, need) != 0) {
        free(nb);
        s->dead = 1;
        break;
      }
      free(s->buf);
      s->buf = nb;
    } else if (rc == NNRP_READ_PACKET) {
      decode_emit_packet(c, &p, NULL, 0);
    } else if (rc == NNRP_READ_SKIPPED) {
      decode_emit_failure(c, &p.hdr, -1, f.err,
                          decode_phase(p.hdr.msg_type, first), &f);
    } else {
      int hdr = is_header_fault(rc);
      decode_emit_failure(c, hdr ? NULL : &p.hdr, -1, rc,
                          decode_phase(hdr ? -1 : p.hdr.msg_type, first), &f);
      s->dead = hdr;
    }
  }
}

static int decode_stream(decode_ctx *c, FILE *in) {
  stream_state s;
  memset(&s, 0, sizeof(s));
  nnrp_reader_init(&s.r, &c->wo, NULL, 0);
  uint8_t *chunk = cli_xmalloc(STREAM_CHUNK);
  size_t n;
  while (!s.dead && (n = fread(chunk, 1, STREAM_CHUNK, in)) > 0)
    stream_feed(c, &s, chunk, n);
  int io_error = ferror(in) != 0;
  if (!s.dead && !nnrp_reader_at_boundary(&s.r)) {
    /* EOF inside a packet: its header is shown when it was complete. */
    int have_hdr = s.r.hdr_have == NNRP_HEADER_LEN;
    nnrp_fault f = {NNRP_ERR_TRUNCATED, 0, "wire.md §15 step 1", "packet"};
    decode_emit_failure(
        c, have_hdr ? &s.r.hdr : NULL, -1, NNRP_ERR_TRUNCATED,
        decode_phase(have_hdr ? s.r.hdr.msg_type : -1, c->seen == 0), &f);
  }
  free(chunk);
  free(s.buf);
  if (io_error) {
    fputs("nnrp decode: read error\n", stderr);
    return -1;
  }
  return 0;
}

static void decode_header(decode_ctx *c, const uint8_t *in, size_t len) {
  decode_rec r;
  nnrp_header h;
  nnrp_fault f;
  memset(&r, 0, sizeof(r));
  memset(&f, 0, sizeof(f));
  r.label = "header";
  r.msg_type = len > 6 && nnrp_msg_type_name(in[6]) ? in[6] : -1;
  int rc = nnrp_header_decode(&h, in, len, &c->wo, &f);
  if (rc == 0 && len > NNRP_HEADER_LEN) {
    nnrp_fault t = {NNRP_ERR_TRAILING_DATA, NNRP_HEADER_LEN,
                    "nnrp decode --header: exactly 40 bytes", "header"};
    f = t;
    rc = t.err;
  }
  if (rc == 0) {
    uint8_t out[NNRP_HEADER_LEN];
    nnrp_header_encode(&h, out);
    r.ok = 1;
    r.header = jo_header(&h);
    r.reencoded_hex = cli_hex_encode(out, sizeof(out));
    r.reencoded_same = memcmp(out, in, sizeof(out)) == 0;
  } else {
    r.error = jo_error(rc, decode_phase(r.msg_type, 0), &f);
  }
  decode_emit(c, &r);
}

static void decode_meta(decode_ctx *c, int type, const uint8_t *in,
                        size_t len) {
  decode_rec r;
  nnrp_meta m;
  nnrp_fault f;
  memset(&r, 0, sizeof(r));
  memset(&f, 0, sizeof(f));
  r.label = "metadata";
  r.msg_type = type;
  int rc = nnrp_meta_decode((uint8_t)type, &m, in, len, c->wo.flags, &f);
  if (rc == 0) {
    uint8_t out[128];
    int n = nnrp_meta_encode((uint8_t)type, &m, out, sizeof(out));
    r.ok = 1;
    r.metadata = jo_meta((uint8_t)type, &m);
    if (n >= 0) {
      r.reencoded_hex = cli_hex_encode(out, (size_t)n);
      r.reencoded_same = (size_t)n == len && memcmp(out, in, len) == 0;
    }
  } else {
    r.error = jo_error(rc, decode_phase(type, 0), &f);
  }
  decode_emit(c, &r);
}

/* Reads @file or stdin whole (for --header and --metadata). */
static int read_blob(const char *input, uint8_t **buf, size_t *len) {
  FILE *f = strcmp(input, "-") == 0 ? stdin : fopen(input + 1, "rb");
  if (f == NULL) {
    perror(input + 1);
    return -1;
  }
  int rc = cli_read_all(f, buf, len);
  if (f != stdin)
    fclose(f);
  if (rc != 0)
    fprintf(stderr, "nnrp decode: cannot read %s\n", input);
  return rc;
}

static int run_file_or_stdin(decode_ctx *c, const decode_args *a) {
  if (a->header || a->meta_type >= 0) {
    uint8_t *buf = NULL;
    size_t len = 0;
    if (read_blob(a->input, &buf, &len) != 0)
      return CLI_EXIT_INVALID;
    if (a->header)
      decode_header(c, buf, len);
    else
      decode_meta(c, a->meta_type, buf, len);
    free(buf);
    return 0;
  }
  FILE *f = strcmp(a->input, "-") == 0 ? stdin : fopen(a->input + 1, "rb");
  if (f == NULL) {
    perror(a->input + 1);
    return CLI_EXIT_INVALID;
  }
  int rc = decode_stream(c, f);
  if (f != stdin)
    fclose(f);
  return rc == 0 ? 0 : CLI_EXIT_INVALID;
}

int cli_cmd_decode(int argc, char **argv) {
  decode_args a;
  int st = parse_args(argc, argv, &a);
  if (st >= 0)
    return st;
  decode_ctx c;
  memset(&c, 0, sizeof(c));
  c.json = a.json;
  nnrp_wire_opts_default(&c.wo);
  if (a.lenient)
    c.wo.flags |= NNRP_WIRE_LENIENT;
  if (a.input[0] == '@' || strcmp(a.input, "-") == 0) {
    st = run_file_or_stdin(&c, &a);
  } else {
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cli_hex_decode(a.input, &buf, &len) != 0)
      return usage_error("input is not hex (use @file for a file)", NULL);
    if (a.header)
      decode_header(&c, buf, len);
    else if (a.meta_type >= 0)
      decode_meta(&c, a.meta_type, buf, len);
    else
      decode_single(&c, buf, len);
    free(buf);
    st = 0;
  }
  fflush(stdout);
  if (st != 0)
    return st;
  return c.invalid ? CLI_EXIT_INVALID : CLI_EXIT_OK;
}
