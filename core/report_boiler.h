/* The boilerplate part of a report: per site, the blocks repeated across its pages
 * (with how many pages hold them) and the share of the site's text they make up; and
 * the boilerplate JSON Lines contract ({"text","docs","site","share",...}). */
#ifndef ND_REPORT_BOILER_H
#define ND_REPORT_BOILER_H

#include <stdio.h>

#include "run.h"

/* Human section: every site with boilerplate, its `top` most frequent blocks. */
int nd_report_boiler_text(const nd_run *run, FILE *out, size_t top);
/* One JSON object per boilerplate block, sites in name order, blocks most frequent
 * first: {"text","docs","site","share","site_docs"}. */
int nd_report_boiler_jsonl(const nd_run *run, FILE *out);

#endif
