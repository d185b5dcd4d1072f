#!/usr/bin/env bash
# The whole test suite: formatting, lints, every test, and the committed pager code verified.
# Installs what it needs when missing (as root, on Debian). In CI (CI=true) nothing may skip.
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the suite needs (real components, never mocks). Add to this list as suites grow.
need_debs=(etcd-server protobuf-compiler openssl python3 python3-venv golang-go golang-k8s-sigs-structured-merge-diff-dev)
if [ ${#need_debs[@]} -gt 0 ]; then
  missing=()
  for p in "${need_debs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
      echo "test.sh: missing Debian packages: ${missing[*]} (run as root to install them)" >&2
      exit 1
    fi
  fi
fi
# kubectl is the judge of the API server tests (the machine image ships Google's kubectl
# dispatcher with kubectl 1.27–1.33 beside it).
if ! command -v kubectl >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubectl || true
  fi
  command -v kubectl >/dev/null 2>&1 || { echo "test.sh: kubectl is missing and could not be installed" >&2; exit 1; }
fi
# The official Python client (kubernetes-client/python), pinned, in a virtualenv of its own under
# target/ (the client-compatibility test runs it against the server).
target_dir=${CARGO_TARGET_DIR:-target}
case $target_dir in /*) ;; *) target_dir=$PWD/$target_dir ;; esac
py_client="$target_dir/python-client"
if ! "$py_client/bin/python3" -c 'import kubernetes' >/dev/null 2>&1; then
  python3 -m venv "$py_client"
  "$py_client/bin/pip" install -q --disable-pip-version-check 'kubernetes==37.0.2'
fi
export KUBE_PYTHON_CLIENT="$py_client/bin/python3"
# The official JavaScript client (@kubernetes/client-node), pinned, in an npm prefix of its own
# under target/ (Node.js and npm from Debian when missing).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
  else
    echo "test.sh: node or npm is missing (run as root to install Debian's nodejs npm)" >&2
    exit 1
  fi
fi
js_client="$target_dir/js-client" js_client_version=1.4.0
if [ "$(node -p 'require(process.argv[1]).version' "$js_client/node_modules/@kubernetes/client-node/package.json" 2>/dev/null)" != "$js_client_version" ]; then
  npm install -q --prefix "$js_client" --save-exact --no-audit --no-fund "@kubernetes/client-node@$js_client_version"
fi
export KUBE_JS_CLIENT_DIR="$js_client"
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$component"
  fi
done

# Two cores: keep the build to them and let tests share.
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# CI builds once from a clean clone on a machine that may have little disk: incremental caches
# would cost about as much disk again as the build itself, and line tables a third of every test
# binary (panics still name their file:line without them).
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=false; fi

# Room left for the build and the suite's data (etcd keeps its data on tmpfs when there is room
# there): printed before and after the build, so that a failure from a full disk reads as one.
room() { df -h "$PWD" "${TMPDIR:-/tmp}" /dev/shm 2>/dev/null | awk '!seen[$0]++' || true; }
echo "== disk"
room

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== pager-gen --verify"
cargo run -q --locked -p pager-gen -- --verify
echo "== cargo test"
if cargo nextest --version >/dev/null 2>&1; then
  # Each test in its own process, all binaries side by side (.config/nextest.toml); doc tests are
  # cargo test's alone.
  cargo nextest run --workspace --locked --no-run
  room
  cargo nextest run --workspace --locked
  cargo test --workspace --locked --doc
else
  cargo test --workspace --locked
fi
echo "== examples/pager/demo.sh"
# The binaries `cargo test` built for the integration tests, with the workspace's features.
for b in pager-apiserver pager-controller; do
  [ -x "${CARGO_TARGET_DIR:-target}/debug/$b" ] || cargo build -q --locked -p "$b"
done
examples/pager/demo.sh --no-build
