#!/usr/bin/env bash
# What security costs: pager-apiserver (memory store) serving creates and gets over
#   plain   — plain HTTP on loopback, no authentication or authorization (the baseline)
#   policy  — HTTPS, a client certificate, a static policy file
#   sar     — HTTPS, a client certificate, delegated SubjectAccessReviews (to a local stand-in
#             that allows everything; answers cached by the server, so warm after the first)
# in the same run, interleaved over --rounds rounds; prints each run and the median ratios.
#
#   bench/apiserver/security.sh                      # builds first
#   bench/apiserver/security.sh --no-build --rounds 3 -- --creates 5000 --gets 20000
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build=1
rounds=3
bench_args=(--creates 10000 --gets 20000)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-build) build=0; shift ;;
    --rounds) rounds="$2"; shift 2 ;;
    --) shift; bench_args=("$@"); break ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "security.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
cd "$root"
if [[ $build == 1 ]]; then
  cargo build --release -p pager-apiserver -p apiserver-bench
fi
target="${CARGO_TARGET_DIR:-$root/target}/release"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# A client CA and a client certificate (one PEM file: certificate, then key).
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=bench-client-ca" \
  -keyout "$tmp/ca.key" -out "$tmp/client-ca.crt" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >"$tmp/ext"
openssl req -newkey rsa:2048 -nodes -subj "/CN=bench/O=benchers" -keyout "$tmp/bench.key" -out "$tmp/bench.csr" 2>/dev/null
openssl x509 -req -days 1 -in "$tmp/bench.csr" -CA "$tmp/client-ca.crt" -CAkey "$tmp/ca.key" \
  -CAcreateserial -extfile "$tmp/ext" -out "$tmp/bench.crt" 2>/dev/null
cat "$tmp/bench.crt" "$tmp/bench.key" >"$tmp/bench.pem"
cat >"$tmp/policy.yaml" <<'EOF'
rules:
  - groups: [benchers]
    verbs: ["*"]
    apiGroups: [pager.k8s.co]
    resources: [alerts]
EOF

# The SubjectAccessReview stand-in and a kubeconfig for it.
"$target/apiserver-bench" --serve-sar 127.0.0.1:0 >"$tmp/sar.out" 2>"$tmp/sar.err" &
pids+=($!)
for _ in $(seq 50); do [[ -s $tmp/sar.out ]] && break; sleep 0.1; done
sar_addr="$(sed -n 's/^listening on //p' "$tmp/sar.out")"
cat >"$tmp/sar.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: main, cluster: {server: "http://$sar_addr"}}]
users: [{name: me, user: {}}]
contexts: [{name: main, context: {cluster: main, user: me}}]
current-context: main
EOF

run() { # <label> <round> <server args...>
  local label="$1" round="$2"; shift 2
  local fifo="$tmp/server.out" line client=()
  rm -f "$fifo"; mkfifo "$fifo"
  RUST_LOG=warn "$target/pager-apiserver" --storage memory --listen 127.0.0.1:0 "$@" >"$fifo" 2>"$tmp/server.err" &
  local pid=$!
  exec 3<"$fifo"
  read -r -t 30 line <&3 || { echo "security.sh: server did not start"; cat "$tmp/server.err"; exit 1; } >&2
  cat <&3 >/dev/null &
  exec 3<&-
  [[ $label != plain ]] && client=(--ca-file "$tmp/certs/ca.crt" --client-cert "$tmp/bench.pem")
  "$target/apiserver-bench" --addr "${line#listening on }" --label "$label" --prefix "r$round" \
    --requests-only "${client[@]}" "${bench_args[@]}" | grep ' requests ' | tee -a "$tmp/results"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "machine: nproc=$(nproc); client and server share these cores"
tls=(--cert-dir "$tmp/certs" --client-ca-file "$tmp/client-ca.crt" --anonymous-auth=false)
for round in $(seq "$rounds"); do
  run plain "$round" --plain-http
  run policy "$round" "${tls[@]}" --authorization-policy-file "$tmp/policy.yaml"
  run sar "$round" "${tls[@]}" --authorization-kubeconfig "$tmp/sar.kubeconfig"
done

python3 - "$tmp/results" <<'EOF'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    label = line.split()[1]
    vals = dict(re.findall(r"(\w+)=([\d.]+)", line))
    runs.setdefault(label, []).append((float(vals["creates_per_s"]), float(vals["gets_per_s"])))
med = {k: (statistics.median(c for c, _ in v), statistics.median(g for _, g in v)) for k, v in runs.items()}
base = med["plain"]
for label, (c, g) in med.items():
    print(f"security {label} creates_per_s={c:.0f} gets_per_s={g:.0f} "
          f"creates_vs_plain={100 * c / base[0]:.0f}% gets_vs_plain={100 * g / base[1]:.0f}%")
EOF
echo "stand-in: $(tail -n 1 "$tmp/sar.err" 2>/dev/null || true)"
