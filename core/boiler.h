/* Boilerplate learned from the crawl itself: per site, how many documents contain each
 * normalised block. A block repeated on enough of one site's pages is that site's
 * template (navigation, related lists, footers, ad lines); text shared by a few pages
 * of different sites is syndication, not boilerplate. Memory-bounded per site. */
#ifndef ND_BOILER_H
#define ND_BOILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nd_boiler_opts {
    uint32_t min_docs;      /* a block must be on at least this many pages of a site */
    double min_share;       /* ... and on at least this share of the site's pages */
    size_t max_entries;     /* memory budget: hash entries kept over all sites before
                               pruning rare ones (0: default) */
    uint32_t max_docs;      /* ... but never more pages than this, whatever the site's
                               size (0: no cap) */
} nd_boiler_opts;

/* Defaults chosen by measurement on the generated crawl (see README). */
void nd_boiler_opts_default(nd_boiler_opts *o);

typedef struct nd_boiler nd_boiler;

/* The number of pages of a site of site_docs pages a block must be on to be its
 * boilerplate: max(2, min_docs, min(max_docs, ceil(min_share * site_docs))). */
uint32_t nd_boiler_threshold(const nd_boiler_opts *o, uint32_t site_docs);

int nd_boiler_new(const nd_boiler_opts *o, nd_boiler **out);
void nd_boiler_free(nd_boiler *b);

/* Record one document of site `site` (a small dense id given by the caller) with its
 * n blocks: hashes[i] is the XXH3-64 of block i's normalised text, texts[i]/lens[i] its
 * text as extracted (borrowed during the call; kept only for blocks that repeat, for
 * the report). Blocks repeated within a document count once. Thread-safe. */
int nd_boiler_add_doc(nd_boiler *b, uint32_t site, const uint64_t *hashes,
                      const char *const *texts, const uint32_t *lens, size_t n);

/* Whether site `site` already had a page with this content digest (XXH3-128 of the
 * page's decoded body): 1 if so, else 0, and the page is now recorded; negative on
 * out of memory. A page for which it says 1 should not be added: exact re-crawls of
 * one page are one page of the site, or a site that is one article fetched under many
 * URLs would see the article itself as its boilerplate. Thread-safe; which copy comes
 * first does not change the counts. */
int nd_boiler_seen(nd_boiler *b, uint32_t site, const uint64_t digest[2]);

/* After the last add: decide which blocks are boilerplate. */
int nd_boiler_finish(nd_boiler *b);

/* After finish: is this block boilerplate on this site? Thread-safe, lock-free. */
bool nd_boiler_is(const nd_boiler *b, uint32_t site, uint64_t hash);

/* After finish, for the report. */
typedef struct nd_boiler_block {
    uint64_t hash;
    uint32_t docs;          /* documents of the site containing it */
    const char *text;       /* as first seen; owned by the nd_boiler */
} nd_boiler_block;

uint32_t nd_boiler_site_docs(const nd_boiler *b, uint32_t site);
/* The site's boilerplate blocks, most frequent first (ties by text), valid until
 * nd_boiler_free. *n may be 0. */
const nd_boiler_block *nd_boiler_site_blocks(const nd_boiler *b, uint32_t site, size_t *n);

/* After finish: what the memory budget cost. Counts are lower bounds: a block's count
 * may miss at most max_undercount pages (0 when nothing was pruned), so a block can
 * fall short of the threshold through pruning but never reach it through it. */
typedef struct nd_boiler_stats {
    uint32_t sites;          /* site ids seen (highest + 1) */
    size_t blocks;           /* boilerplate blocks over all sites */
    size_t entries;          /* distinct (site, block) counted at the end */
    uint64_t pruned;         /* entries dropped to stay within max_entries */
    uint32_t prune_rounds;
    uint32_t max_undercount;
} nd_boiler_stats;

void nd_boiler_get_stats(const nd_boiler *b, nd_boiler_stats *st);

#endif
