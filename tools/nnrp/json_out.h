/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_out.h - cJSON building blocks shared by `nnrp decode` and
 * `nnrp vectors`: integers (exact above 2^53), hex strings, every field of a
 * reflected struct under its wire.md name (nnrp_struct_fields), the error
 * object of wire.md §16, and the control extension entries of wire.md §5.
 */
#ifndef NNRP_CLI_JSON_OUT_H
#define NNRP_CLI_JSON_OUT_H

#include <cjson/cJSON.h>
#include <nnrp/nnrp.h>

/** A JSON number; values above 2^53 become raw decimal text so that no
 *  digit is lost (JSON readers then see an exact integer). */
cJSON *jo_u64(uint64_t v);
void jo_add_u64(cJSON *o, const char *key, uint64_t v);
/** n bytes as a lowercase hex string item (full length). */
cJSON *jo_hex(const uint8_t *p, size_t n);
/** Adds n bytes as a lowercase hex string (full length). */
void jo_add_hex(cJSON *o, const char *key, const uint8_t *p, size_t n);
/** Adds b under key_text as a string when it is valid UTF-8, else under
 *  key_hex as hex. */
void jo_add_text_or_hex(cJSON *o, const char *key_text, const char *key_hex,
                        nnrp_bytes b);
/** Adds every field of struct id at base (wire order, wire.md names). */
void jo_struct_into(cJSON *o, int struct_id, const void *base);
cJSON *jo_struct(int struct_id, const void *base);
/** The header fields; the metadata of msg_type (JSON null if it has none). */
cJSON *jo_header(const nnrp_header *h);
cJSON *jo_meta(uint8_t msg_type, const nnrp_meta *m);
/** {"code","scope","fatal","detail","lib_error"} for a decoder failure;
 *  phase is 0 or NNRP_MAP_HANDSHAKE (nnrp_error_map). f may be NULL. */
cJSON *jo_error(int err, unsigned phase, const nnrp_fault *f);

/** NNRP_HELLO_EXT_* bit of a standard extension type carried by msg_type,
 *  or 0 (unknown, or known but carried by the wrong message). */
uint32_t cli_ext_std_bit(uint8_t msg_type, uint16_t ext_type);
/** One TLV entry: ext_type, ext_flags, ext_len, padding, payload_hex and,
 *  when std is not NULL, the parsed standard fields of x. */
cJSON *jo_ext_entry(uint8_t msg_type, const nnrp_ext_entry *e,
                    const nnrp_hello_exts *std);
/** Every entry of x->block in order; the first entry of each standard type
 *  present in x carries its parsed fields. */
cJSON *jo_ext_block(uint8_t msg_type, const nnrp_hello_exts *x);

#endif /* NNRP_CLI_JSON_OUT_H */
