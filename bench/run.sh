#!/bin/bash
# neardup benchmark: generates (and caches) a small and a large crawl with ground truth,
# runs every method with and without boilerplate stripping on 1 and 2 threads, scores
# each run, and prints one table beside the physical limits measured in the same run
# (cat, inflate, tokenize+hash). Figures are meant to be read as ratios: the machine is
# shared and noisy. Called by `make bench`; BUILD names the build folder.
set -euo pipefail
B=${BUILD:-build}
ND=$B/neardup
CACHE=${BENCH_CACHE:-corpora/cache}
OUT=${BENCH_OUT:-bench-out}
SMALL_DOCS=${BENCH_SMALL_DOCS:-3000}
LARGE_DOCS=${BENCH_LARGE_DOCS:-200000}
SEED=${BENCH_SEED:-20261125}
mkdir -p "$CACHE" "$OUT"

# A cached crawl is reused while the generator's source and the size are unchanged.
gen() {
    local name=$1 docs=$2
    local stamp="$(sha1sum corpora/gen.c | cut -c1-16) $docs $SEED"
    if [ ! -f "$CACHE/$name.stamp" ] || [ "$(cat "$CACHE/$name.stamp")" != "$stamp" ]; then
        rm -rf "$CACHE/$name" "$CACHE/$name.truth.json" "$CACHE/$name.stamp"
        echo "generating $name crawl ($docs documents)..." >&2
        "$B/gen" --docs "$docs" --seed "$SEED" --out "$CACHE/$name" --truth "$CACHE/$name.truth.json" >&2
        echo "$stamp" > "$CACHE/$name.stamp"
    fi
}

bytes_of() { find "$1" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? b / 1e6 / s : 0) }'; }

# Drop nothing from the page cache (we cannot as a user): warm it instead, so every
# figure is from memory, like the limits beside them.
warm() { find "$1" -type f -print0 | xargs -0 cat > /dev/null; }

row_header() {
    printf '| crawl | method | boilerplate | threads | docs | MB | wall s | MB/s per thread | docs/s | peak RSS MB | RSS B/doc | pair P | pair R | pair F1 | exact R | false joins | boiler P | boiler R |\n'
    printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
}

# run_one CRAWL METHOD strip|keep THREADS
run_one() {
    local crawl=$1 method=$2 boil=$3 threads=$4
    local dir="$CACHE/$crawl" tag="$crawl-$method-$boil-$threads"
    local extra=()
    [ "$boil" = keep ] && extra+=(--keep-boilerplate)
    "$B/bench/measure" "$ND" report "$dir" --method "$method" --threads "$threads" "${extra[@]}" \
        --clusters "$OUT/$tag.clusters.jsonl" --boilerplate "$OUT/$tag.boiler.jsonl" \
        --no-progress > "$OUT/$tag.report.txt" 2> "$OUT/$tag.err"
    read -r _ wall rss code < <(grep '^measure:' "$OUT/$tag.err" | tail -1)
    local docs mb
    docs=$(sed -n 's/^ *\([0-9]*\) documents in .*/\1/p' "$OUT/$tag.report.txt" | head -1)
    mb=$(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1e6 }')
    "$B/score" --truth "$CACHE/$crawl.truth.json" --clusters "$OUT/$tag.clusters.jsonl" \
        --boilerplate "$OUT/$tag.boiler.jsonl" --json > "$OUT/$tag.score.json" 2>/dev/null || true
    local s="$OUT/$tag.score.json"
    q() { jq -r "$1 // \"-\" | if type == \"number\" then (. * 1000 | round / 1000) else . end" "$s" 2>/dev/null || echo -; }
    printf '| %s | %s | %s | %s | %s | %s | %.2f | %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
        "$crawl" "$method" "$boil" "$threads" "${docs:-?}" "$mb" "$wall" \
        "$(mbps "$BYTES" "$(awk -v w="$wall" -v t="$threads" 'BEGIN { print w * t }')")" \
        "$(awk -v d="${docs:-0}" -v w="$wall" 'BEGIN { printf "%.0f", (w > 0 ? d / w : 0) }')" \
        "$(awk -v r="$rss" 'BEGIN { print r / 1024 }')" \
        "$(awk -v r="$rss" -v d="${docs:-1}" 'BEGIN { printf "%.0f", r * 1024 / (d > 0 ? d : 1) }')" \
        "$(q .pairs.precision)" "$(q .pairs.recall)" "$(q .pairs.f1)" "$(q .exact.recall)" \
        "$(q .false_joins.total)" "$(q .boilerplate.precision)" "$(q .boilerplate.recall)"
    [ "$code" = 0 ] || echo "  (neardup exited $code: see $OUT/$tag.err)"
    # the best single-thread shingle figure is compared with the limits below
    if [ "$method" = shingle ] && [ "$boil" = strip ] && [ "$threads" = 1 ]; then
        ND_MBPS=$(mbps "$BYTES" "$wall")
    fi
}

limits() {
    local dir=$1
    local files=() gz=()
    mapfile -t files < <(find "$dir" -type f | sort)
    mapfile -t gz < <(find "$dir" -type f -name '*.gz' | sort)
    local t0 t1
    t0=$(date +%s.%N); cat "${files[@]}" > /dev/null; t1=$(date +%s.%N)
    CAT_MBPS=$(mbps "$BYTES" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
    TOK_LINE=$("$B/bench/floor" tokenize "${files[@]}")
    TOK_MBPS=$(awk '{ print $(NF-1) }' <<< "$TOK_LINE")
    if [ ${#gz[@]} -gt 0 ]; then
        INF=$("$B/bench/floor" inflate "${gz[@]}")
        ZLIB_MBPS=$(awk '/^zlib/ { print $(NF-1) }' <<< "$INF")
        DEFL_MBPS=$(awk '/^libdeflate/ { print $(NF-1) }' <<< "$INF")
    else
        ZLIB_MBPS=0 DEFL_MBPS=0
    fi
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
    echo
    echo "Physical limits on the $2 crawl, same run (page cache warm, one thread):"
    echo
    echo "| measure | MB/s | neardup shingle, 1 thread, as a ratio |"
    echo "|---|---|---|"
    echo "| cat of the same bytes | $CAT_MBPS | $(ratio "${ND_MBPS:-0}" "$CAT_MBPS") |"
    echo "| tokenize + XXH3 5-gram hash only | $TOK_MBPS | $(ratio "${ND_MBPS:-0}" "$TOK_MBPS") |"
    echo "| zlib inflate of the .gz files (MB out) | $ZLIB_MBPS | - |"
    echo "| libdeflate of the same members (MB out) | $DEFL_MBPS | - |"
    echo "| neardup report (shingle, stripping, 1 thread) | ${ND_MBPS:-?} | 1.00 |"
}

echo "neardup benchmark, $(date -u +%Y-%m-%d), $(uname -m), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), $($ND --version)"
gen small "$SMALL_DOCS"
gen large "$LARGE_DOCS"
for crawl in small large; do
    BYTES=$(bytes_of "$CACHE/$crawl")
    warm "$CACHE/$crawl"
    echo
    echo "## $crawl crawl: $(find "$CACHE/$crawl" -type f | wc -l) files, $(awk -v b="$BYTES" 'BEGIN { printf "%.1f MB", b / 1e6 }')"
    echo
    row_header
    ND_MBPS=
    for method in shingle simhash exact; do
        for boil in strip keep; do
            for threads in 1 2; do
                # the large crawl: every method once per thread count, stripping on
                if [ "$crawl" = large ] && [ "$boil" = keep ] && [ "$method" != shingle ]; then continue; fi
                run_one "$crawl" "$method" "$boil" "$threads"
            done
        done
    done
    limits "$CACHE/$crawl" "$crawl"
done
echo
echo "Outputs (reports, clusters, scores) in $OUT/. Reproduce: make bench"
