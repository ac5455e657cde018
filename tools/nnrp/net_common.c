/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net_common.c - option parsing, the common client options and dialing of
 * the network subcommands (net_common.h). Uses the public runtime API
 * (include/nnrp/nnrp_runtime.h) only.
 */
#include <stdlib.h>
#include <string.h>

#include "net_common.h"
#include "util.h"

int cli_opt(int argc, char **argv, int *i, const char *name, const char **val) {
  const char *s = argv[*i];
  size_t n = strlen(name);
  if (strncmp(s, name, n) != 0)
    return 0;
  if (s[n] == '=') {
    *val = s + n + 1;
    return 1;
  }
  if (s[n] != '\0')
    return 0;
  *val = *i + 1 < argc ? argv[++*i] : NULL;
  return 1;
}

int cli_parse_num(const char *s, uint64_t max, uint64_t *out) {
  if (s == NULL || *s < '0' || *s > '9')
    return -1;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return -1;
    uint64_t d = (uint64_t)(*s - '0');
    if (v > (max - d) / 10u)
      return -1;
    v = v * 10u + d;
  }
  *out = v;
  return 0;
}

int cli_usage_fail(const char *cmd, const char *msg, const char *arg) {
  fprintf(stderr, "nnrp %s: %s%s%s\n", cmd, msg, arg ? ": " : "",
          arg ? arg : "");
  fprintf(stderr, "Run `nnrp %s --help` for the options.\n", cmd);
  return CLI_EXIT_USAGE;
}

void net_opts_default(net_opts *o) {
  memset(o, 0, sizeof(*o));
  o->host = "127.0.0.1";
  o->timeout_ms = 10000;
}

/* Stores a numeric option value; -1 after a usage message. */
static int num_opt(const char *cmd, const char *name, const char *v,
                   uint64_t max, uint64_t *out) {
  if (v == NULL || cli_parse_num(v, max, out) != 0) {
    char msg[96];
    snprintf(msg, sizeof(msg), "%s needs a number in 0..%llu", name,
             (unsigned long long)max);
    cli_usage_fail(cmd, msg, v);
    return -1;
  }
  return 0;
}

int net_opt_parse(net_opts *o, const char *cmd, int argc, char **argv, int *i) {
  const char *v = NULL;
  uint64_t n = 0;
  if (strcmp(argv[*i], "--lenient") == 0) {
    o->lenient = 1;
    return 1;
  }
  if (cli_opt(argc, argv, i, "--host", &v)) {
    if (v == NULL || *v == '\0')
      return cli_usage_fail(cmd, "--host needs a name or address", NULL), -1;
    o->host = v;
    return 1;
  }
  if (cli_opt(argc, argv, i, "--port", &v)) {
    if (num_opt(cmd, "--port", v, 65535, &n) != 0)
      return -1;
    o->port = (uint32_t)n;
    o->port_given = 1;
    return 1;
  }
  if (cli_opt(argc, argv, i, "--auth-token", &v)) {
    if (v == NULL)
      return cli_usage_fail(cmd, "--auth-token needs a value", NULL), -1;
    o->auth_token = v;
    return 1;
  }
  if (cli_opt(argc, argv, i, "--timeout-ms", &v)) {
    if (num_opt(cmd, "--timeout-ms", v, 3600000, &n) != 0)
      return -1;
    o->timeout_ms = (uint32_t)n;
    return 1;
  }
  return 0;
}

void net_opts_usage(FILE *out) {
  fputs("  --host H          server name or address (default 127.0.0.1)\n"
        "  --port P          server port (required)\n"
        "  --auth-token T    auth block sent in CLIENT_HELLO (default none)\n"
        "  --lenient         lenient validation (wire.md §13; nnrp-py "
        "1.0.0rc2 peers)\n"
        "  --timeout-ms MS   longest wait for a connection, result or pong\n"
        "                    (default 10000)\n",
        out);
}

void net_record_text(const nnrp_error_record *rec, char *buf, size_t cap) {
  const char *code = nnrp_error_code_name(rec->error_code);
  const char *scope = nnrp_error_scope_name(rec->error_scope);
  if (rec->lib_err != 0 && rec->local)
    snprintf(buf, cap, "%s (%s)", nnrp_err_name(rec->lib_err),
             nnrp_strerror(rec->lib_err));
  else
    snprintf(buf, cap, "%s/%s%s%.*s", code ? code : "?", scope ? scope : "?",
             rec->diagnostic.len ? ": " : "",
             (int)(rec->diagnostic.len > 200 ? 200 : rec->diagnostic.len),
             rec->diagnostic.ptr ? (const char *)rec->diagnostic.ptr : "");
}

/* The failure of a dial, with the peer's ERROR or the system error. */
static void dial_failed(nnrp_runtime *rt, const net_opts *o, const char *cmd,
                        int rc) {
  nnrp_error_record rec;
  int os_err = 0;
  memset(&rec, 0, sizeof(rec));
  (void)nnrp_runtime_last_error(rt, &rec, &os_err);
  if (rc == NNRP_ERR_AUTH_FAILED) {
    fprintf(stderr,
            "nnrp %s: connect %s:%u: AUTH_FAILED (the server "
            "rejected the auth token)\n",
            cmd, o->host, (unsigned)o->port);
    return;
  }
  char detail[300] = "";
  if (os_err != 0)
    snprintf(detail, sizeof(detail), " (%s)", strerror(-os_err));
  else if (rc == NNRP_ERR_PEER_ERROR && !rec.local) {
    char r[256];
    net_record_text(&rec, r, sizeof(r));
    snprintf(detail, sizeof(detail), " [%s]", r);
  }
  fprintf(stderr, "nnrp %s: connect %s:%u: %s: %s%s\n", cmd, o->host,
          (unsigned)o->port, nnrp_err_name(rc), nnrp_strerror(rc), detail);
}

int net_dial(nnrp_runtime *rt, const net_opts *o, const char *cmd,
             nnrp_client_config *cfg, nnrp_client_session **out) {
  nnrp_client_config c;
  if (cfg == NULL) {
    nnrp_client_config_default(&c);
    cfg = &c;
  }
  cfg->host = o->host;
  cfg->port = (uint16_t)o->port;
  cfg->lenient = (uint8_t)(o->lenient != 0);
  cfg->connect_timeout_ms = o->timeout_ms;
  cfg->handshake_timeout_ms = o->timeout_ms;
  if (o->lenient) /* nnrp-py servers drop silent sessions after 10 s */
    cfg->keepalive_interval_ms = 5000;
  nnrp_client_profile p;
  nnrp_client_profile_default(&p);
  p.payload_kinds = NNRP_PAYLOAD_KIND_KNOWN_MASK;
  p.profile_bitmap = 0x3; /* tensor and token profiles */
  if (o->auth_token != NULL) {
    p.auth_block.ptr = (const uint8_t *)o->auth_token;
    p.auth_block.len = strlen(o->auth_token);
  }
  int rc = nnrp_dial_client(rt, &p, NULL, cfg, out);
  if (rc != 0)
    dial_failed(rt, o, cmd, rc);
  return rc;
}
