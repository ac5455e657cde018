/* SPDX-License-Identifier: Apache-2.0 */
/*
 * replay_main.c - a plain main() for fuzz targets (SQLite fuzzcheck style):
 * replays committed corpora through LLVMFuzzerTestOneInput in every test run,
 * without libFuzzer. Linked with each fuzz/fuzz_<name>.c into replay_<name>.
 *
 * usage: replay_<name> PATH...
 *   A file is replayed as one input. A directory is replayed file by file in
 *   sorted order, descending one level into its subdirectories. Names that
 *   start with '.' are skipped. Prints "<n> inputs replayed" and exits 0; a
 *   missing path, an unreadable file or no input at all exits 1. A crash or
 *   sanitizer report fails the run by itself.
 */
#include "nnrp_fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static unsigned long replayed;

static void die(const char *what, const char *path) {
  fprintf(stderr, "replay: %s: %s: %s\n", what, path,
          errno ? strerror(errno) : "error");
  exit(EXIT_FAILURE);
}

static void replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    die("cannot open", path);
  }
  size_t cap = 4096;
  size_t len = 0;
  uint8_t *buf = malloc(cap);
  if (buf == NULL) {
    die("out of memory reading", path);
  }
  for (;;) {
    if (len == cap) {
      cap *= 2;
      uint8_t *grown = realloc(buf, cap);
      if (grown == NULL) {
        die("out of memory reading", path);
      }
      buf = grown;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0) {
      if (ferror(f)) {
        die("cannot read", path);
      }
      break;
    }
  }
  fclose(f);

  /* Exactly len bytes, so ASan sees any read past the input. */
  uint8_t *input = malloc(len > 0 ? len : 1);
  if (input == NULL) {
    die("out of memory reading", path);
  }
  if (len > 0) {
    memcpy(input, buf, len);
  }
  free(buf);
  (void)LLVMFuzzerTestOneInput(input, len);
  free(input);
  replayed++;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_path(const char *path, int depth);

static void replay_dir(const char *dir, int depth) {
  DIR *d = opendir(dir);
  if (d == NULL) {
    die("cannot open directory", dir);
  }
  char **names = NULL;
  size_t count = 0;
  size_t cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') {
      continue;
    }
    if (count == cap) {
      cap = cap ? cap * 2 : 64;
      char **grown = realloc(names, cap * sizeof *names);
      if (grown == NULL) {
        die("out of memory listing", dir);
      }
      names = grown;
    }
    size_t plen = strlen(dir) + 1 + strlen(e->d_name) + 1;
    names[count] = malloc(plen);
    if (names[count] == NULL) {
      die("out of memory listing", dir);
    }
    snprintf(names[count], plen, "%s/%s", dir, e->d_name);
    count++;
  }
  closedir(d);
  if (count > 0) {
    qsort(names, count, sizeof *names, compare_names);
  }
  for (size_t i = 0; i < count; i++) {
    replay_path(names[i], depth + 1);
    free(names[i]);
  }
  free(names);
}

static void replay_path(const char *path, int depth) {
  struct stat st;
  errno = 0;
  if (stat(path, &st) != 0) {
    die("no such file or directory", path);
  }
  if (S_ISDIR(st.st_mode)) {
    /* Arguments are depth 0; their subdirectories (depth 1) are read too. */
    if (depth <= 1) {
      replay_dir(path, depth);
    }
  } else if (S_ISREG(st.st_mode)) {
    replay_file(path);
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
    return EXIT_FAILURE;
  }
  for (int i = 1; i < argc; i++) {
    replay_path(argv[i], 0);
  }
  printf("%lu inputs replayed\n", replayed);
  if (replayed == 0) {
    fprintf(stderr, "replay: no input found; a corpus must hold at least one "
                    "seed\n");
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
