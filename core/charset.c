/* Declared legacy charsets to UTF-8 through the C library's iconv (glibc knows every
 * charset a crawl holds, so no table of our own). Only what is declared is converted,
 * and only text that is not valid UTF-8: guessing an undeclared charset would turn
 * some broken UTF-8 pages into plausible nonsense. */
#include "charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "error.h"

static int label_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == ':';
}

/* The label after "charset" at p (end e): spaces, '=', spaces, an optional quote. */
static size_t label_after(const char *p, const char *e, char *out)
{
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= e || *p != '=')
        return 0;
    p++;
    while (p < e && (*p == ' ' || *p == '\t' || *p == '"' || *p == '\''))
        p++;
    size_t n = 0;
    while (p + n < e && label_char((unsigned char)p[n]))
        n++;
    if (n == 0 || n >= ND_CHARSET_LABEL)
        return 0;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] - 'A' + 'a' : p[i]);
    out[n] = '\0';
    return n;
}

/* First case-insensitive occurrence of the lowercase word w in [p, e). A word that
 * starts with '<' is looked for with memchr: every HTML page is scanned for "<meta". */
static const char *find_ci(const char *p, const char *e, const char *w)
{
    size_t n = strlen(w);
    while (e - p >= (ptrdiff_t)n) {
        if (w[0] == '<') {
            const char *q = memchr(p, '<', (size_t)(e - p) - n + 1);
            if (!q)
                return NULL;
            p = q;
        }
        if ((*p | 0x20) == (w[0] | 0x20) && strncasecmp(p, w, n) == 0)
            return p;
        p++;
    }
    return NULL;
}

size_t nd_charset_declared(const char *ct, size_t ctlen, const char *body, size_t len,
                           int is_html, char *out)
{
    out[0] = '\0';
    if (ct && ctlen) {
        const char *e = ct + ctlen, *c = find_ci(ct, e, "charset");
        size_t n = c ? label_after(c + 7, e, out) : 0;
        if (n)
            return n;
    }
    if (!is_html)
        return 0;
    /* As the HTML5 prescan does: only the first 1024 bytes, only inside <meta> tags. */
    const char *p = body, *e = body + (len < 1024 ? len : 1024);
    while ((p = find_ci(p, e, "<meta"))) {
        const char *gt = memchr(p, '>', (size_t)(e - p));
        const char *te = gt ? gt : e;
        for (const char *c = p + 5; (c = find_ci(c, te, "charset")); c += 7) {
            size_t n = label_after(c + 7, te, out);
            if (n)
                return n;
        }
        if (!gt)
            break;
        p = gt;
    }
    return 0;
}

const char *nd_charset_iconv_name(const char *label, char *name)
{
    static const char *const utf8[] = {"utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8",
                                       "unicode20utf8", "x-unicode20utf8", NULL};
    for (int i = 0; utf8[i]; i++)
        if (strcmp(label, utf8[i]) == 0)
            return NULL;
    /* WHATWG's encoding labels where they differ from the C library's names: browsers
     * decode these labels so, and pages are written for browsers. */
    static const struct {
        const char *label, *name;
    } alias[] = {
        {"ascii", "WINDOWS-1252"},       {"us-ascii", "WINDOWS-1252"},
        {"ansi_x3.4-1968", "WINDOWS-1252"}, {"iso-8859-1", "WINDOWS-1252"},
        {"iso8859-1", "WINDOWS-1252"},   {"iso88591", "WINDOWS-1252"},
        {"iso_8859-1", "WINDOWS-1252"},  {"latin1", "WINDOWS-1252"},
        {"l1", "WINDOWS-1252"},          {"cp819", "WINDOWS-1252"},
        {"x-cp1252", "WINDOWS-1252"},    {"iso-8859-9", "WINDOWS-1254"},
        {"latin5", "WINDOWS-1254"},      {"iso-8859-11", "WINDOWS-874"},
        {"tis-620", "WINDOWS-874"},      {"gb2312", "GB18030"},
        {"gbk", "GB18030"},              {"x-gbk", "GB18030"},
        {"chinese", "GB18030"},          {"csgb2312", "GB18030"},
        {"shift_jis", "CP932"},          {"shift-jis", "CP932"},
        {"sjis", "CP932"},               {"x-sjis", "CP932"},
        {"ms932", "CP932"},              {"windows-31j", "CP932"},
        {"euc-kr", "CP949"},             {"ks_c_5601-1987", "CP949"},
        {"windows-949", "CP949"},        {"big5", "BIG5-HKSCS"},
        {"x-x-big5", "BIG5-HKSCS"},      {"cn-big5", "BIG5-HKSCS"},
        {"x-mac-roman", "MACINTOSH"},    {"mac", "MACINTOSH"},
    };
    for (size_t i = 0; i < sizeof alias / sizeof *alias; i++)
        if (strcmp(label, alias[i].label) == 0)
            return alias[i].name;
    size_t n = 0;
    for (; label[n] && n + 1 < ND_CHARSET_LABEL; n++)
        name[n] = (char)((label[n] >= 'a' && label[n] <= 'z') ? label[n] - 'a' + 'A' : label[n]);
    name[n] = '\0';
    return name;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0: no overlong forms, surrogates
 * or code points above U+10FFFF. */
static inline size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, min = 0x80;
    else if ((c & 0xF0) == 0xE0)
        len = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    unsigned cp = c & (0x7Fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    return cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ? 0 : len;
}

size_t nd_utf8_valid_prefix(const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, k;
    /* Eight ASCII bytes at a time where it can: on news text, byte by byte, this check
     * was a tenth of clean's writing time. */
    while (i < n) {
        uint64_t w8;
        if (n - i >= 8 && (memcpy(&w8, s + i, 8), !(w8 & 0x8080808080808080ull))) {
            i += 8;
            continue;
        }
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        /* Two- and three-byte sequences (accented Latin, Vietnamese, CJK) inline. */
        if (c >= 0xC2 && c <= 0xDF && n - i >= 2 && (s[i + 1] & 0xC0) == 0x80) {
            i += 2;
            continue;
        }
        if ((c & 0xF0) == 0xE0 && n - i >= 3 && (s[i + 1] & 0xC0) == 0x80 && (s[i + 2] & 0xC0) == 0x80 &&
            (c != 0xE0 || s[i + 1] >= 0xA0) && (c != 0xED || s[i + 1] < 0xA0)) {
            i += 3;
            continue;
        }
        if (!(k = utf8_len(s + i, n - i)))
            break;
        i += k;
    }
    return i;
}

int nd_charset_convert(const char *from, const char *p, size_t len, size_t cap, nd_buf *out,
                       size_t *bad)
{
    iconv_t cd = iconv_open("UTF-8", from);
    if (cd == (iconv_t)-1)
        return ND_EFORMAT;
    int rc = ND_OK;
    char *in = (char *)p; /* iconv's prototype; it does not write through it */
    size_t inleft = len;
    while (inleft && !rc) {
        /* Room for a few characters more than the next chunk can need (3 bytes a
         * byte at most, from a single-byte set), within the cap. */
        size_t room = out->len < cap ? cap - out->len : 0;
        if (room < 4) {
            rc = 1;
            break;
        }
        size_t want = inleft * 3 + 16 < (64u << 10) ? inleft * 3 + 16 : (64u << 10);
        if (want > room)
            want = room;
        if ((rc = nd_buf_reserve(out, want)))
            break;
        char *o = out->p + out->len;
        size_t oleft = want;
        size_t r = iconv(cd, &in, &inleft, &o, &oleft);
        out->len = (size_t)(o - out->p);
        if (r != (size_t)-1)
            continue;
        if (errno == EILSEQ || errno == EINVAL) {
            /* Not a character of `from` (or cut at the end): one byte becomes U+FFFD. */
            if (cap - out->len < 3) {
                rc = 1;
                break;
            }
            if ((rc = nd_buf_append(out, "\xEF\xBF\xBD", 3)))
                break;
            in++;
            inleft--;
            (*bad)++;
        } else if (errno == E2BIG && want == room && oleft == want) {
            rc = 1; /* the next character does not fit under the cap */
        } else if (errno != E2BIG) {
            rc = nd_fail(ND_EIO, "iconv from %s: %s", from, strerror(errno));
        }
    }
    /* Flush: converters that compose (windows-1258 holds a letter back for a tone mark
     * that may follow) give their last character only now; 16 bytes hold it. */
    if (!rc) {
        size_t room = out->len < cap ? cap - out->len : 0;
        room = room < 16 ? room : 16;
        if (!(rc = nd_buf_reserve(out, room))) {
            char *o = out->p + out->len;
            size_t oleft = room;
            if (iconv(cd, NULL, NULL, &o, &oleft) == (size_t)-1 && errno == E2BIG)
                rc = 1;
            out->len = (size_t)(o - out->p);
        }
    }
    iconv_close(cd);
    if (out->p)
        out->p[out->len] = '\0';
    return rc;
}

int nd_charset_fix(nd_rawdoc *d, const char *ct, size_t ctlen, size_t cap, nd_buf *buf,
                   nd_problems *pr)
{
    char label[ND_CHARSET_LABEL], name[ND_CHARSET_LABEL];
    if (!d->body_len || !nd_charset_declared(ct, ctlen, d->body, d->body_len, d->is_html, label))
        return ND_OK;
    const char *from = nd_charset_iconv_name(label, name);
    if (!from || nd_utf8_valid_prefix(d->body, d->body_len) == d->body_len)
        return ND_OK;
    const char *where = d->uri ? " in " : "", *uri = d->uri ? d->uri : "";
    nd_buf_clear(buf);
    size_t bad = 0;
    int rc = nd_charset_convert(from, d->body, d->body_len, cap, buf, &bad);
    if (rc == ND_EFORMAT) {
        nd_problem(pr, ND_NOTE, d->path, "unknown charset",
                   "charset \"%s\" is unknown: read as UTF-8%s%s", label, where, uri);
        return ND_OK;
    }
    if (rc < 0)
        return rc;
    d->body = buf->p ? buf->p : "";
    d->body_len = buf->len;
    if (rc == 1 && !(d->flags & ND_RAW_TRUNCATED)) { /* else the reader said so */
        d->flags |= ND_RAW_TRUNCATED;
        nd_problem(pr, ND_PARTIAL, d->path, "too large",
                   "larger than the %zu-byte cap once converted from %s: first %zu bytes used%s%s",
                   cap, label, buf->len, where, uri);
    }
    if (bad)
        nd_problem(pr, ND_NOTE, d->path, "invalid UTF-8",
                   "%zu byte%s not valid in the declared charset %s replaced%s%s", bad,
                   bad == 1 ? "" : "s", label, where, uri);
    return ND_OK;
}
