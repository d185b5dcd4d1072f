#!/usr/bin/env bash
# API-server benchmark: pager-apiserver over loopback, once per storage backend.
#
#   bench/apiserver/run.sh                      # memory, embedded and etcd, default sizes
#   bench/apiserver/run.sh --backends memory    # one backend
#   bench/apiserver/run.sh --backends "embedded embedded-nowal"   # the embedded store with and
#                                               # without its write-ahead log (--write-ahead-log-mb 0)
#   bench/apiserver/run.sh --no-build -- --watchers 500 --fanout-runs 3   # args after -- go to apiserver-bench
#   ETCD_BIN=target/etcd-shared-buffer bench/apiserver/run.sh --backends etcd   # another etcd binary
#                                               # (etcd-shared-buffer/build.sh builds that one)
#
# Prints the load generator's per-measurement lines and one summary line per backend:
#   apiserver memory creates_per_s=… gets_per_s=… list10k_ms=… serde_list10k_ms=… list_ratio=…x fanout1000_ms=… …
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
backends="memory embedded etcd"
build=1
bench_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --backends) backends="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --) shift; bench_args=("$@"); break ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

cd "$root"
if [[ $build == 1 ]]; then
  cargo build --release -p pager-apiserver -p apiserver-bench
fi
target="${CARGO_TARGET_DIR:-$root/target}/release"
server_bin="$target/pager-apiserver"
bench_bin="$target/apiserver-bench"

# 1,000 watches need 1,000+ descriptors in each process.
if [[ $(ulimit -n) != unlimited && $(ulimit -n) -lt 8192 ]]; then
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  [[ $(ulimit -n) == unlimited || $(ulimit -n) -ge 4096 ]] ||
    echo "run.sh: warning: ulimit -n is $(ulimit -n); 1000 watches may fail" >&2
fi

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [[ -n ${etcd_pid:-} ]]; then kill "$etcd_pid" 2>/dev/null || true; wait "$etcd_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "machine: nproc=$(nproc) ($(uname -m)); client and server share these cores; loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet 2>/dev/null || echo ' (dirty tree)')"

summaries=()
for backend in $backends; do
  # No watch limit: the fan-out opens as many watches as asked.
  storage="${backend%-nowal}"
  args=(--plain-http --max-watches 0 --storage "$storage" --listen 127.0.0.1:0)
  [[ $storage == embedded ]] && rm -f "$tmp/pager.db" "$tmp/pager.db-wal" && args+=(--data "$tmp/pager.db")
  [[ $backend == *-nowal ]] && args+=(--write-ahead-log-mb 0)
  extra=()
  if [[ $backend == etcd ]]; then
    # A real single-member etcd on free loopback ports (Debian's etcd-server).
    etcd_bin=${ETCD_BIN:-etcd}
    command -v "$etcd_bin" >/dev/null || { echo "run.sh: $etcd_bin missing (apt-get install etcd-server)" >&2; exit 1; }
    read -r eport pport < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
    "$etcd_bin" --name bench --data-dir "$tmp/etcd" --listen-client-urls "http://127.0.0.1:$eport" \
      --advertise-client-urls "http://127.0.0.1:$eport" --listen-peer-urls "http://127.0.0.1:$pport" \
      --initial-advertise-peer-urls "http://127.0.0.1:$pport" --initial-cluster "bench=http://127.0.0.1:$pport" \
      --log-level error >/dev/null 2>&1 &
    etcd_pid=$!
    args+=(--etcd-servers "http://127.0.0.1:$eport")
    extra=(--raw-etcd "http://127.0.0.1:$eport" --etcd-pid "$etcd_pid")
  fi
  fifo="$tmp/server.out"
  mkfifo "$fifo"
  RUST_LOG="${RUST_LOG:-warn}" "$server_bin" "${args[@]}" >"$fifo" 2>"$tmp/server-$backend.err" &
  server_pid=$!
  exec 3<"$fifo"
  line=""
  if ! read -r -t 30 line <&3 || [[ $line != "listening on "* ]]; then
    echo "run.sh: $backend server did not start: '$line'" >&2
    cat "$tmp/server-$backend.err" >&2
    exit 1
  fi
  # Keep draining the server's stdout so that it can never block on a full pipe.
  cat <&3 >/dev/null &
  drain_pid=$!
  exec 3<&-
  rm -f "$fifo"
  addr="${line#listening on }"
  echo "== $backend: pager-apiserver on $addr (pid $server_pid)"

  out="$tmp/bench-$backend.out"
  "$bench_bin" --addr "$addr" --label "$backend" --server-pid "$server_pid" "${extra[@]}" "${bench_args[@]}" | tee "$out"
  rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$server_pid/status" 2>/dev/null || echo "?")
  threads=$(awk '/^Threads/ {print $2}' "/proc/$server_pid/status" 2>/dev/null || echo "?")
  echo "apiserver $backend server rss_mb=$((${rss_kb:-0} / 1024)) threads=$threads$([[ $storage == embedded ]] && echo " db_mb=$(( $(stat -c %s "$tmp/pager.db") / 1048576 ))")"
  if [[ -s $tmp/server-$backend.err ]]; then
    echo "-- $backend server stderr (last 5 lines):"
    tail -n 5 "$tmp/server-$backend.err"
  fi
  summaries+=("$(tail -n 1 "$out")")

  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  if [[ $storage == embedded ]]; then
    # Startup on the file just written (closed cleanly), without and with full verification.
    objects=$(grep -o 'creates n=[0-9]*' "$out" | head -1 | cut -d= -f2)
    for verify in "" --verify-on-open; do
      t0=$(date +%s%N)
      "$server_bin" "${args[@]}" $verify >"$tmp/startup.out" 2>/dev/null &
      server_pid=$!
      until grep -q '^listening on' "$tmp/startup.out" 2>/dev/null; do
        kill -0 "$server_pid" 2>/dev/null || { echo "run.sh: restart failed" >&2; exit 1; }
        sleep 0.005
      done
      t1=$(date +%s%N)
      echo "apiserver $backend startup objects=${objects:-?} db_mb=$(( $(stat -c %s "$tmp/pager.db") / 1048576 )) verify_on_open=$([[ -n $verify ]] && echo yes || echo no) ms=$(( (t1 - t0) / 1000000 ))"
      kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
      server_pid=""
    done
  fi
  if [[ -n ${etcd_pid:-} ]]; then kill "$etcd_pid" 2>/dev/null || true; wait "$etcd_pid" 2>/dev/null || true; etcd_pid=""; fi
  wait "$drain_pid" 2>/dev/null || true
done

echo "== summary (nproc=$(nproc), client and server on the same cores)"
printf '%s\n' "${summaries[@]}"
