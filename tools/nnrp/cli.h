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

#endif /* NNRP_CLI_H */
