/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - entry point of the `nnrp` command-line tool: global options
 * (--help, --version) and dispatch to the subcommands of cli.h. Uses the
 * public libnnrp API only.
 */
#include <nnrp/nnrp.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"

static void usage(FILE *out) {
  fputs("usage: nnrp <command> [options]\n"
        "       nnrp --help | --version\n"
        "\n"
        "commands:\n"
        "  decode   decode NNRP/1 packets, headers or metadata (hex, file or "
        "stdin)\n"
        "  vectors  print the library's golden vectors as JSON\n"
        "  serve    run an NNRP/1 TCP server with a demo model\n"
        "  submit   send frames to a server and print the results\n"
        "  bench    pipelined load generator (frames/s, RTT percentiles)\n"
        "  ping     PING/PONG round trips\n"
        "\n"
        "Run `nnrp <command> --help` for the options of a command.\n",
        out);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLI_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
      strcmp(cmd, "help") == 0) {
    usage(stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("nnrp %s (libnnrp %s, protocol NNRP/%d seed line)\n",
           NNRP_VERSION_STRING, nnrp_version_string(),
           NNRP_PROTOCOL_VERSION_MAJOR);
    return CLI_EXIT_OK;
  }
  if (strcmp(cmd, "decode") == 0)
    return cli_cmd_decode(argc - 2, argv + 2);
  if (strcmp(cmd, "vectors") == 0)
    return cli_cmd_vectors(argc - 2, argv + 2);
  if (strcmp(cmd, "serve") == 0)
    return cli_cmd_serve(argc - 2, argv + 2);
  if (strcmp(cmd, "submit") == 0)
    return cli_cmd_submit(argc - 2, argv + 2);
  if (strcmp(cmd, "bench") == 0)
    return cli_cmd_bench(argc - 2, argv + 2);
  if (strcmp(cmd, "ping") == 0)
    return cli_cmd_ping(argc - 2, argv + 2);
  fprintf(stderr, "nnrp: unknown command '%s'\n\n", cmd);
  usage(stderr);
  return CLI_EXIT_USAGE;
}
