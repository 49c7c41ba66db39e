/* Clustering: candidate pairs from the plugin's keys, verified with its compare(),
 * joined by union-find with a guard against chaining (each member is checked against
 * its cluster's representative). Deterministic whatever the thread count. */
#ifndef ND_CLUSTER_H
#define ND_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include <neardup/plugin.h>

typedef struct nd_cluster_in {
    const nd_plugin *plugin;
    const void *state;          /* the plugin instance */
    const nd_sig_info *info;
    size_t n;                   /* documents, indexed 0..n-1 in report order */
    const unsigned char *sigs;  /* n * info->sig_size bytes */
    const uint64_t *keys;       /* n * info->n_keys */
    const uint8_t *eligible;    /* 0: never clustered (skipped, empty, template-only) */
    const uint64_t *priority;   /* lower is a better representative (more likely the
                                   original); ties broken by index */
    double threshold;           /* similarity needed (from info unless the user said) */
    double containment;         /* containment needed; > 1 disables */
    unsigned threads;
} nd_cluster_in;

typedef struct nd_cluster_out {
    int32_t *cluster;           /* per document: cluster id, or -1 when alone. Ids run
                                   0..n_clusters-1, largest cluster first, ties by the
                                   smallest member index */
    uint32_t *rep;              /* per document: its cluster's representative (itself
                                   when alone) */
    float *similarity;          /* per document: similarity to the representative (1 for
                                   the representative itself) */
    float *containment;         /* per document: containment vs the representative, or -1 */
    size_t n_clusters;
    uint64_t candidates;        /* candidate pairs looked at */
    uint64_t verified;          /* pairs that passed compare() */
} nd_cluster_out;

int nd_cluster_run(const nd_cluster_in *in, nd_cluster_out *out);
void nd_cluster_out_free(nd_cluster_out *out);

#endif
