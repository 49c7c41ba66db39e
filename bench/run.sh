#!/bin/bash
# neardup benchmark: generates (and caches) a small and a large crawl with ground truth,
# runs every method with and without boilerplate stripping on 1 and 2 threads, scores
# each run, and prints Markdown tables beside the physical limits measured in the same
# run (cat, inflate, tokenize+hash), plus clean vs report, the LSH stage against exact
# Jaccard, and clustering of 1M signatures alone. Figures are meant to be read as
# ratios: the machine is shared and noisy. Called by `make bench`; BUILD names the build
# folder. Tables go to stdout and $BENCH_OUT/bench.md; progress goes to stderr.
set -euo pipefail
B=${BUILD:-build}
ND=$B/neardup
CACHE=${BENCH_CACHE:-corpora/cache}
OUT=${BENCH_OUT:-bench-out}
SMALL_DOCS=${BENCH_SMALL_DOCS:-3000}
LARGE_DOCS=${BENCH_LARGE_DOCS:-220000}
SEED=${BENCH_SEED:-20261125}
CLUSTER_DOCS=${BENCH_CLUSTER_DOCS:-1000000}
# jaccard_ref is exact all-pairs work: run on the large crawl only when its time,
# extrapolated from the small crawl, fits this many seconds.
JREF_BUDGET=${BENCH_JACCARD_BUDGET:-120}
# Runs of one configuration on the small crawl, best wall time kept: the machine is
# shared, and a sub-second run is easily disturbed. The large crawl is run once unless
# BENCH_REPEAT_LARGE says more. CPU seconds are kept too: they do not depend on load.
REPEAT_SMALL=${BENCH_REPEAT:-3}
REPEAT_LARGE=${BENCH_REPEAT_LARGE:-1}
# Pairs (a report, then a clean) per clean row on the large crawl, the best of each
# kept: one pair's ratio moved by 0.15 from run to run on this machine.
REPEAT_CLEAN=${BENCH_REPEAT_CLEAN:-2}
THREADS=(1 2)
METHODS=(shingle simhash exact)
mkdir -p "$CACHE" "$OUT"

declare -A WALL RSS CPU DOCS PHASES BYTES_OF

say() { echo "bench: $*" >&2; }
# f FORMAT EXPR: awk arithmetic on shell-substituted numbers
f() { awk "BEGIN { printf \"$1\", $2 }"; }

# A cached crawl is reused while the generator's source and the size are unchanged.
gen() {
    local name=$1 docs=$2
    local stamp
    stamp="$(sha1sum corpora/gen.c | cut -c1-16) $docs $SEED"
    if [ ! -f "$CACHE/$name.stamp" ] || [ "$(cat "$CACHE/$name.stamp")" != "$stamp" ]; then
        rm -rf "$CACHE/$name" "$CACHE/$name.truth.json" "$CACHE/$name.stamp"
        say "generating $name crawl ($docs documents)..."
        "$B/gen" --docs "$docs" --seed "$SEED" --out "$CACHE/$name" --truth "$CACHE/$name.truth.json" >&2
        echo "$stamp" > "$CACHE/$name.stamp"
    fi
}

bytes_of() { find "$1" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }

# We cannot drop the page cache as a user: warm it instead, so every figure is from
# memory, like the limits beside them.
warm() { find "$1" -type f -print0 | xargs -0 cat > /dev/null; }

# jv FILE EXPR: a number from a JSON file, rounded to 3 places, or "-"
jv() {
    jq -r "$2 // \"-\" | if type == \"number\" then (. * 1000 | round / 1000) else . end" "$1" \
        2>/dev/null || echo -
}

# run_one CRAWL METHOD strip|keep THREADS: report + score; figures kept in the arrays
run_one() {
    local crawl=$1 method=$2 boil=$3 threads=$4
    local dir="$CACHE/$crawl" tag="$crawl-$method-$boil-$threads"
    local extra=()
    [ "$boil" = keep ] && extra+=(--keep-boilerplate)
    say "report $tag"
    local code=0 rep=$REPEAT_LARGE k wall rss cpu
    [ "$crawl" = small ] && rep=$REPEAT_SMALL
    for ((k = 0; k < rep; k++)); do
        "$B/bench/measure" "$ND" report "$dir" --method "$method" --threads "$threads" "${extra[@]}" \
            --clusters "$OUT/$tag.clusters.jsonl" --boilerplate "$OUT/$tag.boiler.jsonl" \
            --no-progress > "$OUT/$tag.report.txt" 2> "$OUT/$tag.err" || code=$?
        read -r _ wall rss _ cpu < <(grep '^measure:' "$OUT/$tag.err" | tail -1)
        if [ "$k" = 0 ] || [ "$(f %d "$wall < ${WALL[$tag]}")" = 1 ]; then
            WALL[$tag]=$wall
            CPU[$tag]=$cpu
        fi
        if [ "$k" = 0 ] || [ "$rss" -gt "${RSS[$tag]}" ]; then RSS[$tag]=$rss; fi
    done
    DOCS[$tag]=$(sed -n 's/^ *\([0-9]*\) documents in .*/\1/p' "$OUT/$tag.report.txt" | head -1)
    PHASES[$tag]=$(sed -n 's/.*reading \([0-9.]*\) s, fingerprinting \([0-9.]*\) s, clustering \([0-9.]*\) s.*/\1 \/ \2 \/ \3/p' \
        "$OUT/$tag.report.txt" | head -1)
    [ "$code" = 0 ] || say "neardup exited $code on $tag: see $OUT/$tag.err"
    "$B/score" --truth "$CACHE/$crawl.truth.json" --clusters "$OUT/$tag.clusters.jsonl" \
        --boilerplate "$OUT/$tag.boiler.jsonl" --json > "$OUT/$tag.score.json" 2>/dev/null || true
}

speed_table() {
    local crawl=$1 bytes=${BYTES_OF[$1]}
    echo "### Speed and memory ($crawl crawl)"
    echo
    echo "| method | boilerplate | threads | docs | MB | wall s | CPU s | read / sign / cluster s | MB/s per thread | docs/s | peak RSS MB | RSS B/doc |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    local m b t tag
    for m in "${METHODS[@]}"; do for b in strip keep; do for t in "${THREADS[@]}"; do
        tag="$crawl-$m-$b-$t"
        local w=${WALL[$tag]} r=${RSS[$tag]} d=${DOCS[$tag]:-0}
        printf '| %s | %s | %s | %s | %s | %.2f | %.2f | %s | %s | %s | %s | %s |\n' "$m" "$b" "$t" "$d" \
            "$(f %.1f "$bytes / 1e6")" "$w" "${CPU[$tag]:-0}" "${PHASES[$tag]:--}" \
            "$(f %.1f "($w > 0 ? $bytes / 1e6 / $w / $t : 0)")" \
            "$(f %.0f "($w > 0 ? $d / $w : 0)")" "$(f %.0f "$r / 1024")" \
            "$(f %.0f "($d > 0 ? $r * 1024 / $d : 0)")"
    done; done; done
    echo
}

accuracy_table() {
    local crawl=$1
    echo "### Accuracy ($crawl crawl, scored against the generator's truth)"
    echo
    echo "| method | boilerplate | pair P | pair R | pair F1 (target >= 0.97) | exact-dup R | syndicated R | false joins: total (follow-up / same-topic / index / noise) | boilerplate line P | boilerplate line R | 2 threads identical |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    local m b s same
    for m in "${METHODS[@]}"; do for b in strip keep; do
        s="$OUT/$crawl-$m-$b-1.score.json"
        same=no
        cmp -s "$OUT/$crawl-$m-$b-1.clusters.jsonl" "$OUT/$crawl-$m-$b-2.clusters.jsonl" && same=yes
        printf '| %s | %s | %s | %s | %s | %s | %s | %s (%s / %s / %s / %s) | %s | %s | %s |\n' "$m" "$b" \
            "$(jv "$s" .pairs.precision)" "$(jv "$s" .pairs.recall)" "$(jv "$s" .pairs.f1)" \
            "$(jv "$s" .exact.recall)" "$(jv "$s" .by_role.syndicated.recall)" \
            "$(jv "$s" .false_joins.total)" "$(jv "$s" .false_joins.follow_up)" \
            "$(jv "$s" .false_joins.same_topic)" "$(jv "$s" .false_joins.index)" \
            "$(jv "$s" .false_joins.noise)" "$(jv "$s" .boilerplate.precision)" \
            "$(jv "$s" .boilerplate.recall)" "$same"
    done; done
    echo
    echo "Stripping gain on syndicated copies (same article on sites with different templates; target recall >= 0.97 with stripping):"
    echo
    echo "| method | syndicated R, stripped | syndicated R, kept | gain | pair F1, stripped | pair F1, kept |"
    echo "|---|---|---|---|---|---|"
    local a k
    for m in "${METHODS[@]}"; do
        a=$(jv "$OUT/$crawl-$m-strip-1.score.json" .by_role.syndicated.recall)
        k=$(jv "$OUT/$crawl-$m-keep-1.score.json" .by_role.syndicated.recall)
        printf '| %s | %s | %s | %s | %s | %s |\n' "$m" "$a" "$k" \
            "$( [ "$a" != - ] && [ "$k" != - ] && f %+.3f "$a - $k" || echo -)" \
            "$(jv "$OUT/$crawl-$m-strip-1.score.json" .pairs.f1)" \
            "$(jv "$OUT/$crawl-$m-keep-1.score.json" .pairs.f1)"
    done
    echo
}

scaling_table() {
    local crawl=$1
    echo "### Scaling from 1 to 2 threads ($crawl crawl; target >= 1.8x)"
    echo
    echo "| method | boilerplate | wall s, 1 thread | wall s, 2 threads | speed-up | CPU s, 1 thread | CPU s, 2 threads |"
    echo "|---|---|---|---|---|---|---|"
    local m b w1 w2
    for m in "${METHODS[@]}"; do for b in strip keep; do
        w1=${WALL[$crawl-$m-$b-1]} w2=${WALL[$crawl-$m-$b-2]}
        printf '| %s | %s | %.2f | %.2f | %sx | %.2f | %.2f |\n' "$m" "$b" "$w1" "$w2" \
            "$(f %.2f "($w2 > 0 ? $w1 / $w2 : 0)")" "${CPU[$crawl-$m-$b-1]:-0}" "${CPU[$crawl-$m-$b-2]:-0}"
    done; done
    echo
    echo "On a shared machine the wall speed-up is only as good as the second core is free (load average above); CPU seconds growing from 1 to 2 threads is the parallel overhead."
    echo
}

# floor_mbps TOOL-OUTPUT NAME: the MB/s figure of one line of bench/floor
floor_mbps() { awk -v n="$2" '$1 == n { print $(NF-1) }' <<< "$1"; }

limits_table() {
    local crawl=$1 dir="$CACHE/$1" bytes=${BYTES_OF[$1]}
    # path lists, not argument lists: a large crawl has more files than a command holds
    local files="$OUT/$crawl.files" gz="$OUT/$crawl.gz-files" wgz="$OUT/$crawl.warc-gz-files"
    find "$dir" -type f | sort > "$files"
    grep '\.gz$' "$files" > "$gz" || true
    grep '\.warc\.gz$' "$files" > "$wgz" || true
    local html="$OUT/$crawl.html-files" ext=""
    grep '\.html$' "$files" > "$html" || true
    say "limits on $crawl"
    local t0 t1 cat_mbps tok inf winf
    t0=$(date +%s.%N); tr '\n' '\0' < "$files" | xargs -0 cat > /dev/null; t1=$(date +%s.%N)
    cat_mbps=$(f %.1f "$bytes / 1e6 / ($t1 - $t0)")
    tok=$("$B/bench/floor" tokenize - < "$files")
    inf=$'zlib-inflate 0 MB-out 0 s 0 MB/s-out\nlibdeflate 0 MB-out 0 s 0 MB/s-out'
    winf=$inf
    [ -s "$gz" ] && inf=$("$B/bench/floor" inflate - < "$gz")
    [ -s "$wgz" ] && winf=$("$B/bench/floor" inflate - < "$wgz")
    [ -s "$html" ] && ext=$("$B/bench/extract" - < "$html")
    rm -f "$files" "$gz" "$wgz" "$html"
    local w1=${WALL[$crawl-shingle-strip-1]} w2=${WALL[$crawl-shingle-strip-2]}
    local nd1 nd2
    nd1=$(f %.1f "$bytes / 1e6 / $w1")
    nd2=$(f %.1f "$bytes / 1e6 / $w2")
    r() { f %.2f "($2 > 0 ? $1 / $2 : 0)"; }
    local zl dl wzl wdl tk
    tk=$(floor_mbps "$tok" tokenize+hash)
    zl=$(floor_mbps "$inf" zlib-inflate) dl=$(floor_mbps "$inf" libdeflate)
    wzl=$(floor_mbps "$winf" zlib-inflate) wdl=$(floor_mbps "$winf" libdeflate)
    echo "### Physical limits ($crawl crawl, same run, page cache warm, one thread)"
    echo
    echo "| measure | MB/s | neardup shingle, 1 thread, as a ratio | neardup shingle, 2 threads, as a ratio |"
    echo "|---|---|---|---|"
    echo "| cat of the same bytes | $cat_mbps | $(r "$nd1" "$cat_mbps") | $(r "$nd2" "$cat_mbps") |"
    echo "| tokenize + XXH3 5-gram hash only | $tk | $(r "$nd1" "$tk") | $(r "$nd2" "$tk") |"
    echo "| zlib inflate of all .gz files (MB out/s) | $zl | $(r "$nd1" "$zl") | $(r "$nd2" "$zl") |"
    echo "| libdeflate, same members (MB out/s) | $dl | $(r "$nd1" "$dl") | $(r "$nd2" "$dl") |"
    echo "| zlib inflate of the .warc.gz files only (MB out/s) | $wzl | $(r "$nd1" "$wzl") | $(r "$nd2" "$wzl") |"
    echo "| libdeflate, .warc.gz members (MB out/s) | $wdl | $(r "$nd1" "$wdl") | $(r "$nd2" "$wdl") |"
    echo "| neardup report (shingle, stripping) | $nd1 | 1.00 | - |"
    echo "| neardup report (shingle, stripping, 2 threads, MB/s in total) | $nd2 | - | 1.00 |"
    echo
    echo "libdeflate vs zlib: $(r "$dl" "$zl")x on all .gz files, $(r "$wdl" "$wzl")x on .warc.gz (one gzip member per record)."
    echo
    if [ -n "$ext" ]; then
        # The reader alone on the crawl's plain .html files, one thread (bench/extract);
        # the aim is 300 MB/s for the last row.
        echo "### Reader alone on the $crawl crawl's .html files (one thread, MB/s of HTML)"
        echo
        echo "| measure | MB | s | MB/s |"
        echo "|---|---|---|---|"
        awk -F '  +' '/ MB / { sub(/ MB$/, "", $2); sub(/ s$/, "", $3); sub(/ MB\/s$/, "", $4);
                               printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }' <<< "$ext"
        echo
    fi
}

# clean must cost at most 1.5x a report of the same crawl (same method and threads).
# Each clean is paired with a report run just before it, so that both see the same load
# (on this shared machine a report's wall time drifts by a fifth between minutes), and
# CPU seconds are compared beside wall seconds: they do not depend on the load.
# Each output goes to its own folder, removed only after the last clean: on ext4,
# creating files just after deleting a large tree (the inode table still dirty) made the
# writing of the large tree 3x slower, a cost of the benchmark and not of clean.
# The tree is also written to tmpfs when there is room: that row is clean's own cost,
# apart from the file system (ext4 here pays for every inode deleted before: see above).
clean_rows() {
    local crawl=$1 t=${THREADS[-1]} spec fmt tag dst strip label shm=""
    local need=$(( $(du -sk "$CACHE/$crawl" | cut -f1) * 2 ))
    if [ -d /dev/shm ] && [ -w /dev/shm ] &&
        [ "$(df -Pk /dev/shm | awk 'NR == 2 {print $4}')" -gt "$need" ]; then
        shm=$(mktemp -d /dev/shm/neardup-bench-XXXXXX)
    fi
    # The archiving step users run strips boilerplate too: one stripped row.
    for spec in tree jsonl warc jsonl+strip ${shm:+tree+shm}; do
        fmt=${spec%+*} tag=$fmt strip=() label=$fmt dst="$OUT/clean-out/$crawl-$fmt"
        if [ "$spec" = jsonl+strip ]; then
            tag=$fmt-stripped strip=(--strip-boilerplate) label="$fmt, stripped" dst="$OUT/clean-out/$crawl-$tag"
        elif [ "$spec" = tree+shm ]; then
            tag=$fmt-tmpfs label="$fmt, on tmpfs" dst="$shm/$crawl-$fmt"
        fi
        local code=0 wall="" cpu="" rwall="" rcpu="" outb="" phases="" k w c d rep=$REPEAT_SMALL
        [ "$crawl" = large ] && rep=$REPEAT_CLEAN
        for ((k = 1; k <= rep; k++)); do
            say "report + clean $crawl --format $fmt ${strip[*]} ($k of $rep)"
            "$B/bench/measure" "$ND" report "$CACHE/$crawl" --threads "$t" --no-progress \
                > /dev/null 2> "$OUT/$crawl-clean-$tag.report.err" || true
            read -r _ w _ _ c < <(grep '^measure:' "$OUT/$crawl-clean-$tag.report.err" | tail -1)
            { [ -z "$rwall" ] || f %d "($w < $rwall)" | grep -q 1; } && rwall=$w
            { [ -z "$rcpu" ] || f %d "($c < $rcpu)" | grep -q 1; } && rcpu=$c
            # tmpfs holds one output at a time; on ext4 each stays until the last clean
            d="$dst-$k"
            local err="$OUT/$crawl-clean-$tag.$k.err" txt="$OUT/$crawl-clean-$tag.$k.txt"
            "$B/bench/measure" "$ND" clean "$CACHE/$crawl" --out "$d" --format "$fmt" "${strip[@]}" \
                --threads "$t" --no-progress > "$txt" 2> "$err" || code=$?
            read -r _ w _ _ c < <(grep '^measure:' "$err" | tail -1)
            outb=$(du -sb "$d" 2>/dev/null | cut -f1 || true)
            [ "$spec" != tree+shm ] || rm -rf "$d"
            if [ -z "$wall" ] || f %d "($w < $wall)" | grep -q 1; then
                wall=$w
                phases=$(grep -o 'analysis [0-9.]* s, writing [0-9.]* s, syncing to disk [0-9.]* s' \
                    "$txt" | sed 's/ s,/ \//g; s/syncing to disk/sync/; s/ s$//' || true)
                cp "$txt" "$OUT/$crawl-clean-$tag.txt"
                cp "$err" "$OUT/$crawl-clean-$tag.err"
            fi
            { [ -z "$cpu" ] || f %d "($c < $cpu)" | grep -q 1; } && cpu=$c
        done
        [ "$code" = 0 ] || say "clean exited $code on $crawl $label: see $OUT/$crawl-clean-$tag.err"
        printf '| %s | %s | %.2f | %.2f | %s | %s | %.1f | %.1f | %s | %s |%s\n' "$crawl" "$label" \
            "$wall" "$rwall" "$(f %.2f "($rwall > 0 ? $wall / $rwall : 0)")" "${phases:--}" \
            "$cpu" "$rcpu" "$(f %.2f "($rcpu > 0 ? $cpu / $rcpu : 0)")" \
            "$(f %.1f "${outb:-0} / 1e6")" "$([ "$code" = 0 ] || echo " exit $code |")"
    done
    [ -z "$shm" ] || rm -rf "$shm"
}

# jref CRAWL: LSH candidate recall against exact Jaccard at the plugin's thresholds
jref_rows() {
    local crawl=$1 log="$OUT/$1-jaccard.err"
    say "jaccard_ref on $crawl"
    local code=0
    "$B/bench/measure" "$B/bench/jaccard_ref" "$CACHE/$crawl" --plugin-dir "$B/plugins" -q --no-progress \
        --threshold "$SH_LSH" --threshold "$SH_T" --threshold "$SH_C" > "$OUT/$crawl-jaccard.jsonl" 2> "$log" ||
        code=$?
    read -r _ JREF_WALL JREF_RSS _ < <(grep '^measure:' "$log" | tail -1)
    [ "$code" = 0 ] || { say "jaccard_ref exited $code: see $log"; return 0; }
    local line th meaning
    while read -r line; do
        th=$(jq -r .threshold <<< "$line")
        meaning=
        [ "$(f %.3f "$th")" = "$(f %.3f "$SH_LSH")" ] && meaning="LSH aim (shingle.lsh)"
        [ "$(f %.3f "$th")" = "$(f %.3f "$SH_T")" ] && meaning="verify threshold (shingle.threshold)"
        [ "$(f %.3f "$th")" = "$(f %.3f "$SH_C")" ] && meaning="containment level (shingle.containment), as Jaccard"
        printf '| %s | %s | %s | %s | %s | %s | %.1f s, %.0f MB |\n' "$crawl" "$th" "$meaning" \
            "$(jq -r .pairs <<< "$line")" "$(jq -r .candidates <<< "$line")" \
            "$(jq -r .candidate_recall <<< "$line")" "$JREF_WALL" "$(f %.0f "$JREF_RSS / 1024")"
    done < "$OUT/$crawl-jaccard.jsonl"
}

cluster1m_rows() {
    local t line
    for t in "${THREADS[@]}"; do
        say "cluster1m, $CLUSTER_DOCS signatures, $t threads"
        line=$("$B/bench/cluster1m" --docs "$CLUSTER_DOCS" --threads "$t" --plugin-dir "$B/plugins") || {
            echo "| $t | cluster1m failed | | | | | | | |"
            continue
        }
        jq -r '"| \(.threads) | \(.method) | \(.docs) | \(.sign_s) | \(.sign_per_s) | \(.cluster_s) | \(.cluster_per_s) | \(.sig_bytes) + \(.key_bytes) = \(.per_doc_bytes) | \(.cluster_extra_peak_bytes_per_doc) | \(.planted_recall) of \(.planted) |"' <<< "$line"
    done
}

main() {
    local start
    start=$(date +%s)
    local cpu mem
    cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    mem=$(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)
    echo "# neardup benchmark"
    echo
    echo "- machine: ${cpu:-unknown CPU}, $(nproc) cores, $mem memory, $(uname -sr) $(uname -m)"
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- $($ND --version), build folder $B"
    echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: read figures as ratios; small-crawl runs are the best of $REPEAT_SMALL, large-crawl runs of $REPEAT_LARGE)"
    echo
    gen small "$SMALL_DOCS"
    gen large "$LARGE_DOCS"
    # the shingle plugin's own defaults, as it reports them
    local plugs
    plugs=$($ND plugins)
    SH_T=$(sed -n 's/.*-o shingle\.threshold=\([0-9.]*\).*/\1/p' <<< "$plugs")
    SH_C=$(sed -n 's/.*-o shingle\.containment=\([0-9.]*\).*/\1/p' <<< "$plugs")
    SH_LSH=$(sed -n 's/.*-o shingle\.lsh=\([0-9.]*\).*/\1/p' <<< "$plugs")
    local crawl m b t
    for crawl in small large; do
        BYTES_OF[$crawl]=$(bytes_of "$CACHE/$crawl")
        warm "$CACHE/$crawl"
        echo "## $crawl crawl: $(find "$CACHE/$crawl" -type f | wc -l) files, $(f %.1f "${BYTES_OF[$crawl]} / 1e6") MB"
        [ "$crawl" = large ] && [ "${BYTES_OF[$crawl]}" -lt 1000000000 ] &&
            echo && echo "(below the 1 GB the benchmark is meant for: raise BENCH_LARGE_DOCS)"
        echo
        for m in "${METHODS[@]}"; do for b in strip keep; do for t in "${THREADS[@]}"; do
            run_one "$crawl" "$m" "$b" "$t"
        done; done; done
        speed_table "$crawl"
        accuracy_table "$crawl"
        scaling_table "$crawl"
        limits_table "$crawl"
    done

    echo "## Memory per document"
    echo
    echo "Peak RSS per document is dominated by the process's fixed cost on a small crawl; the marginal cost is (RSS large - RSS small) / (docs large - docs small). Target: about 1 KB per document or less beyond the shared buffers."
    echo
    echo "| method | boilerplate | threads | RSS B/doc, small | RSS B/doc, large | marginal B/doc |"
    echo "|---|---|---|---|---|---|"
    for m in "${METHODS[@]}"; do for b in strip keep; do for t in "${THREADS[@]}"; do
        local s="small-$m-$b-$t" l="large-$m-$b-$t"
        local ds=${DOCS[$s]:-0} dl=${DOCS[$l]:-0}
        printf '| %s | %s | %s | %s | %s | %s |\n' "$m" "$b" "$t" \
            "$(f %.0f "($ds > 0 ? ${RSS[$s]} * 1024 / $ds : 0)")" \
            "$(f %.0f "($dl > 0 ? ${RSS[$l]} * 1024 / $dl : 0)")" \
            "$(f %.0f "($dl > $ds ? (${RSS[$l]} - ${RSS[$s]}) * 1024 / ($dl - $ds) : 0)")"
    done; done; done
    echo

    echo "## clean vs report (target: clean <= 1.5x report)"
    echo
    echo "Each clean right after a report of the same crawl (default method, ${THREADS[-1]} threads), in $REPEAT_CLEAN such pairs on the large crawl and $REPEAT_SMALL on the small one: the best wall and CPU seconds of the reports and of the cleans (noise only adds time); the phases are the fastest clean's."
    echo "A \"tree, on tmpfs\" row writes its output to /dev/shm: clean's own cost, apart from the disk and its file system."
    echo
    echo "| crawl | format | clean wall s | report wall s | wall ratio | clean: analysis / writing / sync s | clean CPU s | report CPU s | CPU ratio | output MB |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    rm -rf "$OUT/clean-out" # left by an interrupted run only
    mkdir -p "$OUT/clean-out"   # clean wants DST's parent to exist
    clean_rows small
    clean_rows large
    rm -rf "$OUT/clean-out"
    echo

    echo "## LSH candidate recall against exact all-pairs Jaccard (bench/jaccard_ref)"
    echo
    echo "Pairs whose exact Jaccard over the shingle plugin's own shingles reaches the threshold, and the share of them that the LSH keys make candidates."
    echo
    echo "| crawl | Jaccard threshold | meaning | exact pairs | LSH candidates | candidate recall | time, peak RSS |"
    echo "|---|---|---|---|---|---|---|"
    jref_rows small
    local small_wall=${JREF_WALL:-0}
    local predicted
    predicted=$(f %.0f "$small_wall * ${BYTES_OF[large]} / ${BYTES_OF[small]} * 1.5")
    local jref_note=""
    if [ "$predicted" -le "$JREF_BUDGET" ]; then
        jref_rows large
    else
        jref_note="Large crawl skipped: about ${predicted} s predicted from the small one, over the ${JREF_BUDGET} s budget (BENCH_JACCARD_BUDGET)."
    fi
    echo
    [ -n "$jref_note" ] && echo "$jref_note" && echo

    echo "## Clustering alone: $CLUSTER_DOCS signatures (bench/cluster1m)"
    echo
    echo "Synthetic documents of 80 skewed random tokens, 10% of them copies of an earlier one with 5% of tokens replaced, signed with the plugin, then nd_cluster_run timed by itself. Target: well under a minute."
    echo
    echo "| threads | method | signatures | sign s | signed/s | cluster s | clustered/s | signature + keys B/doc | extra peak B/doc while clustering | planted copies found |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    cluster1m_rows
    echo

    echo "## For scale"
    echo
    echo "Quoted from the issue, not measured here: \"a typical Python MinHash pipeline (datasketch, 128 permutations) runs at about 3-4 MB/s on this machine and uses over 400 MB for 3,000 pages\"."
    local w=${WALL[small-shingle-strip-1]}
    echo "Measured above, neardup shingle on the small crawl (${DOCS[small-shingle-strip-1]} pages), 1 thread: $(f %.1f "${BYTES_OF[small]} / 1e6 / $w") MB/s, peak RSS $(f %.0f "${RSS[small-shingle-strip-1]} / 1024") MB."
    echo
    echo "---"
    echo
    echo "Benchmark wall time: $(( $(date +%s) - start )) s. Outputs (reports, clusters, scores) in $OUT/."
    echo
    local bset=""
    [ "$B" = build ] || bset=" BUILD=$B"
    echo "Reproduce: \`BENCH_SMALL_DOCS=$SMALL_DOCS BENCH_LARGE_DOCS=$LARGE_DOCS BENCH_SEED=$SEED BENCH_CLUSTER_DOCS=$CLUSTER_DOCS BENCH_REPEAT=$REPEAT_SMALL BENCH_REPEAT_LARGE=$REPEAT_LARGE BENCH_REPEAT_CLEAN=$REPEAT_CLEAN make bench$bset\`"
}

main | tee "$OUT/bench.md.tmp"
mv "$OUT/bench.md.tmp" "$OUT/bench.md"
