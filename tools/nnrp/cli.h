/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli.h - the subcommands of the `nnrp` tool (docs/cli.md). Each takes the
 * arguments after its name and returns the process exit status
 * (CLI_EXIT_* of util.h).
 */
#ifndef NNRP_CLI_H
#define NNRP_CLI_H

#include <stdio.h>

/** `nnrp decode`: packets, bare headers or bare metadata (cmd_decode.c). */
int cli_cmd_decode(int argc, char **argv);
void cli_usage_decode(FILE *out);

/** `nnrp vectors`: the library's own golden vectors as JSON
 *  (cmd_vectors.c). */
int cli_cmd_vectors(int argc, char **argv);
void cli_usage_vectors(FILE *out);

/** `nnrp serve`: TCP server with a demo model (cmd_serve.c). */
int cli_cmd_serve(int argc, char **argv);
void cli_usage_serve(FILE *out);

/** `nnrp submit`: send frames, print the results (cmd_submit.c). */
int cli_cmd_submit(int argc, char **argv);
void cli_usage_submit(FILE *out);

/** `nnrp bench`: pipelined load generator (cmd_bench.c). */
int cli_cmd_bench(int argc, char **argv);
void cli_usage_bench(FILE *out);

/** `nnrp ping`: PING/PONG round trips (cmd_ping.c). */
int cli_cmd_ping(int argc, char **argv);
void cli_usage_ping(FILE *out);

#endif /* NNRP_CLI_H */
