/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Consumer of an installed libnnrp (CTest install_consumer): includes the
 * umbrella header the way a user would and calls two exported functions.
 */
#include <nnrp/nnrp.h>

#include <stdio.h>

int main(void) {
  const char *version = nnrp_version_string();
  const char *message = nnrp_strerror(-1);
  if (version == NULL || message == NULL) {
    return 1;
  }
  printf("nnrp_version_string: %s\n", version);
  printf("nnrp_strerror(-1): %s\n", message);
  return 0;
}
