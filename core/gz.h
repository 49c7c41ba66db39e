/* Private to the reader: one file seen as a stream of bytes, either as stored or
 * through gzip (multi-member; the compressed offset of each member is kept so a WARC
 * record can name the member holding its first byte), through a sliding window. */
#ifndef ND_GZ_H
#define ND_GZ_H

#include <stddef.h>
#include <stdint.h>

#include <xxhash.h>
#include <zlib.h>

enum nd_src_state {
    ND_SRC_OK = 0,
    ND_SRC_END,        /* clean end of the stream */
    ND_SRC_TRUNCATED,  /* gzip member cut short by the end of the file */
    ND_SRC_CORRUPT,    /* bad gzip data (why[] holds zlib's reason) */
    ND_SRC_IOERR       /* read() failed (why[] holds the reason) */
};

struct nd_member {
    uint64_t dpos;     /* decompressed offset of the member's first byte */
    uint64_t cpos;     /* offset of the member in the file */
    /* Set when libdeflate decoded the member whole (else clen is 0): its compressed
     * length, decoded length, and XXH3-64 of its compressed bytes. */
    uint64_t clen, dlen, chash;
};

typedef struct nd_src {
    int fd;                     /* -1 for a file already in memory (mem) */
    const unsigned char *mem;   /* nd_src_init_mem: the whole file, borrowed */
    size_t mem_len, mem_pos;
    int gz;                     /* decoding gzip */
    int resync;                 /* on garbage between members, look for the next one */
    /* raw bytes of the file */
    unsigned char *raw;
    size_t raw_cap, raw_pos, raw_len;
    uint64_t raw_base;          /* file offset of raw[0] */
    int raw_eof;
    XXH3_state_t *fhash;        /* non-NULL: every raw byte read is hashed */
    /* gzip */
    z_stream z;
    int z_ready, in_member;
    /* whole members decoded at once by libdeflate when one fits in the raw buffer */
    struct libdeflate_decompressor *dd;
    unsigned char *mout;
    size_t mout_cap, mout_pos, mout_len;
    unsigned fast_tries, fast_fails;
    struct nd_member *mb;
    size_t n_mb, cap_mb;
    uint64_t dout;              /* bytes produced so far */
    /* window: win[wpos..wlen) not consumed yet; pos is the stream offset of win[wpos] */
    unsigned char *win;
    size_t wcap, wpos, wlen;
    uint64_t pos;
    int state;                  /* enum nd_src_state */
    int garbage;                /* non-gzip bytes after a member were met */
    uint64_t garbage_at;
    char why[128];
} nd_src;

/* fd stays the caller's and must be a regular file: a short read is taken as its end
 * (read.c checks S_ISREG before). 0 or ND_ENOMEM. */
int nd_src_init(nd_src *s, int fd, size_t wcap);
/* The same over a whole file already in memory (borrowed until nd_src_free). */
int nd_src_init_mem(nd_src *s, const void *data, size_t len, size_t wcap);
void nd_src_free(nd_src *s);
/* Read the first raw bytes (up to the raw buffer) so the caller can sniff them:
 * returns how many are in s->raw (0 at an empty file or read error: see state). */
size_t nd_src_peek_raw(nd_src *s, size_t want);
/* Decode from here on as gzip (before anything was produced). */
int nd_src_set_gz(nd_src *s);

/* Make at least need bytes available in the window (fewer only at the end of the
 * stream or an error, see state). need must be <= wcap. 0 or ND_ENOMEM. */
int nd_src_fill(nd_src *s, size_t need);
#define nd_src_avail(s) ((s)->wlen - (s)->wpos)
#define nd_src_ptr(s) ((const char *)(s)->win + (s)->wpos)
static inline void nd_src_consume(nd_src *s, size_t n)
{
    s->wpos += n;
    s->pos += n;
}
/* Copy up to n bytes to dst: the window first, then straight from the file or the
 * inflater (no window copy). *got < n only at the end or an error. */
int nd_src_read(nd_src *s, void *dst, size_t n, size_t *got);
/* File offset of the gzip member holding the byte at pos (pos itself when not gzip).
 * Call with at least one byte available. */
uint64_t nd_src_member(nd_src *s);
/* The member's entry when the byte at the stream position is the first of the gzip
 * member at file offset cpos (what follows in that member can be copied as stored; a
 * non-zero clen lets the copy be checked without decoding it again), else NULL. The
 * entry is valid until the next read. */
const struct nd_member *nd_src_member_starts(const nd_src *s, uint64_t cpos);
/* After ND_SRC_CORRUPT/TRUNCATED in gzip: drop the window and look for the next gzip
 * member in the file. Returns 1 when one was found (state OK again), 0 otherwise. */
int nd_src_resync(nd_src *s);
/* Read (and hash) the rest of the file without decoding it. */
void nd_src_drain_raw(nd_src *s);

#endif
