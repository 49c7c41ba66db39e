/* HTML to text blocks in one forward pass, modelled on the HTML5 tokenizer: tags,
 * comments and raw-text elements are recognised as a browser would, block-level tags
 * end a block, and character references are decoded as the spec says. memchr jumps
 * to the next '<' and '&' (each position searched once), so time is linear on any input. */
#include "extract.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "collapse.h"
#include "html_entities.h"

/* Byte classes: what the tokenizer states below branch on. */
enum { C_OTHER = 0, C_WS, C_SLASH, C_GT, C_EQ, C_QUOT };

static const unsigned char cls[256] = {
    ['\t'] = C_WS, ['\n'] = C_WS, ['\f'] = C_WS, ['\r'] = C_WS, [' '] = C_WS,
    ['/'] = C_SLASH, ['>'] = C_GT, ['='] = C_EQ, ['"'] = C_QUOT, ['\''] = C_QUOT,
};

static int is_alpha(unsigned char ch)
{
    return (unsigned)((ch | 0x20) - 'a') < 26;
}

static int is_alnum(unsigned char ch)
{
    return is_alpha(ch) || (unsigned)(ch - '0') < 10;
}

/* What an element does to the text. */
enum {
    K_INLINE = 0,   /* a, span, b, unknown: nothing */
    K_BLOCK,        /* ends the current block, open or close */
    K_RAW,          /* raw text up to its close tag, dropped (script, style, ...) */
    K_TITLE,        /* RCDATA into out->title */
    K_TEXTAREA,     /* RCDATA kept as a block */
    K_SKIP,         /* parsed, but everything inside dropped (template, svg, ...) */
    K_PLAINTEXT,    /* the rest of the document is text */
    K_MASK = 15,
    K_BREAKOUT = 16 /* a start tag that closes svg/math (HTML5 foreign content rules) */
};

static int name_is(const char *s, size_t n, const char *lit)
{
    return memcmp(s, lit, n) == 0;
}

/* Kind of a lowercased tag name; a switch on the length keeps this a few compares. */
static unsigned classify(const char *s, size_t n)
{
#define IS(lit) name_is(s, n, lit)
    switch (n) {
    case 1:
        if (s[0] == 'p')
            return K_BLOCK | K_BREAKOUT;
        if (s[0] == 'b' || s[0] == 'i' || s[0] == 's' || s[0] == 'u')
            return K_INLINE | K_BREAKOUT;
        return K_INLINE;
    case 2:
        if (s[0] == 'h' && s[1] >= '1' && s[1] <= '6')
            return K_BLOCK | K_BREAKOUT;
        if (IS("br") || IS("dd") || IS("dl") || IS("dt") || IS("hr") || IS("li") ||
            IS("ol") || IS("ul"))
            return K_BLOCK | K_BREAKOUT;
        if (IS("td") || IS("th") || IS("tr"))
            return K_BLOCK;
        if (IS("em") || IS("tt"))
            return K_INLINE | K_BREAKOUT;
        return K_INLINE;
    case 3:
        if (IS("div") || IS("pre"))
            return K_BLOCK | K_BREAKOUT;
        if (IS("nav") || IS("dir") || IS("col"))
            return K_BLOCK;
        if (IS("svg"))
            return K_SKIP;
        if (IS("xmp"))
            return K_RAW;
        if (IS("big") || IS("img") || IS("sub") || IS("sup") || IS("var"))
            return K_INLINE | K_BREAKOUT;
        return K_INLINE;
    case 4:
        if (IS("body") || IS("head") || IS("menu"))
            return K_BLOCK | K_BREAKOUT;
        if (IS("form") || IS("html") || IS("main"))
            return K_BLOCK;
        if (IS("math"))
            return K_SKIP;
        if (IS("code") || IS("meta") || IS("nobr") || IS("ruby") || IS("span"))
            return K_INLINE | K_BREAKOUT;
        return K_INLINE;
    case 5:
        if (IS("table"))
            return K_BLOCK | K_BREAKOUT;
        if (IS("aside") || IS("tbody") || IS("tfoot") || IS("thead") || IS("frame"))
            return K_BLOCK;
        if (IS("style"))
            return K_RAW;
        if (IS("title"))
            return K_TITLE;
        if (IS("embed") || IS("small"))
            return K_INLINE | K_BREAKOUT;
        return K_INLINE;
    case 6:
        if (IS("center"))
            return K_BLOCK | K_BREAKOUT;
        if (IS("dialog") || IS("figure") || IS("footer") || IS("header") || IS("hgroup") ||
            IS("legend") || IS("option") || IS("search") || IS("select"))
            return K_BLOCK;
        if (IS("script") || IS("iframe"))
            return K_RAW;
        if (IS("object"))
            return K_SKIP;
        if (IS("strong") || IS("strike"))
            return K_INLINE | K_BREAKOUT;
        return K_INLINE;
    case 7:
        if (IS("listing"))
            return K_BLOCK | K_BREAKOUT;
        if (IS("address") || IS("article") || IS("caption") || IS("details") ||
            IS("section") || IS("summary"))
            return K_BLOCK;
        if (IS("noembed"))
            return K_RAW;
        return K_INLINE;
    case 8:
        if (IS("colgroup") || IS("fieldset") || IS("frameset") || IS("optgroup"))
            return K_BLOCK;
        if (IS("noscript") || IS("noframes"))
            return K_RAW;
        if (IS("template"))
            return K_SKIP;
        if (IS("textarea"))
            return K_TEXTAREA;
        return K_INLINE;
    case 9:
        return IS("plaintext") ? K_PLAINTEXT : K_INLINE;
    case 10:
        if (IS("blockquote"))
            return K_BLOCK | K_BREAKOUT;
        return IS("figcaption") ? K_BLOCK : K_INLINE;
    default:
        return K_INLINE;
    }
#undef IS
}

/* ---- character references ---- */

/* Names by hash (open addressing, built once): a lookup is one hash and mostly one
 * compare, where the binary search over 2,231 names took eleven (callgrind: 3.7% of
 * bench/extract's instructions went to entity lookups). */
#define ENT_SLOTS 8192u
static uint16_t ent_slot[ENT_SLOTS]; /* index + 1 into nd_entities, 0: empty */
static pthread_once_t ent_once = PTHREAD_ONCE_INIT;

static uint32_t ent_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h & (ENT_SLOTS - 1);
}

static void ent_build(void)
{
    for (uint32_t i = 0; i < ND_ENTITY_COUNT; i++) {
        uint32_t h = ent_hash(nd_entities[i].name, nd_entities[i].name_len);
        while (ent_slot[h])
            h = (h + 1) & (ENT_SLOTS - 1);
        ent_slot[h] = (uint16_t)(i + 1);
    }
}

static const nd_entity *entity_lookup(const char *s, size_t n)
{
    pthread_once(&ent_once, ent_build);
    for (uint32_t h = ent_hash(s, n); ent_slot[h]; h = (h + 1) & (ENT_SLOTS - 1)) {
        const nd_entity *e = &nd_entities[ent_slot[h] - 1];
        if (e->name_len == n && memcmp(e->name, s, n) == 0)
            return e;
    }
    return NULL;
}

/* C1 code points through windows-1252, as HTML5 maps numeric references 0x80-0x9F
 * (0 where windows-1252 has a hole: the code point stays). */
static const uint16_t win1252[32] = {
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
    0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

static size_t utf8_put(uint32_t cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* p points at '&'. Decodes a character reference into o (at most 8 bytes), sets *olen
 * and returns the bytes consumed, or 0 when this '&' starts no reference (the caller
 * then keeps it as text). */
static size_t decode_ref(const char *p, const char *end, char *o, size_t *olen)
{
    const char *q = p + 1;
    if (q >= end)
        return 0;
    if (*q == '#') {
        int hex = q + 1 < end && (q[1] | 0x20) == 'x';
        const char *d = q + 1 + hex, *d0 = d;
        uint32_t v = 0;
        for (; d < end; d++) {
            unsigned ch = (unsigned char)*d, dig;
            if (ch - '0' < 10)
                dig = ch - '0';
            else if (hex && (ch | 0x20) - 'a' < 6)
                dig = (ch | 0x20) - 'a' + 10;
            else
                break;
            v = v * (hex ? 16 : 10) + dig;
            if (v > 0x10FFFF)
                v = 0x110000;   /* saturate: any longer number stays out of range */
        }
        if (d == d0)
            return 0;
        if (d < end && *d == ';')
            d++;
        if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            v = 0xFFFD;
        else if (v >= 0x80 && v <= 0x9F && win1252[v - 0x80])
            v = win1252[v - 0x80];
        *olen = utf8_put(v, o);
        return (size_t)(d - p);
    }
    /* Named: the longest table name that is a prefix of what follows. Names are
     * alphanumeric; with ';' only the whole run can match, without it only the short
     * legacy names. */
    size_t n = 0, room = (size_t)(end - q);
    size_t cap = room < ND_ENTITY_MAX_NAME ? room : ND_ENTITY_MAX_NAME;
    while (n < cap && is_alnum((unsigned char)q[n]))
        n++;
    if (n == 0)
        return 0;
    const nd_entity *e = NULL;
    size_t used = 0;
    if (n < room && q[n] == ';' && n + 1 <= ND_ENTITY_MAX_NAME && (e = entity_lookup(q, n + 1)))
        used = n + 1;
    for (size_t k = n < ND_ENTITY_MAX_LEGACY ? n : ND_ENTITY_MAX_LEGACY; !e && k >= 2; k--)
        if ((e = entity_lookup(q, k)))
            used = k;
    if (!e)
        return 0;
    memcpy(o, e->value, e->value_len);
    *olen = e->value_len;
    return 1 + used;
}

/* ---- output ---- */

struct ctx {
    const char *end;
    nd_blocks *out;
    nd_buf *sink;          /* &out->text, or &out->title inside <title> */
    size_t bstart;         /* where the current block starts in out->text */
    unsigned sp;           /* the sink ends in a space, or the block is empty */
    const char *lt, *amp;  /* next '<' / '&' at or after the last search position */
    int title_open;        /* no title yet: the first <title> fills out->title */
    int title_unclosed;    /* no "</title" ahead: <title> is then just a block tag */
    int textarea_unclosed;
};

static const char *next_lt(struct ctx *c, const char *from)
{
    if (from > c->lt) {
        c->lt = memchr(from, '<', (size_t)(c->end - from));
        if (!c->lt)
            c->lt = c->end;
    }
    return c->lt;
}

static const char *next_amp(struct ctx *c, const char *from)
{
    if (from > c->amp) {
        c->amp = memchr(from, '&', (size_t)(c->end - from));
        if (!c->amp)
            c->amp = c->end;
    }
    return c->amp;
}

/* Append text to the sink, collapsing whitespace runs (across calls) and dropping NUL
 * as the tree builder does. */
static int emit(struct ctx *c, const char *s, size_t n)
{
    nd_buf *b = c->sink;
    /* Room for n bytes and the NUL is the common case: no call then. */
    int rc = b->cap - b->len > n ? ND_OK : nd_buf_reserve(b, n);
    if (rc)
        return rc;
    b->len += nd_collapse(b->p + b->len, s, n, &c->sp, 1);
    b->p[b->len] = '\0';
    return ND_OK;
}

/* Close the current block: trailing space off, then record it unless empty. */
static int end_block(struct ctx *c)
{
    nd_buf *t = &c->out->text;
    size_t e = t->len;
    c->sp = 1;
    if (e > c->bstart && t->p[e - 1] == ' ')
        e--;
    if (e == c->bstart) {
        if (t->p) {
            t->len = e;
            t->p[e] = '\0';
        }
        return ND_OK;
    }
    if (e > UINT32_MAX)
        return nd_fail(ND_ELIMIT, "extracted text over 4 GiB");
    nd_blocks *b = c->out;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        nd_block *v = realloc(b->v, cap * sizeof *v);
        if (!v)
            return nd_fail(ND_ENOMEM, "out of memory for %zu blocks", cap);
        b->v = v;
        b->cap = cap;
    }
    /* e < t->len or room for the NUL: '\n' always fits. */
    t->p[e] = '\n';
    t->len = e + 1;
    int rc = nd_buf_reserve(t, 0);
    if (rc) {
        t->len = e;
        t->p[e] = '\0';
        return rc;
    }
    t->p[t->len] = '\0';
    b->v[b->n].off = (uint32_t)c->bstart;
    b->v[b->n].len = (uint32_t)(e - c->bstart);
    b->n++;
    c->bstart = t->len;
    return ND_OK;
}

/* Text with references decoded, no markup (RCDATA, or a run between tags). */
static int text_run(struct ctx *c, const char *p, const char *to)
{
    int rc;
    while (p < to) {
        const char *a = next_amp(c, p);
        if (a > to)
            a = to;
        if (a > p && (rc = emit(c, p, (size_t)(a - p))))
            return rc;
        if (a == to)
            break;
        char o[8];
        size_t olen = 0, used = decode_ref(a, to, o, &olen);
        if (used) {
            if ((rc = emit(c, o, olen)))
                return rc;
            p = a + used;
        } else {
            if ((rc = emit(c, "&", 1)))
                return rc;
            p = a + 1;
        }
    }
    return ND_OK;
}

/* ---- tokens ---- */

/* From just after a tag name to just after its '>', skipping attributes (a quoted value
 * may hold '>'). NULL at EOF inside the tag. *self: the tag ended with "/>". */
static const char *tag_end(const char *q, const char *end, int *self)
{
    enum { BEFORE, NAME, AFTER, VALUE, UNQUOTED } st = BEFORE;
    *self = 0;
    while (q < end) {
        unsigned k = cls[(unsigned char)*q];
        switch (st) {
        case BEFORE:   /* before an attribute name, or after a quoted value */
            if (k == C_WS) {
                q++;
            } else if (k == C_SLASH) {
                if (q + 1 < end && q[1] == '>') {
                    *self = 1;
                    return q + 2;
                }
                q++;
            } else if (k == C_GT) {
                return q + 1;
            } else {
                st = NAME;
                q++;
            }
            break;
        case NAME:
            while (q < end && cls[(unsigned char)*q] == C_OTHER)
                q++;
            if (q == end)
                return NULL;
            k = cls[(unsigned char)*q];
            if (k == C_EQ) {
                st = VALUE;
                q++;
            } else if (k == C_WS) {
                st = AFTER;
                q++;
            } else if (k == C_QUOT) {
                q++;   /* a quote inside a name is part of it */
            } else {
                st = BEFORE;
            }
            break;
        case AFTER:
            if (k == C_WS) {
                q++;
            } else if (k == C_EQ) {
                st = VALUE;
                q++;
            } else {
                st = BEFORE;
            }
            break;
        case VALUE:
            if (k == C_WS) {
                q++;
            } else if (k == C_QUOT) {
                const char *e = memchr(q + 1, *q, (size_t)(end - q - 1));
                if (!e)
                    return NULL;
                q = e + 1;
                st = BEFORE;
            } else if (k == C_GT) {
                return q + 1;
            } else {
                st = UNQUOTED;
                q++;
            }
            break;
        case UNQUOTED:
            while (q < end && cls[(unsigned char)*q] != C_WS && *q != '>')
                q++;
            if (q == end)
                return NULL;
            if (*q == '>')
                return q + 1;
            st = BEFORE;
            q++;
            break;
        }
    }
    return NULL;
}

enum tok { T_TEXT, T_START, T_END, T_SKIP, T_EOF };

struct tag {
    char name[16];   /* lowercased, valid when len < sizeof name */
    size_t len;
    unsigned kind;
    int self;
};

/* Up to the next '>' (bogus comment, doctype, processing instruction). */
static const char *bogus_end(const char *q, const char *end)
{
    const char *g = memchr(q, '>', (size_t)(end - q));
    return g ? g + 1 : end;
}

/* q just after "<!--". */
static const char *comment_end(const char *q, const char *end)
{
    const char *c = q;
    if (c < end && *c == '>')
        return c + 1;                       /* "<!-->" */
    if (end - c >= 2 && c[0] == '-' && c[1] == '>')
        return c + 2;                       /* "<!--->" */
    for (;;) {
        const char *g = memchr(c, '>', (size_t)(end - c));
        if (!g)
            return end;
        if (g - q >= 2 && g[-1] == '-' && g[-2] == '-')
            return g + 1;
        if (g - q >= 3 && g[-1] == '!' && g[-2] == '-' && g[-3] == '-')
            return g + 1;
        c = g + 1;
    }
}

/* q just after "<![CDATA[" (only recognised inside svg and math). */
static const char *cdata_end(const char *q, const char *end)
{
    const char *c = q;
    for (;;) {
        const char *g = memchr(c, '>', (size_t)(end - c));
        if (!g)
            return end;
        if (g - q >= 2 && g[-1] == ']' && g[-2] == ']')
            return g + 1;
        c = g + 1;
    }
}

/* lt points at '<'. Classifies what starts there and sets *next past it. */
static enum tok token(const char *lt, const char *end, int foreign, struct tag *t,
                      const char **next)
{
    const char *q = lt + 1;
    if (q == end)
        return T_TEXT;
    enum tok type = T_START;
    if (*q == '/') {
        if (q + 1 == end)
            return T_TEXT;
        if (q[1] == '>') {
            *next = q + 2;
            return T_SKIP;
        }
        if (!is_alpha((unsigned char)q[1])) {
            *next = bogus_end(q + 1, end);
            return T_SKIP;
        }
        type = T_END;
        q++;
    } else if (*q == '!') {
        if (end - q >= 3 && q[1] == '-' && q[2] == '-')
            *next = comment_end(q + 3, end);
        else if (foreign && end - q >= 8 && memcmp(q + 1, "[CDATA[", 7) == 0)
            *next = cdata_end(q + 8, end);
        else
            *next = bogus_end(q + 1, end);
        return T_SKIP;
    } else if (*q == '?') {
        *next = bogus_end(q + 1, end);
        return T_SKIP;
    } else if (!is_alpha((unsigned char)*q)) {
        return T_TEXT;
    }
    /* The name ends at whitespace, '/' or '>' (classes 1-3), lowercased as it is read. */
    size_t k = 0;
    for (unsigned char ch; q < end && (unsigned)(cls[ch = (unsigned char)*q] - C_WS) > C_GT - C_WS;
         q++, k++)
        if (k < sizeof t->name)
            t->name[k] = (char)((unsigned)(ch - 'A') < 26 ? ch | 0x20 : ch);
    t->len = k;
    t->kind = t->len < sizeof t->name ? classify(t->name, t->len) : K_INLINE;
    const char *after = tag_end(q, end, &t->self);
    if (!after)
        return T_EOF;
    *next = after;
    return type;
}

/* After the start tag of a raw-text or RCDATA element: where its close tag "</name"
 * starts (*close) and where the text after it resumes; NULL when it is never closed. */
static const char *find_close(struct ctx *c, const char *q, const struct tag *t,
                              const char **close)
{
    const char *end = c->end;
    for (;;) {
        const char *lt = next_lt(c, q);
        if (lt == end)
            return NULL;
        if ((size_t)(end - lt) > t->len + 2 && lt[1] == '/') {
            const char *nm = lt + 2;
            size_t i = 0;
            while (i < t->len && ((unsigned char)nm[i] | (is_alpha((unsigned char)nm[i]) ? 0x20 : 0)) ==
                                     (unsigned char)t->name[i])
                i++;
            unsigned char term = (unsigned char)nm[t->len];
            if (i == t->len && (cls[term] == C_WS || term == '/' || term == '>')) {
                int self;
                const char *after = tag_end(nm + t->len, end, &self);
                *close = lt;
                return after ? after : end;
            }
        }
        q = lt + 1;
    }
}

int nd_html_extract(const char *html, size_t len, nd_blocks *out)
{
    struct ctx c = {0};
    const char *p = html, *end = html + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;   /* a BOM is not text */
    c.end = end;
    c.out = out;
    c.sink = &out->text;
    c.bstart = out->text.len;
    c.sp = 1;
    if (p == end)
        return ND_OK;
    c.lt = memchr(p, '<', (size_t)(end - p));
    c.amp = memchr(p, '&', (size_t)(end - p));
    if (!c.lt)
        c.lt = end;
    if (!c.amp)
        c.amp = end;
    c.title_open = out->title.len == 0;

    /* Inside a dropped element: its name, how deep, and whether it is svg/math. */
    struct tag skip = {0};
    size_t depth = 0;
    int foreign = 0;
    int rc = ND_OK;

    while (p < end) {
        const char *lt = next_lt(&c, p);
        if (!depth && lt > p && (rc = text_run(&c, p, lt)))
            return rc;
        if (lt == end)
            break;
        struct tag t;
        const char *next = NULL;
        enum tok type = token(lt, end, depth && foreign, &t, &next);
        if (type == T_EOF)
            break;
        if (type == T_TEXT) {
            if (!depth && (rc = emit(&c, "<", 1)))
                return rc;
            p = lt + 1;
            continue;
        }
        p = next;
        if (type == T_SKIP)
            continue;
        unsigned kind = t.kind & K_MASK;
        int same = depth && t.len == skip.len && t.len < sizeof t.name &&
                   memcmp(t.name, skip.name, t.len) == 0;
        if (depth) {
            if (type == T_START && foreign && (t.kind & K_BREAKOUT)) {
                depth = 0;   /* e.g. <p> inside <svg>: the parser leaves the svg */
            } else {
                if (same && type == T_START && !(foreign && t.self))
                    depth++;
                else if (same && type == T_END)
                    depth--;
                else if (type == T_START && kind == K_RAW) {
                    const char *close, *after = find_close(&c, p, &t, &close);
                    p = after ? after : end;
                }
                continue;
            }
        }
        if (type == T_END) {
            if (kind == K_BLOCK || kind == K_TEXTAREA || kind == K_TITLE)
                if ((rc = end_block(&c)))
                    return rc;
            continue;
        }
        switch (kind) {
        case K_BLOCK:
            if ((rc = end_block(&c)))
                return rc;
            break;
        case K_RAW: {
            const char *close, *after = find_close(&c, p, &t, &close);
            p = after ? after : end;
            break;
        }
        case K_TITLE:
        case K_TEXTAREA: {
            if ((rc = end_block(&c)))
                return rc;
            int *unclosed = kind == K_TITLE ? &c.title_unclosed : &c.textarea_unclosed;
            const char *close = NULL, *after = *unclosed ? NULL : find_close(&c, p, &t, &close);
            if (!after) {
                /* Never closed: parse on as if the tag were not there. The search moved
                 * the '<' cache to the end; rewind it (once per kind, so still linear). */
                if (!*unclosed) {
                    *unclosed = 1;
                    c.lt = memchr(p, '<', (size_t)(end - p));
                    if (!c.lt)
                        c.lt = end;
                }
                break;
            }
            if (kind == K_TITLE && c.title_open) {
                unsigned sp = c.sp;
                c.sink = &out->title;
                c.sp = 1;
                rc = text_run(&c, p, close);
                if (out->title.len && out->title.p[out->title.len - 1] == ' ')
                    out->title.p[--out->title.len] = '\0';
                c.sink = &out->text;
                c.sp = sp;
                c.title_open = 0;
            } else if (kind == K_TEXTAREA) {
                if (!(rc = text_run(&c, p, close)))
                    rc = end_block(&c);
            }
            if (rc)
                return rc;
            p = after;
            break;
        }
        case K_SKIP:
            /* svg and math are foreign content, where "/>" closes an element. */
            foreign = (t.len == 3 && memcmp(t.name, "svg", 3) == 0) ||
                      (t.len == 4 && memcmp(t.name, "math", 4) == 0);
            if (!(foreign && t.self)) {
                skip = t;
                depth = 1;
            }
            break;
        case K_PLAINTEXT:
            if ((rc = end_block(&c)) || (rc = emit(&c, p, (size_t)(end - p))))
                return rc;
            p = end;
            break;
        default:
            break;
        }
    }
    return end_block(&c);
}
