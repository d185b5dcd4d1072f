#!/usr/bin/env bash
# The KubeCon "pager" demo on one machine, with unmodified kubectl:
#
#   etcd  ←  pager-apiserver (HTTPS, self-signed certificate; client certificates; a standalone
#            RBAC-style policy: no cluster to delegate to)
#         ←  pager-controller  →  a local notifier that prints every push it receives
#
# then the seed's steps: create the `kubecon-alert` as v1alpha1, see it sent, read it back as
# v1beta1, watch alerts with `kubectl get alerts -w`; and cleans everything up.
#
#   examples/pager/demo.sh              # builds the two binaries first
#   examples/pager/demo.sh --no-build   # uses target/debug (or $PAGER_BIN_DIR) as built
#
# Needs etcd (Debian: etcd-server), kubectl, openssl and python3. Exits non-zero if a step fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
for tool in etcd kubectl openssl python3; do
  command -v "$tool" >/dev/null || { echo "demo.sh: $tool is missing" >&2; exit 1; }
done
if [[ $build == 1 ]]; then
  (cd "$root" && cargo build -q -p pager-apiserver -p pager-controller)
fi
bin="${PAGER_BIN_DIR:-${CARGO_TARGET_DIR:-$root/target}/debug}"

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() {
  echo "demo.sh: $*" >&2
  for log in "$work"/*.log; do echo "--- $log"; tail -n 20 "$log"; done >&2
  exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # <seconds> <description> <command...>
  local deadline=$((SECONDS + $1)) what="$2"; shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "timed out waiting for $what"
    sleep 0.2
  done
}

step "etcd"
etcd_port=$(free_port); peer_port=$(free_port)
etcd --name demo --data-dir "$work/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "demo=http://127.0.0.1:$peer_port" \
  --experimental-watch-progress-notify-interval 5s --log-level error >"$work/etcd.log" 2>&1 &
pids+=($!)
echo "etcd on 127.0.0.1:$etcd_port"

step "certificates: a client CA, the demo user (group pager-users) and the controller"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=pager-demo-client-ca" \
  -keyout "$work/client-ca.key" -out "$work/client-ca.crt" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >"$work/client.ext"
client_cert() { # <name> <subject>
  openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$work/$1.key" -out "$work/$1.csr" 2>/dev/null
  openssl x509 -req -days 1 -in "$work/$1.csr" -CA "$work/client-ca.crt" -CAkey "$work/client-ca.key" \
    -CAcreateserial -extfile "$work/client.ext" -out "$work/$1.crt" 2>/dev/null
}
client_cert demo-user "/CN=demo-user/O=pager-users"
client_cert controller "/CN=pager-controller"

cat >"$work/policy.yaml" <<'EOF'
# Standalone authorization (no cluster to send SubjectAccessReviews to): RBAC-style rules.
rules:
  - groups: ["pager-users"]
    verbs: ["*"]
    apiGroups: ["pager.k8s.co"]
    resources: ["alerts", "alerts/status"]
  - users: ["pager-controller"]
    verbs: ["get", "list", "watch", "update", "patch"]
    apiGroups: ["pager.k8s.co"]
    resources: ["alerts", "alerts/status"]
EOF

step "pager-apiserver on etcd, HTTPS, client certificates, the policy above"
mkfifo "$work/apiserver.out"
RUST_LOG=${RUST_LOG:-warn} "$bin/pager-apiserver" --listen 127.0.0.1:0 --storage etcd \
  --etcd-servers "http://127.0.0.1:$etcd_port" --cert-dir "$work/certs" --tls-names localhost,127.0.0.1 \
  --client-ca-file "$work/client-ca.crt" --authorization-policy-file "$work/policy.yaml" \
  --anonymous-auth=false >"$work/apiserver.out" 2>"$work/apiserver.log" &
pids+=($!)
exec 3<"$work/apiserver.out"
read -r -t 60 line <&3 || fail "pager-apiserver did not start"
addr="${line#listening on }"
echo "pager-apiserver on https://$addr (its CA: $work/certs/ca.crt)"

kubeconfig() { # <user>
  cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: pager
  cluster: {server: "https://$addr", certificate-authority: "$work/certs/ca.crt"}
users:
- name: $1
  user: {client-certificate: "$work/$1.crt", client-key: "$work/$1.key"}
contexts:
- name: pager
  context: {cluster: pager, user: $1, namespace: default}
current-context: pager
EOF
}
kubeconfig demo-user >"$work/kubeconfig"
kubeconfig controller >"$work/controller.kubeconfig"
export KUBECONFIG="$work/kubeconfig"
k() { kubectl --cache-dir "$work/kube-cache" "$@"; }
wait_for 30 "the API server" k get --raw /readyz

step "a local notifier (Pushbullet-style) printing every push"
notifier_port=$(free_port)
python3 -u - "$notifier_port" >"$work/notifier.log" 2>&1 <<'EOF' &
import http.server, json, sys
class Pushes(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        print("PUSH", self.path, self.headers.get("Access-Token"), body.decode(), flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"iden": "demo", "active": True}).encode())
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Pushes).serve_forever()
EOF
pids+=($!)
wait_for 10 "the notifier" python3 -c "import socket; socket.create_connection(('127.0.0.1', $notifier_port))"
echo "notifier on http://127.0.0.1:$notifier_port"

step "pager-controller"
echo demo-token >"$work/notifier-token"
KUBECONFIG="$work/controller.kubeconfig" RUST_LOG=${RUST_LOG:-info} "$bin/pager-controller" \
  --notifier-url "http://127.0.0.1:$notifier_port" --token-file "$work/notifier-token" \
  --metrics-listen "127.0.0.1:$(free_port)" >"$work/controller.log" 2>&1 &
pids+=($!)

step "kubectl apply -f kubecon-alert.yaml   (as v1alpha1)"
cat >"$work/kubecon-alert.yaml" <<'EOF'
apiVersion: pager.k8s.co/v1alpha1
kind: Alert
metadata:
  name: kubecon-alert
spec:
  message: "Hello KubeCon!"
EOF
k apply -f "$work/kubecon-alert.yaml"

step "the controller sends it"
wait_for 30 "the push" grep -q 'Hello KubeCon!' "$work/notifier.log"
grep PUSH "$work/notifier.log"
wait_for 30 "status.sent" sh -c "kubectl --cache-dir '$work/kube-cache' get alert kubecon-alert -o jsonpath='{.status.sent}' | grep -qx true"
k get alerts

step "kubectl get alerts.v1beta1.pager.k8s.co kubecon-alert -o yaml   (the same alert as v1beta1)"
k get alerts.v1beta1.pager.k8s.co kubecon-alert -o yaml | tee "$work/v1beta1.yaml"
grep -q 'apiVersion: pager.k8s.co/v1beta1' "$work/v1beta1.yaml" || fail "not served as v1beta1"
grep -q 'content: Hello KubeCon!' "$work/v1beta1.yaml" || fail "spec.message did not become spec.content"

step "kubectl get alerts -w   (while a second alert is created and sent)"
k get alerts -w --output-watch-events >"$work/watch.out" 2>&1 &
watch_pid=$!
pids+=("$watch_pid")
wait_for 10 "the watch" grep -q kubecon-alert "$work/watch.out"
k create -f - <<'EOF'
apiVersion: pager.k8s.co/v1beta1
kind: Alert
metadata:
  name: second-alert
spec:
  title: Second
  content: "Still here"
EOF
wait_for 30 "the second push" grep -q 'Still here' "$work/notifier.log"
wait_for 10 "the watch to see it" grep -q second-alert "$work/watch.out"
kill "$watch_pid" 2>/dev/null || true
cat "$work/watch.out"

step "an unauthorized user is refused"
openssl req -newkey rsa:2048 -nodes -subj "/CN=stranger" -keyout "$work/stranger.key" -out "$work/stranger.csr" 2>/dev/null
openssl x509 -req -days 1 -in "$work/stranger.csr" -CA "$work/client-ca.crt" -CAkey "$work/client-ca.key" \
  -CAcreateserial -extfile "$work/client.ext" -out "$work/stranger.crt" 2>/dev/null
kubeconfig stranger >"$work/stranger.kubeconfig"
if out=$(KUBECONFIG="$work/stranger.kubeconfig" kubectl --cache-dir "$work/kube-cache" delete alert kubecon-alert 2>&1); then
  fail "a stranger deleted an alert"
fi
echo "$out"
echo "$out" | grep -q 'forbidden: User "stranger" cannot delete resource "alerts"' || fail "unexpected refusal: $out"

step "done: the demo passed"
