/* SPDX-License-Identifier: Apache-2.0 */
/*
 * body_json.h - JSON rendering of decoded packet bodies for `nnrp decode`
 * (and the body fields of `nnrp vectors`): control bodies (wire.md §4, §5,
 * §10) in body_json.c, data bodies (wire.md §7-§9) in data_json.c.
 */
#ifndef NNRP_CLI_BODY_JSON_H
#define NNRP_CLI_BODY_JSON_H

#include <cjson/cJSON.h>
#include <nnrp/nnrp.h>

/** The body of a decoded packet as a JSON object (never NULL). */
cJSON *jo_body(const nnrp_packet *p);

/** A data body: composed flag, prelude, camera, tile index, sections,
 *  inline objects, object references, typed payloads, extension frames. */
cJSON *jo_data_body(const nnrp_data_body *b);
/** {"mode","count","base","bytes","ids":[...]} of a checked tile index. */
cJSON *jo_tile_index(const nnrp_tile_index *ti);
/** The ids of a checked tile index as a JSON array. */
cJSON *jo_tile_ids(const nnrp_tile_index *ti);
/** Every section of a decoded tensor view: descriptor fields, "codec_ids"
 *  (array or null) and "tiles" (hex strings). */
cJSON *jo_sections(const nnrp_tensor_view *tv);
cJSON *jo_section(const nnrp_section_view *s);

#endif /* NNRP_CLI_BODY_JSON_H */
