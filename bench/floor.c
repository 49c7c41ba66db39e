/* The benchmark's physical limits, measured on the same files as neardup in the same
 * run: `floor tokenize FILES...` splits bytes into words and hashes every 5-word
 * window with XXH3 (the least any shingling must do), `floor inflate FILES...` inflates
 * the gzip files with zlib (streaming, as the reader does) and with libdeflate (whole
 * members). FILES may be "-": one path per line on stdin, for crawls with more files
 * than a command line holds. Prints one line per measure: name, MB in, seconds, MB/s. */
#include <libdeflate.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>
#include <zlib.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, len = 0, got;
    unsigned char *p = malloc(cap);
    while (p && (got = fread(p + len, 1, cap - len, f)) > 0)
        if ((len += got) == cap) {
            unsigned char *q = realloc(p, cap *= 2);
            if (!q)
                free(p);
            p = q;
        }
    fclose(f);
    *n = len;
    return p;
}

static uint64_t sink;

/* Words are runs of bytes other than ASCII space/punctuation (so UTF-8 letters count);
 * each window of 5 words is hashed over its byte span. */
static void tokenize(const unsigned char *p, size_t n)
{
    static unsigned char word[256];
    if (!word['a'])
        for (int c = 0; c < 256; c++)
            word[c] = c >= 0x80 || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
    size_t start[5] = {0}, k = 0, i = 0;
    uint64_t acc = 0;
    while (i < n) {
        while (i < n && !word[p[i]])
            i++;
        if (i == n)
            break;
        size_t s = i;
        while (i < n && word[p[i]])
            i++;
        start[k % 5] = s;
        k++;
        if (k >= 5)
            acc += XXH3_64bits(p + start[k % 5], i - start[k % 5]);
    }
    sink += acc;
}

static size_t inflate_zlib(const unsigned char *p, size_t n)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return 0;
    static unsigned char out[1 << 18];
    size_t total = 0;
    z.next_in = (unsigned char *)p;
    z.avail_in = (uInt)n;
    for (;;) {
        z.next_out = out;
        z.avail_out = sizeof out;
        int rc = inflate(&z, Z_NO_FLUSH);
        total += sizeof out - z.avail_out;
        sink += out[0];
        if (rc == Z_STREAM_END) {
            if (z.avail_in == 0)
                break;
            inflateReset(&z);
        } else if (rc != Z_OK) {
            break;
        }
    }
    inflateEnd(&z);
    return total;
}

static size_t inflate_libdeflate(const unsigned char *p, size_t n)
{
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    size_t cap = 1 << 20, total = 0;
    unsigned char *out = malloc(cap);
    while (n > 18 && out) {
        size_t in_used = 0, out_len = 0;
        enum libdeflate_result r;
        /* A member's size is only known from its trailer once its end is known, so
         * grow the output buffer until the member fits. */
        while ((r = libdeflate_gzip_decompress_ex(d, p, n, out, cap, &in_used, &out_len)) ==
               LIBDEFLATE_INSUFFICIENT_SPACE) {
            unsigned char *q = realloc(out, cap *= 2);
            if (!q)
                goto done;
            out = q;
        }
        if (r != LIBDEFLATE_SUCCESS)
            break;
        sink += out[0];
        total += out_len;
        p += in_used;
        n -= in_used;
    }
done:
    free(out);
    libdeflate_free_decompressor(d);
    return total;
}

/* The next path: argv[i], or with "-" the next line of stdin (into line). */
static const char *next_path(int argc, char **argv, int *i, char *line, size_t cap)
{
    if (argc == 3 && strcmp(argv[2], "-") == 0) {
        if (!fgets(line, (int)cap, stdin))
            return NULL;
        line[strcspn(line, "\n")] = 0;
        return line;
    }
    return *i < argc ? argv[(*i)++] : NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "tokenize") && strcmp(argv[1], "inflate"))) {
        fprintf(stderr, "usage: floor tokenize|inflate FILE...\n");
        return 2;
    }
    int tok = strcmp(argv[1], "tokenize") == 0;
    double t_main = 0, t_alt = 0;
    uint64_t in = 0, out_z = 0, out_d = 0;
    static char line[8192];
    int i = 2;
    for (const char *path; (path = next_path(argc, argv, &i, line, sizeof line));) {
        size_t n;
        unsigned char *p = slurp(path, &n);
        if (!p)
            continue;
        in += n;
        double t0 = now();
        if (tok) {
            tokenize(p, n);
        } else {
            out_z += inflate_zlib(p, n);
            double t1 = now();
            t_main += t1 - t0;
            out_d += inflate_libdeflate(p, n);
            t_alt += now() - t1;
            free(p);
            continue;
        }
        t_main += now() - t0;
        free(p);
    }
    if (tok) {
        printf("tokenize+hash %.1f MB %.3f s %.1f MB/s\n", in / 1e6, t_main,
               t_main > 0 ? in / 1e6 / t_main : 0);
    } else {
        printf("zlib-inflate %.1f MB-out %.3f s %.1f MB/s-out\n", out_z / 1e6, t_main,
               t_main > 0 ? out_z / 1e6 / t_main : 0);
        printf("libdeflate %.1f MB-out %.3f s %.1f MB/s-out\n", out_d / 1e6, t_alt,
               t_alt > 0 ? out_d / 1e6 / t_alt : 0);
    }
    return sink == 42 ? 3 : 0; /* keep the work observable */
}
