/* Shared by the fuzz targets: a contract check that aborts (so both libFuzzer and the
 * replay driver report it with the input that broke it). */
#ifndef ND_FUZZ_H
#define ND_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define ND_FUZZ_ASSERT(c)                                                              \
    do {                                                                               \
        if (!(c)) {                                                                    \
            fprintf(stderr, "%s:%d: contract broken: %s\n", __FILE__, __LINE__, #c);  \
            abort();                                                                   \
        }                                                                              \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_file.c: run the crawl reader on data written to a scratch file. */
int nd_fuzz_read_bytes(const uint8_t *data, size_t size, const char *name);

#endif
