/* JSON output helpers shared by every JSONL writer (clusters, boilerplate, manifest,
 * clean's jsonl format): strings are always valid UTF-8 JSON, invalid bytes become
 * U+FFFD, so a crawl's broken text can never break a consumer's parser. */
#ifndef ND_JSON_H
#define ND_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Append s (len bytes, any bytes) as a quoted JSON string. */
int nd_json_str(nd_buf *b, const char *s, size_t len);
/* Same for text already known to be valid UTF-8 (not checked again), faster: clean's
 * kept text, which it has validated once. */
int nd_json_str_utf8(nd_buf *b, const char *s, size_t len);
/* Same as nd_json_str for a C string; NULL is written as null. */
int nd_json_cstr(nd_buf *b, const char *s);
/* Append a number with up to 4 decimals, shortest form ("1", "0.9731"). */
int nd_json_num(nd_buf *b, double v);
/* Append the 32 hex digits of a 128-bit digest, high half first (XXH3 canonical). */
int nd_json_digest(nd_buf *b, const uint64_t d[2]);

#endif
