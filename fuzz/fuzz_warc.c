/* libFuzzer target: the crawl reader on warc input (the seeds in fuzz/seeds/warc/ steer
 * it there; the format is sniffed from the content, so any path may be reached). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return nd_fuzz_read_bytes(data, size, "warc");
}
