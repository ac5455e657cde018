/* SPDX-License-Identifier: Apache-2.0 */
/*
 * build.h - running the library's packet builders into malloc'd contiguous
 * buffers (growing the scratch buffer on NNRP_ERR_BUFFER_TOO_SMALL), and
 * re-encoding a decoded packet from its decoded fields (`decode --json`
 * reencoded_hex).
 */
#ifndef NNRP_CLI_BUILD_H
#define NNRP_CLI_BUILD_H

#include <nnrp/nnrp.h>

/**
 * nnrp_build_control() into a malloc'd buffer. *m is in/out: on success it
 * holds what the builder sent.
 * @return 0 with *out (malloc'd) and *len; or the builder's error.
 */
int cli_build_control(const nnrp_header *h, nnrp_meta *m,
                      const nnrp_control_body *c, uint8_t **out, size_t *len,
                      nnrp_fault *f);

/** nnrp_build_frame_submit() or nnrp_build_result_push() (by
 *  h->msg_type) into a malloc'd buffer; *m in/out as above. */
int cli_build_data(const nnrp_header *h, nnrp_meta *m, const nnrp_body_data *b,
                   uint8_t **out, size_t *len, nnrp_fault *f);

/**
 * Encodes a decoded packet again from its decoded fields: the header with
 * nnrp_header_encode(), the metadata with nnrp_meta_encode() and the body
 * through the builders (nnrp_build_control, or nnrp_body_data_from_view +
 * nnrp_build_frame_submit / nnrp_build_result_push). meta_len and body_len
 * are those of the re-encoded parts.
 * @return 0 with *out malloc'd; or a negative NNRP_ERR_*.
 */
int cli_reencode(const nnrp_packet *p, uint8_t **out, size_t *len,
                 nnrp_fault *f);

#endif /* NNRP_CLI_BUILD_H */
