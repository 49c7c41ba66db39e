/* Legacy character sets: a document that declares one (HTTP Content-Type, or a <meta>
 * in the first 1024 bytes of HTML) and is not valid UTF-8 is converted to UTF-8 with
 * iconv before extraction, so a page saved in windows-1252, windows-1258, GBK or
 * Shift_JIS fingerprints like its UTF-8 copy. Valid UTF-8 is never converted: a page
 * that declares latin1 but is UTF-8 (a common mislabel) is read as it is. */
#ifndef ND_CHARSET_H
#define ND_CHARSET_H

#include <stddef.h>

#include "buf.h"
#include "problems.h"
#include "read.h"

#define ND_CHARSET_LABEL 40

/* The label declared by the Content-Type value ct (ctlen bytes, may be NULL), else for
 * HTML by a <meta charset> or <meta http-equiv content="...charset=..."> in the first
 * 1024 bytes. Writes it lowercased, NUL-terminated, into out (ND_CHARSET_LABEL bytes);
 * returns its length, 0 when nothing is declared. */
size_t nd_charset_declared(const char *ct, size_t ctlen, const char *body, size_t len,
                           int is_html, char *out);

/* The iconv name for a label (WHATWG aliases: latin1 and us-ascii are windows-1252,
 * gb2312 and gbk are GB18030, shift_jis is CP932...); NULL for UTF-8 and its aliases.
 * Other labels are passed on uppercased in name (ND_CHARSET_LABEL bytes). */
const char *nd_charset_iconv_name(const char *label, char *name);

/* Convert len bytes from iconv charset `from` to UTF-8, appended to out, at most cap
 * bytes (whole characters). Bytes that are not valid in `from` each become U+FFFD,
 * counted in *bad. Returns 1 when cut at cap, 0 done, ND_EFORMAT when iconv does not
 * know `from`, ND_ENOMEM. */
int nd_charset_convert(const char *from, const char *p, size_t len, size_t cap, nd_buf *out,
                       size_t *bad);

/* Bytes of text that are well-formed UTF-8 from its start (n when all are). */
size_t nd_utf8_valid_prefix(const char *text, size_t n);

/* For the reader: when d's body declares a non-UTF-8 charset and is not valid UTF-8,
 * convert it into buf (owned by the caller, alive while d is used) and point d->body
 * at it; an unknown label, or bytes that could not be converted, are reported to pr.
 * cap bounds the converted body (then d is marked ND_RAW_TRUNCATED). */
int nd_charset_fix(nd_rawdoc *d, const char *ct, size_t ctlen, size_t cap, nd_buf *buf,
                   nd_problems *pr);

#endif
