#!/usr/bin/env bash
# Times kube-codegen's whole pipeline (parse + every generator + format + write) on synthetic API
# surfaces made by synth.py, side by side with Go's deepcopy-gen and openapi-gen on the equivalent
# Go surface (/work/shared/bench/go-baseline, run in the same invocation), then times a no-op
# regeneration of the pager example.
#
# usage: bench/codegen.sh [--no-go] [--sizes 50x5,500x10,1000x100] [--runs N] [--go-runs N]
#                         [--pager-runs N] [--keep] [--no-build]
#   --no-go        skip the Go baseline (no Go toolchain needed)
#   --sizes LIST   comma-separated KINDSxGROUPS (default 50x5,500x10,1000x100)
#   --runs N       timed kube-codegen runs per size (default 10, after 1 warm-up)
#   --go-runs N    timed runs per Go tool per size (default 5, after 1 warm-up)
#   --pager-runs N timed no-op pager-gen runs (default 20, after 1 warm-up)
#   --keep         keep the synthetic surfaces (under the work dir)
#   --no-build     use the release binaries already in the target dir
# Work files go to $KCG_BENCH_DIR (default ${XDG_CACHE_HOME:-~/.cache}/kube-codegen-bench), never
# the repo. Needs python3 and hyperfine (apt-get install hyperfine); go-baseline installs its own.
#
# Output, one line per size, then the pager line:
#   codegen 1000x100 rust_min_s=… rust_median_s=… rust_noop_median_s=… rust_noop_nocache_median_s=…
#       rust_deepcopy_only_median_s=… go_deepcopy_median_s=… go_openapi_median_s=…
#       ratio_deepcopy=…x ratio_openapi=…x ratio_deepcopy_only=…x
#   (rust_* = whole pipeline, cold; noop = same surface, all files up to date (answered from the
#    stamp); noop_nocache = the same with --no-cache (every phase runs); deepcopy_only =
#    `--only deepcopy`, cold; ratio_* = Go median / Rust whole-pipeline median, except
#    ratio_deepcopy_only = Go deepcopy-gen / Rust deepcopy-gen alone)
#   pager-noop min_s=… median_s=…
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
go_baseline="$here/../../shared/bench/go-baseline"

sizes="50x5,500x10,1000x100"; runs=10; go_runs=5; pager_runs=20; no_go=0; keep=0; build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-go) no_go=1 ;;
    --sizes) sizes=${2:?--sizes LIST}; shift ;;
    --runs) runs=${2:?--runs N}; shift ;;
    --go-runs) go_runs=${2:?--go-runs N}; shift ;;
    --pager-runs) pager_runs=${2:?--pager-runs N}; shift ;;
    --keep) keep=1 ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "codegen.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

command -v hyperfine >/dev/null || { echo "codegen.sh: hyperfine missing (apt-get install hyperfine)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "codegen.sh: python3 missing" >&2; exit 1; }
if [ "$no_go" = 0 ] && [ ! -x "$go_baseline" ]; then
  echo "codegen.sh: $go_baseline not found; use --no-go" >&2; exit 1
fi

work=${KCG_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-codegen-bench}
mkdir -p "$work"
log="$work/log.txt"; : > "$log"

if [ "$build" = 1 ]; then
  echo "# building release binaries" >&2
  (cd "$root" && cargo build --release -q -p kube-codegen -p pager-gen)
fi
target=$(cd "$root" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
kcg="$target/release/kube-codegen"
pager="$target/release/pager-gen"

# stats JSON-FILE -> "min median" (seconds)
stats() {
  python3 - "$1" <<'PY'
import json, statistics, sys
t = json.load(open(sys.argv[1]))["results"][0]["times"]
print(f"{min(t):.4f} {statistics.median(t):.4f}")
PY
}

echo "# machine: $(nproc) cores, $(uname -sr), kube-codegen $(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo '?'), load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
lines=()
IFS=, read -ra size_list <<< "$sizes"
for size in "${size_list[@]}"; do
  k=${size%x*}; g=${size#*x}
  in="$work/in${k}x${g}"
  python3 "$here/synth.py" "$in" "$k" "$g" >/dev/null
  # One checked run first: show the diagnostic if kube-codegen rejects the surface.
  if ! "$kcg" "$in" >"$work/first.out" 2>&1; then
    echo "codegen.sh: kube-codegen failed on the ${size} surface:" >&2
    cat "$work/first.out" >&2
    exit 1
  fi
  echo "# ${size}: $(tail -n1 "$work/first.out")" >&2
  echo "# timing kube-codegen ${size} (cold: generated files deleted before each run)" >&2
  hyperfine -N --style none --warmup 1 --runs "$runs" --export-json "$work/rust.json" \
    --prepare "find $in -name zz_generated.*.rs -delete" "$kcg $in" >>"$log" 2>&1
  read -r rmin rmed < <(stats "$work/rust.json")
  # No-op regeneration of the same surface (everything up to date): answered from the stamp
  # (hash inputs and outputs), then with --no-cache (parse + generate + compare).
  hyperfine -N --style none --warmup 1 --runs "$runs" --export-json "$work/rust-noop.json" \
    "$kcg $in" >>"$log" 2>&1
  read -r _ nmed < <(stats "$work/rust-noop.json")
  hyperfine -N --style none --warmup 1 --runs "$runs" --export-json "$work/rust-noop-nc.json" \
    "$kcg $in --no-cache" >>"$log" 2>&1
  read -r _ ncmed < <(stats "$work/rust-noop-nc.json")
  # deepcopy-gen alone (cold), the like-for-like counterpart of Go's deepcopy-gen.
  hyperfine -N --style none --warmup 1 --runs "$runs" --export-json "$work/rust-dc.json" \
    --prepare "find $in -name zz_generated.deepcopy.rs -delete" "$kcg $in --only deepcopy" >>"$log" 2>&1
  read -r _ dmed < <(stats "$work/rust-dc.json")
  line="codegen ${size} rust_min_s=$rmin rust_median_s=$rmed rust_noop_median_s=$nmed rust_noop_nocache_median_s=$ncmed rust_deepcopy_only_median_s=$dmed"
  if [ "$no_go" = 0 ]; then
    echo "# running go-baseline $k $g $go_runs" >&2
    GO_BASELINE_DIR=${GO_BASELINE_DIR:-$work/go} "$go_baseline" "$k" "$g" "$go_runs" >"$work/go.out" 2>&1 \
      || { cat "$work/go.out" >&2; echo "codegen.sh: go-baseline failed" >&2; exit 1; }
    dc=$(sed -n "s/^go-baseline deepcopy-gen ${size} .*median_s=\([0-9.]*\).*/\1/p" "$work/go.out")
    oa=$(sed -n "s/^go-baseline openapi-gen ${size} .*median_s=\([0-9.]*\).*/\1/p" "$work/go.out")
    df=$(sed -n "s/^go-baseline defaulter-gen ${size} .*median_s=\([0-9.]*\).*/\1/p" "$work/go.out")
    cat "$work/go.out" >>"$log"
    line+=" go_deepcopy_median_s=$dc go_openapi_median_s=$oa go_defaulter_median_s=${df:-nan}"
    line+=" $(python3 -c "import sys; r, d = float(sys.argv[1]), float(sys.argv[4]); dc, oa, df = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[5]); print(f'ratio_deepcopy={dc/r:.1f}x ratio_deepcopy_defaulter={(dc+df)/r:.1f}x ratio_openapi={oa/r:.1f}x ratio_deepcopy_only={dc/d:.1f}x')" "$rmed" "$dc" "$oa" "$dmed" "${df:-nan}")"
  fi
  echo "$line"
  lines+=("$line")
  [ "$keep" = 1 ] || rm -rf "$in"
done

# Pager no-op: after one warm-up, pager-gen finds everything up to date and writes nothing. It
# writes into the repo when stale, so check first and time a copy instead if it is.
if (cd "$root" && "$pager" --verify) >"$work/pager.out" 2>&1; then
  hyperfine -N --style none --warmup 1 --runs "$pager_runs" --export-json "$work/pager.json" \
    "$pager" >>"$log" 2>&1
  read -r pmin pmed < <(stats "$work/pager.json")
  echo "pager-noop min_s=$pmin median_s=$pmed"
else
  echo "# pager-gen --verify: the committed pager output is stale; timing a copy via kube-codegen" >&2
  cat "$work/pager.out" >&2
  rm -rf "$work/pager-copy"; cp -r "$root/examples/pager/apis" "$work/pager-copy"
  "$kcg" "$work/pager-copy" >/dev/null 2>&1
  hyperfine -N --style none --warmup 1 --runs "$pager_runs" --export-json "$work/pager.json" \
    "$kcg $work/pager-copy" >>"$log" 2>&1
  read -r pmin pmed < <(stats "$work/pager.json")
  echo "pager-noop(copy) min_s=$pmin median_s=$pmed"
fi
echo "# hyperfine/go-baseline output: $log" >&2
