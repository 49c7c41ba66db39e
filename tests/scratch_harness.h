/* Test helper for reader tests: a private scratch folder (`dir`, made by scratch_setup
 * as a cmocka group setup, removed by scratch_teardown), files written into it, and
 * gzip members built with zlib. Include after <cmocka.h>. */
#ifndef ND_SCRATCH_HARNESS_H
#define ND_SCRATCH_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "buf.h"

static char dir[64];

static inline int scratch_setup(void **state)
{
    (void)state;
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/ndtest.XXXXXX", t && strlen(t) < 40 ? t : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static inline int scratch_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* dir/name holding len bytes of data. */
static inline void put(const char *name, const void *data, size_t len)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* One gzip member of data appended to out. */
static inline void gz(nd_buf *out, const void *data, size_t len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t bound = deflateBound(&z, len) + 32;
    assert_int_equal(nd_buf_reserve(out, bound), 0);
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out->p + out->len;
    z.avail_out = (uInt)bound;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    out->len += bound - z.avail_out;
    deflateEnd(&z);
}

#endif
