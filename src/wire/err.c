/* SPDX-License-Identifier: Apache-2.0 */
/*
 * err.c - library error names and messages (generated from the one X-macro
 * table in nnrp_error.h), the wire ErrorCode/ErrorScope names, the mapping of
 * validation failures to ERROR code/scope/fatal (wire.md §16) and fault
 * formatting.
 */
#include <stdio.h>

#include <nnrp/nnrp_error.h>

const char *nnrp_strerror(int err) {
  switch (err) {
  case NNRP_OK:
    return "success";
#define NNRP_X_(name, value, msg)                                              \
  case NNRP_ERR_##name:                                                        \
    return msg;
    NNRP_ERROR_TABLE(NNRP_X_)
#undef NNRP_X_
  default:
    return "unknown error";
  }
}

const char *nnrp_err_name(int err) {
  switch (err) {
  case NNRP_OK:
    return "NNRP_OK";
#define NNRP_X_(name, value, msg)                                              \
  case NNRP_ERR_##name:                                                        \
    return "NNRP_ERR_" #name;
    NNRP_ERROR_TABLE(NNRP_X_)
#undef NNRP_X_
  default:
    return "NNRP_ERR_UNKNOWN";
  }
}

int nnrp_err_is_fatal(int err) { return err <= NNRP_ERR_FATAL_THRESHOLD; }

static const char *const code_names[] = {
    NULL,
    "UNSUPPORTED_VERSION",
    "AUTH_FAILED",
    "INVALID_STATE",
    "MALFORMED_HEADER",
    "MALFORMED_BODY",
    "UNSUPPORTED_CAPABILITY",
    "LIMIT_EXCEEDED",
    "FRAME_EXPIRED",
    "FRAME_CANCELLED",
    "CACHE_MISS",
    "SERVER_BUSY",
    "INTERNAL_ERROR",
};

const char *nnrp_error_code_name(uint32_t code) {
  if (code == 0 || code >= sizeof(code_names) / sizeof(code_names[0]))
    return NULL;
  return code_names[code];
}

const char *nnrp_error_scope_name(uint32_t scope) {
  switch (scope) {
  case NNRP_ERROR_SCOPE_CONNECTION:
    return "CONNECTION";
  case NNRP_ERROR_SCOPE_SESSION:
    return "SESSION";
  case NNRP_ERROR_SCOPE_FRAME:
    return "FRAME";
  default:
    return NULL;
  }
}

/* One row of wire.md §16: library error -> ERROR triple outside the
 * handshake phase. */
typedef struct map_row {
  int err;
  uint32_t code;
  uint32_t scope;
  uint32_t fatal;
} map_row;

static const map_row rows[] = {
    {NNRP_ERR_MALFORMED_HEADER, NNRP_ERROR_CODE_MALFORMED_HEADER,
     NNRP_ERROR_SCOPE_CONNECTION, 1},
    {NNRP_ERR_UNSUPPORTED_VERSION, NNRP_ERROR_CODE_UNSUPPORTED_VERSION,
     NNRP_ERROR_SCOPE_CONNECTION, 1},
    {NNRP_ERR_PACKET_TOO_LARGE, NNRP_ERROR_CODE_LIMIT_EXCEEDED,
     NNRP_ERROR_SCOPE_CONNECTION, 1},
    {NNRP_ERR_BODY_TOO_LARGE, NNRP_ERROR_CODE_LIMIT_EXCEEDED,
     NNRP_ERROR_SCOPE_SESSION, 0},
    {NNRP_ERR_UNEXPECTED_MESSAGE, NNRP_ERROR_CODE_INVALID_STATE,
     NNRP_ERROR_SCOPE_SESSION, 0},
    {NNRP_ERR_FOREIGN_SESSION, NNRP_ERROR_CODE_INVALID_STATE,
     NNRP_ERROR_SCOPE_SESSION, 0},
    {NNRP_ERR_HANDSHAKE_ORDER, NNRP_ERROR_CODE_INVALID_STATE,
     NNRP_ERROR_SCOPE_CONNECTION, 1},
    {NNRP_ERR_FRAME_ID, NNRP_ERROR_CODE_INVALID_STATE, NNRP_ERROR_SCOPE_FRAME,
     0},
    {NNRP_ERR_DRAINING, NNRP_ERROR_CODE_INVALID_STATE, NNRP_ERROR_SCOPE_FRAME,
     0},
    {NNRP_ERR_MALFORMED_BODY, NNRP_ERROR_CODE_MALFORMED_BODY,
     NNRP_ERROR_SCOPE_SESSION, 0},
    {NNRP_ERR_UNSUPPORTED_CAPABILITY, NNRP_ERROR_CODE_UNSUPPORTED_CAPABILITY,
     NNRP_ERROR_SCOPE_SESSION, 0},
    {NNRP_ERR_LIMIT_EXCEEDED, NNRP_ERROR_CODE_LIMIT_EXCEEDED,
     NNRP_ERROR_SCOPE_SESSION, 0},
    {NNRP_ERR_AUTH_FAILED, NNRP_ERROR_CODE_AUTH_FAILED,
     NNRP_ERROR_SCOPE_CONNECTION, 1},
    {NNRP_ERR_CACHE_MISS, NNRP_ERROR_CODE_CACHE_MISS, NNRP_ERROR_SCOPE_FRAME,
     0},
    {NNRP_ERR_SERVER_BUSY, NNRP_ERROR_CODE_SERVER_BUSY,
     NNRP_ERROR_SCOPE_CONNECTION, 1},
};

int nnrp_error_map(int err, unsigned phase, nnrp_wire_error *out) {
  if (err <= NNRP_ERR_FATAL_THRESHOLD) {
    out->error_code = NNRP_ERROR_CODE_INTERNAL_ERROR;
    out->error_scope = NNRP_ERROR_SCOPE_CONNECTION;
    out->is_fatal = 1;
    return 1;
  }
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    if (rows[i].err != err)
      continue;
    out->error_code = rows[i].code;
    out->error_scope = rows[i].scope;
    out->is_fatal = rows[i].fatal;
    /* D6: in the handshake phase every failure closes the connection.
     * Frame-scoped rows cannot occur there (no session yet). */
    if (phase & 0x1u) {
      out->error_scope = NNRP_ERROR_SCOPE_CONNECTION;
      out->is_fatal = 1;
    }
    return 1;
  }
  return 0; /* TRUNCATED, PEER_ERROR, local API errors: nothing to send */
}

size_t nnrp_fault_format(const nnrp_fault *f, char *buf, size_t cap) {
  const char *name = nnrp_err_name(f->err);
  if (name[0] == 'N' && name[5] == 'E') /* strip "NNRP_ERR_" */
    name += 9;
  int n = snprintf(buf, cap, "%s: %s (%s) at offset %u", name,
                   f->field ? f->field : "?", f->rule ? f->rule : "?",
                   (unsigned)f->offset);
  return n < 0 ? 0 : (size_t)n;
}
