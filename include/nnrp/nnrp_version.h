/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nnrp_version.h - library version and the NNRP_API export marker.
 *
 * The library is built with -fvisibility=hidden; only declarations marked
 * NNRP_API are exported from libnnrp.so.
 */
#ifndef NNRP_VERSION_H
#define NNRP_VERSION_H

#define NNRP_VERSION_MAJOR 0
#define NNRP_VERSION_MINOR 1
#define NNRP_VERSION_PATCH 0
#define NNRP_VERSION_STRING "0.1.0"
/** Numeric version, 0xMMmmpp. */
#define NNRP_VERSION_NUM 0x000100

/** Protocol implemented: NNRP/1 seed line, header version_major 1. */
#define NNRP_PROTOCOL_VERSION_MAJOR 1
#define NNRP_WIRE_FORMAT_CURRENT 0

#if defined(__GNUC__) || defined(__clang__)
#define NNRP_API __attribute__((visibility("default")))
#else
#define NNRP_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Returns the version of the linked library as a static string ("0.1.0").
 *  Never NULL; the string is owned by the library. */
NNRP_API const char *nnrp_version_string(void);

/** Returns the version of the linked library as NNRP_VERSION_NUM. */
NNRP_API unsigned nnrp_version_num(void);

#ifdef __cplusplus
}
#endif
#endif /* NNRP_VERSION_H */
