/* JSON string escaping with UTF-8 validation, and number formatting for JSONL. */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static size_t utf8_valid_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    unsigned cp = c & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* Quote len bytes of str. Eight bytes at a time where none needs a look: no byte below
 * 0x20, '"' or '\\' (each shows as a zero byte of w - 0x20.., w ^ '"'.., w ^ '\\'..,
 * the classic has-zero-byte test) and, when validating, no byte of 0x80 or above. Bytes
 * of 0x80 and above are checked as UTF-8 only when validate is set. */
static int json_quote(nd_buf *b, const char *str, size_t len, int validate)
{
    /* Worst case grows 6x (\u00XX); reserve once to keep the loop branch-light. */
    int rc = nd_buf_reserve(b, len * 6 + 2);
    if (rc)
        return rc;
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    const unsigned char *s = (const unsigned char *)str;
    char *o = b->p + b->len;
    *o++ = '"';
    size_t i = 0;
    while (i < len) {
        if (len - i >= 8) {
            uint64_t w, q, bs;
            memcpy(&w, s + i, 8);
            q = w ^ (ones * '"');
            bs = w ^ (ones * '\\');
            uint64_t look = ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((bs - ones) & ~bs);
            if (validate)
                look |= w;
            if (!(look & highs)) {
                memcpy(o, s + i, 8);
                o += 8;
                i += 8;
                continue;
            }
        }
        unsigned c = s[i];
        if (c >= 0x80) {
            size_t k = validate ? utf8_valid_len(s + i, len - i) : 1;
            if (k) {
                memcpy(o, s + i, k);
                o += k;
                i += k;
            } else {
                memcpy(o, "\xEF\xBF\xBD", 3); /* U+FFFD */
                o += 3;
                i++;
            }
            continue;
        }
        i++;
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default: o += sprintf(o, "u%04x", c); break;
        }
    }
    *o++ = '"';
    *o = '\0';
    b->len = (size_t)(o - b->p);
    return ND_OK;
}

int nd_json_str(nd_buf *b, const char *str, size_t len)
{
    return json_quote(b, str, len, 1);
}

int nd_json_str_utf8(nd_buf *b, const char *s, size_t len)
{
    return json_quote(b, s, len, 0);
}

int nd_json_cstr(nd_buf *b, const char *s)
{
    return s ? nd_json_str(b, s, strlen(s)) : nd_buf_puts(b, "null");
}

int nd_json_num(nd_buf *b, double v)
{
    if (!isfinite(v))
        return nd_buf_puts(b, "null");
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.4f", v);
    char *dot = strchr(tmp, '.');
    if (dot) {
        char *end = tmp + strlen(tmp) - 1;
        while (end > dot && *end == '0')
            *end-- = '\0';
        if (end == dot)
            *end = '\0';
    }
    if (strcmp(tmp, "-0") == 0)
        strcpy(tmp, "0");
    return nd_buf_puts(b, tmp);
}

int nd_json_digest(nd_buf *b, const uint64_t d[2])
{
    return nd_buf_printf(b, "\"%016llx%016llx\"", (unsigned long long)d[1],
                         (unsigned long long)d[0]);
}
