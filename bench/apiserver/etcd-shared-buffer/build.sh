#!/usr/bin/env bash
# Builds Debian's etcd 3.4.23 (the source in golang-etcd-server-dev) with etcd 3.5's shared-buffer
# read for write transactions (etcd#12896): a create transaction then costs etcd about what a put
# does, as on etcd 3.5 and later. For the benchmark only (ETCD_BIN=… bench/apiserver/run.sh);
# the tests use Debian's etcd-server.
#
#   bench/apiserver/etcd-shared-buffer/build.sh [output]   # default target/etcd-shared-buffer
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "${1:-$here/../../../target/etcd-shared-buffer}")
src=/usr/share/gocode/src/go.etcd.io/etcd
if [[ ! -d $src ]] || ! command -v go >/dev/null; then
  if [[ $(id -u) == 0 ]]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends golang-go golang-etcd-server-dev
  else
    echo "build.sh: needs Debian's golang-go and golang-etcd-server-dev (run as root to install them)" >&2
    exit 1
  fi
fi
gopath=$(mktemp -d)
trap 'rm -rf "$gopath"' EXIT
mkdir -p "$gopath/src/go.etcd.io"
cp -r "$src" "$gopath/src/go.etcd.io/etcd"
patch -s -d "$gopath/src/go.etcd.io/etcd" -p1 < "$here/etcd-3.4-shared-buffer.patch"
mkdir -p "$(dirname "$out")"
(cd "$gopath/src/go.etcd.io/etcd" && GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" go build -o "$out" .)
echo "built $out"
