/* What `report` prints: the human summary of a run, and the clusters JSON Lines
 * contract ({"cluster","size","similarity","representative","members":[...]}). */
#ifndef ND_REPORT_H
#define ND_REPORT_H

#include <stdio.h>

#include "run.h"

/* Documents of each cluster, in document order: members[start[c] .. start[c+1]). */
typedef struct nd_cluster_index {
    size_t *start;    /* n_clusters + 1 */
    uint32_t *members;
} nd_cluster_index;

int nd_cluster_index_build(const nd_run *run, nd_cluster_index *ix);
void nd_cluster_index_free(nd_cluster_index *ix);

/* Human report; `top` clusters shown (the rest counted), each with at most `members`
 * of its members listed besides the original (0: all of them). */
int nd_report_text(const nd_run *run, const nd_cluster_index *ix, FILE *out, size_t top,
                   size_t members);
/* One JSON object per cluster of two or more documents, largest first. */
int nd_report_clusters_jsonl(const nd_run *run, const nd_cluster_index *ix, FILE *out);

#endif
