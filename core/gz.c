/* The reader's byte source: plain read() or streaming zlib inflate over every gzip
 * member of a file, with a sliding window for parsers and direct reads for bulk
 * copies. Memory is the raw buffer, the window and one small entry per gzip member
 * that starts inside data not consumed yet. */
#include "gz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libdeflate.h>

#include "error.h"

#define ND_RAW_CAP (256u << 10)
#define ND_MOUT_MIN (1u << 20)
#define ND_MOUT_MAX (16u << 20)

int nd_src_init(nd_src *s, int fd, size_t wcap)
{
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->raw_cap = ND_RAW_CAP;
    s->raw = malloc(s->raw_cap);
    s->wcap = wcap;
    s->win = malloc(wcap);
    if (!s->raw || !s->win) {
        nd_src_free(s);
        return nd_fail(ND_ENOMEM, "out of memory");
    }
    return ND_OK;
}

int nd_src_init_mem(nd_src *s, const void *data, size_t len, size_t wcap)
{
    int rc = nd_src_init(s, -1, wcap);
    if (rc)
        return rc;
    s->mem = data ? data : (const void *)""; /* non-NULL: the memory source even when empty */
    s->mem_len = data ? len : 0;
    return ND_OK;
}

void nd_src_free(nd_src *s)
{
    if (s->z_ready)
        inflateEnd(&s->z);
    if (s->dd)
        libdeflate_free_decompressor(s->dd);
    free(s->mout);
    free(s->mb);
    free(s->win);
    free(s->raw);
    memset(s, 0, sizeof *s);
    s->fd = -1;
}

/* File offset of raw[raw_pos]. */
static uint64_t raw_at(const nd_src *s)
{
    return s->raw_base + s->raw_pos;
}

/* One read() of up to cap file bytes into dst, hashed into fhash. 0 at the end of the
 * file, or on a read error (state IOERR, why set). fd is a regular file (the reader
 * checks): a short read is its end, which saves the read() that would return 0. */
static size_t file_read(nd_src *s, unsigned char *dst, size_t cap)
{
    ssize_t n;
    if (s->mem) {
        n = (ssize_t)(s->mem_len - s->mem_pos < cap ? s->mem_len - s->mem_pos : cap);
        memcpy(dst, s->mem + s->mem_pos, (size_t)n);
        s->mem_pos += (size_t)n;
    } else {
        do
            n = read(s->fd, dst, cap);
        while (n < 0 && errno == EINTR);
    }
    if (n <= 0) {
        s->raw_eof = 1;
        if (n < 0) {
            s->state = ND_SRC_IOERR;
            snprintf(s->why, sizeof s->why, "%s", strerror(errno));
        }
        return 0;
    }
    if (s->fhash)
        XXH3_128bits_update(s->fhash, dst, (size_t)n);
    if ((size_t)n < cap)
        s->raw_eof = 1;
    return (size_t)n;
}

/* Append more file bytes after raw[raw_len), keeping raw[raw_pos..). Returns how many
 * were added; 0 at the end of the file or a read error (state IOERR). */
static size_t raw_more(nd_src *s)
{
    if (s->raw_eof)
        return 0;
    if (s->raw_pos > 0) {
        memmove(s->raw, s->raw + s->raw_pos, s->raw_len - s->raw_pos);
        s->raw_base += s->raw_pos;
        s->raw_len -= s->raw_pos;
        s->raw_pos = 0;
    }
    if (s->raw_len == s->raw_cap)
        return 0;
    size_t n = file_read(s, s->raw + s->raw_len, s->raw_cap - s->raw_len);
    s->raw_len += n;
    return n;
}

size_t nd_src_peek_raw(nd_src *s, size_t want)
{
    if (want > s->raw_cap)
        want = s->raw_cap;
    while (s->raw_len - s->raw_pos < want && raw_more(s) > 0)
        ;
    return s->raw_len - s->raw_pos;
}

int nd_src_set_gz(nd_src *s)
{
    s->gz = 1;
    return ND_OK;
}

static int add_member(nd_src *s, uint64_t dpos, uint64_t cpos)
{
    if (s->n_mb && s->mb[s->n_mb - 1].dpos == dpos) {
        /* An empty member: the byte at dpos belongs to the later one. */
        s->mb[s->n_mb - 1] = (struct nd_member){dpos, cpos, 0, 0, 0};
        return ND_OK;
    }
    if (s->n_mb == s->cap_mb) {
        /* Members wholly before pos can no longer be asked about; keep the one
         * holding pos. */
        size_t i = s->n_mb;
        while (i > 0 && s->mb[i - 1].dpos > s->pos)
            i--;
        if (i > 1) {
            memmove(s->mb, s->mb + (i - 1), (s->n_mb - (i - 1)) * sizeof *s->mb);
            s->n_mb -= i - 1;
        }
    }
    if (s->n_mb == s->cap_mb) {
        size_t cap = s->cap_mb ? 2 * s->cap_mb : 16;
        struct nd_member *m = realloc(s->mb, cap * sizeof *m);
        if (!m)
            return nd_fail(ND_ENOMEM, "out of memory");
        s->mb = m;
        s->cap_mb = cap;
    }
    s->mb[s->n_mb++] = (struct nd_member){dpos, cpos, 0, 0, 0};
    return ND_OK;
}

/* Move raw_pos to the next "1f 8b 08" at or after file offset from; 1 if found. */
static int skip_to_magic(nd_src *s, uint64_t from)
{
    if (from > raw_at(s)) {
        uint64_t d = from - raw_at(s);
        s->raw_pos += d < s->raw_len - s->raw_pos ? (size_t)d : s->raw_len - s->raw_pos;
    }
    for (;;) {
        const unsigned char *p = s->raw + s->raw_pos, *end = s->raw + s->raw_len;
        while (p + 2 < end) {
            const unsigned char *q = memchr(p, 0x1f, (size_t)(end - p - 2));
            if (!q)
                break;
            if (q[1] == 0x8b && q[2] == 0x08) {
                s->raw_pos = (size_t)(q - s->raw);
                return 1;
            }
            p = q + 1;
        }
        size_t keep = s->raw_len - s->raw_pos < 2 ? s->raw_len - s->raw_pos : 2;
        s->raw_pos = s->raw_len - keep;
        if (!raw_more(s))
            return 0;
    }
}

static size_t produce_plain(nd_src *s, unsigned char *dst, size_t cap)
{
    if (s->raw_pos < s->raw_len) {
        size_t n = s->raw_len - s->raw_pos < cap ? s->raw_len - s->raw_pos : cap;
        memcpy(dst, s->raw + s->raw_pos, n);
        s->raw_pos += n;
        return n;
    }
    if (s->raw_eof) {
        if (!s->state)
            s->state = ND_SRC_END;
        return 0;
    }
    /* Bulk data goes straight to the caller's buffer. */
    s->raw_base += s->raw_len;
    s->raw_pos = s->raw_len = 0;
    size_t n = file_read(s, dst, cap);
    if (!n && !s->state)
        s->state = ND_SRC_END;
    s->raw_base += n;
    return n;
}

/* Decode the member at raw_pos whole with libdeflate (2-3x faster than zlib) when
 * it ends inside the raw buffer. 1 done (output in mout), 0 not done: zlib streams
 * it instead, and tells any error precisely. */
static int fast_member(nd_src *s)
{
    /* Files whose members do not fit (one stream for everything) stop trying. */
    if (s->fast_tries >= 8 && s->fast_fails * 2 > s->fast_tries)
        return 0;
    if (s->raw_len - s->raw_pos < s->raw_cap / 4)
        while (raw_more(s) > 0 && s->raw_len < s->raw_cap)
            ;
    if (!s->dd && !(s->dd = libdeflate_alloc_decompressor()))
        return 0;
    if (!s->mout) {
        if (!(s->mout = malloc(ND_MOUT_MIN)))
            return 0;
        s->mout_cap = ND_MOUT_MIN;
    }
    s->fast_tries++;
    for (;;) {
        size_t in = 0, out = 0;
        enum libdeflate_result r = libdeflate_gzip_decompress_ex(
            s->dd, s->raw + s->raw_pos, s->raw_len - s->raw_pos, s->mout, s->mout_cap, &in, &out);
        if (r == LIBDEFLATE_SUCCESS) {
            /* produce_gz added this member's entry just before. */
            struct nd_member *m = &s->mb[s->n_mb - 1];
            if (m->cpos == raw_at(s) && in) {
                m->clen = in;
                m->dlen = out;
                m->chash = XXH3_64bits(s->raw + s->raw_pos, in);
            }
            s->raw_pos += in;
            s->mout_pos = 0;
            s->mout_len = out;
            return 1;
        }
        if (r != LIBDEFLATE_INSUFFICIENT_SPACE || s->mout_cap >= ND_MOUT_MAX)
            break;
        unsigned char *m = realloc(s->mout, s->mout_cap * 4);
        if (!m)
            break;
        s->mout = m;
        s->mout_cap *= 4;
    }
    s->fast_fails++;
    return 0;
}

static int produce_gz(nd_src *s, unsigned char *dst, size_t cap, size_t *got)
{
    int rc;
    *got = 0;
    while (*got < cap && !s->state) {
        if (s->mout_pos < s->mout_len) {
            size_t k = s->mout_len - s->mout_pos < cap - *got ? s->mout_len - s->mout_pos : cap - *got;
            memcpy(dst + *got, s->mout + s->mout_pos, k);
            s->mout_pos += k;
            *got += k;
            s->dout += k;
            continue;
        }
        if (!s->in_member) {
            while (s->raw_len - s->raw_pos < 3 && raw_more(s) > 0)
                ;
            size_t av = s->raw_len - s->raw_pos;
            if (av == 0) {
                if (!s->state)
                    s->state = ND_SRC_END;
                break;
            }
            const unsigned char *p = s->raw + s->raw_pos;
            if (av < 2 || p[0] != 0x1f || p[1] != 0x8b) {
                if (!s->garbage) {
                    s->garbage = 1;
                    s->garbage_at = raw_at(s);
                }
                if (s->resync && skip_to_magic(s, raw_at(s)))
                    continue;
                if (!s->state)
                    s->state = ND_SRC_END;
                break;
            }
            if ((rc = add_member(s, s->dout, raw_at(s))))
                return rc;
            if (fast_member(s))
                continue;
            if (!s->z_ready) {
                if (inflateInit2(&s->z, 31) != Z_OK)
                    return nd_fail(ND_ENOMEM, "out of memory (zlib)");
                s->z_ready = 1;
            } else if (inflateReset(&s->z) != Z_OK) {
                return nd_fail(ND_EINTERNAL, "zlib reset failed");
            }
            s->in_member = 1;
        }
        if (s->raw_pos == s->raw_len && !raw_more(s)) {
            if (!s->state) {
                s->state = ND_SRC_TRUNCATED;
                snprintf(s->why, sizeof s->why, "gzip data cut short by the end of the file");
            }
            break;
        }
        size_t in = s->raw_len - s->raw_pos, out = cap - *got;
        s->z.next_in = s->raw + s->raw_pos;
        s->z.avail_in = in > UINT32_MAX ? UINT32_MAX : (uInt)in;
        s->z.next_out = dst + *got;
        s->z.avail_out = out > UINT32_MAX ? UINT32_MAX : (uInt)out;
        uInt ai = s->z.avail_in, ao = s->z.avail_out;
        int r = inflate(&s->z, Z_NO_FLUSH);
        s->raw_pos += ai - s->z.avail_in;
        *got += ao - s->z.avail_out;
        s->dout += ao - s->z.avail_out;
        if (r == Z_STREAM_END) {
            s->in_member = 0;
        } else if (r == Z_OK || r == Z_BUF_ERROR) {
            /* more input needed: the loop reads it */
        } else if (r == Z_MEM_ERROR) {
            return nd_fail(ND_ENOMEM, "out of memory (zlib)");
        } else {
            s->state = ND_SRC_CORRUPT;
            snprintf(s->why, sizeof s->why, "%s", s->z.msg ? s->z.msg : "bad data");
        }
    }
    return ND_OK;
}

static int produce(nd_src *s, unsigned char *dst, size_t cap, size_t *got)
{
    if (s->gz)
        return produce_gz(s, dst, cap, got);
    *got = produce_plain(s, dst, cap);
    s->dout += *got;
    return ND_OK;
}

int nd_src_fill(nd_src *s, size_t need)
{
    if (need > s->wcap)
        need = s->wcap;
    while (nd_src_avail(s) < need && !s->state) {
        if (s->wpos > 0) {
            memmove(s->win, s->win + s->wpos, s->wlen - s->wpos);
            s->wlen -= s->wpos;
            s->wpos = 0;
        }
        size_t got = 0;
        int rc = produce(s, s->win + s->wlen, s->wcap - s->wlen, &got);
        if (rc)
            return rc;
        s->wlen += got;
    }
    return ND_OK;
}

int nd_src_read(nd_src *s, void *dst, size_t n, size_t *got)
{
    unsigned char *d = dst;
    size_t k = nd_src_avail(s) < n ? nd_src_avail(s) : n;
    memcpy(d, nd_src_ptr(s), k);
    nd_src_consume(s, k);
    *got = k;
    while (*got < n && !s->state) {
        size_t m = 0;
        int rc = produce(s, d + *got, n - *got, &m);
        if (rc)
            return rc;
        *got += m;
        s->pos += m;
    }
    return ND_OK;
}

/* The entry of the gzip member holding the byte at pos, or NULL. */
static const struct nd_member *member_at_pos(const nd_src *s)
{
    size_t i = s->n_mb;
    while (i > 0 && s->mb[i - 1].dpos > s->pos)
        i--;
    return i ? &s->mb[i - 1] : NULL;
}

uint64_t nd_src_member(nd_src *s)
{
    if (!s->gz)
        return s->pos;
    const struct nd_member *m = member_at_pos(s);
    return m ? m->cpos : 0;
}

const struct nd_member *nd_src_member_starts(const nd_src *s, uint64_t cpos)
{
    const struct nd_member *m = s->gz ? member_at_pos(s) : NULL;
    return m && m->dpos == s->pos && m->cpos == cpos ? m : NULL;
}

int nd_src_resync(nd_src *s)
{
    if (!s->gz || s->state == ND_SRC_IOERR)
        return 0;
    s->pos += nd_src_avail(s);
    s->wpos = s->wlen = 0;
    uint64_t from = raw_at(s);
    if (s->n_mb && s->mb[s->n_mb - 1].cpos + 1 > from)
        from = s->mb[s->n_mb - 1].cpos + 1;
    s->in_member = 0;
    s->mout_pos = s->mout_len = 0;
    s->state = ND_SRC_OK;
    s->why[0] = '\0';
    if (skip_to_magic(s, from))
        return 1;
    if (!s->state)
        s->state = ND_SRC_END;
    return 0;
}

void nd_src_drain_raw(nd_src *s)
{
    s->raw_base += s->raw_len;
    s->raw_pos = s->raw_len = 0;
    while (!s->raw_eof) {
        raw_more(s);
        s->raw_base += s->raw_len;
        s->raw_pos = s->raw_len = 0;
    }
}
