#!/usr/bin/env bash
# hack/tools.sh: build or install the pinned upstream tools into a cache outside
# the clone, keyed by the pinned versions, so every clone on this machine
# (including CI's fresh one) reuses them. Each step is skipped when its output
# exists. Sourced by other hack/ scripts for tools_dir.
#
#   hack/tools.sh              build what is missing, print a summary
#   hack/tools.sh --dir        print the cache folder (after building what is missing)
#   hack/tools.sh --env        print `export ...` lines (PATH, KEYLESS_TOOLS, KEYLESS_PY)
#   hack/tools.sh --update     rewrite hack/tools/*/go.mod and go.sum from hack/versions.env
#
# Cache: ${KEYLESS_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/keyless}/
#   parts/<component>-<hash>/   one folder per component, keyed by that
#                               component's own inputs (its version line in
#                               versions.env, its go.mod/go.sum or requirements,
#                               the Go or Python version), so changing one pin
#                               rebuilds only that component;
#   parts/webhook-<hash>/       AWS's pod identity webhook, keyed by the pinned
#                               source archive's sha256 and commit (versions.env);
#   <key>/bin/, <key>/venv      the assembled set (symlinks into parts/), <key>
#                               hashing all inputs: what scripts put on PATH.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HT=$ROOT/hack/tools
# shellcheck source=versions.env
source "$ROOT/hack/versions.env"

export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0
PY=${KEYLESS_PYTHON:-python3}

die() { echo "hack/tools: $*" >&2; exit 1; }
say() { echo "hack/tools: $*" >&2; }

need_go() {
	command -v go >/dev/null || die "Go is required (>= 1.26) to build the upstream tools; install it and retry"
	local v; v=$(go env GOVERSION); v=${v#go}
	local maj=${v%%.*} rest=${v#*.}; local min=${rest%%.*}
	if [ "$maj" -lt 1 ] || { [ "$maj" -eq 1 ] && [ "$min" -lt 26 ]; }; then
		die "Go $v is too old: k8s.io/kubernetes $KUBERNETES_VERSION needs Go >= 1.26"
	fi
}

CACHE_ROOT=${KEYLESS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/keyless}
go_version() { command -v go >/dev/null && go env GOVERSION || echo none; }
py_version() { "$PY" -c 'import sys; print(sys.version)'; }

# part_key NAME: hash of one component's inputs.
part_key() {
	case $1 in
	kube) { echo "$KUBERNETES_VERSION"; cat "$HT/kube/go.mod" "$HT/kube/go.sum"; go_version; echo ldflags-v1; } ;;
	etcd) { echo "$ETCD_VERSION"; cat "$HT/etcd/go.mod" "$HT/etcd/go.sum"; go_version; } ;;
	helm) { echo "$HELM_VERSION"; cat "$HT/helm/go.mod" "$HT/helm/go.sum"; go_version; } ;;
	venv) { cat "$HT/python/requirements.txt" "$HT/python/constraints.txt"; py_version; } ;;
	imds) { echo "$EC2_METADATA_MOCK_VERSION"; cat "$HT/imds/go.mod" "$HT/imds/go.sum"; go_version; } ;;
	kwok) { echo "$KWOK_VERSION"; cat "$HT/kwok/go.mod" "$HT/kwok/go.sum"; go_version; echo ldflags-v1; } ;;
	webhook) { echo "$POD_IDENTITY_WEBHOOK_COMMIT $POD_IDENTITY_WEBHOOK_SHA256"; go_version; echo ldflags-v1; } ;;
	esac | sha256sum | cut -c1-12
}

part_dir() { echo "$CACHE_ROOT/parts/$1-$(part_key "$1")"; }

cache_key() {
	{ for p in kube etcd helm venv imds kwok webhook; do part_key $p; done; } | sha256sum | cut -c1-16
}

tools_dir() { echo "$CACHE_ROOT/$(cache_key)"; }

# Check that a go.mod pins what versions.env says (fail loudly on drift).
check_pin() { # dir module version
	grep -qE "^[[:space:]]*(require[[:space:]]+)?$2 $3( |$)" "$HT/$1/go.mod" ||
		die "hack/tools/$1/go.mod does not require $2 $3 (hack/versions.env); run hack/tools.sh --update"
}

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b-a}'; }

build_kube() {
	local out=$1/bin
	if [ -x "$out/kube-apiserver" ] && [ -x "$out/kube-controller-manager" ] && [ -x "$out/kube-scheduler" ] &&
		[ -x "$out/kubectl" ]; then return; fi
	need_go
	check_pin kube k8s.io/kubernetes "$KUBERNETES_VERSION"
	local t=$EPOCHREALTIME v=$KUBERNETES_VERSION rest=${KUBERNETES_VERSION#v1.}
	local minor=${rest%%.*}
	# Version stamping as upstream's hack/lib/version.sh does, so /version and
	# `kubectl version` report the real release (helm and clients read it).
	local ld="-s -w"
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ld+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
		ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
	done
	say "building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl $v (first time: ~15-25 min on 2 cores)"
	mkdir -p "$out.tmp"
	(cd "$HT/kube" && go build -trimpath -ldflags "$ld" -o "$out.tmp/" \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
	mkdir -p "$out"
	mv "$out.tmp"/kube-apiserver "$out.tmp"/kube-controller-manager "$out.tmp"/kube-scheduler "$out.tmp"/kubectl "$out/"
	rmdir "$out.tmp" 2>/dev/null || true
	say "kubernetes built in $(elapsed "$t") s"
}

build_etcd() {
	local out=$1/bin
	if [ -x "$out/etcd" ] && [ -x "$out/etcdctl" ]; then return; fi
	need_go
	check_pin etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
	local t=$EPOCHREALTIME
	say "building etcd, etcdctl $ETCD_VERSION"
	mkdir -p "$out"
	(cd "$HT/etcd" && go build -trimpath -ldflags "-s -w" -o "$out/etcd.tmp" go.etcd.io/etcd/server/v3 &&
		go build -trimpath -ldflags "-s -w" -o "$out/etcdctl.tmp" go.etcd.io/etcd/etcdctl/v3)
	mv "$out/etcd.tmp" "$out/etcd"
	mv "$out/etcdctl.tmp" "$out/etcdctl"
	say "etcd built in $(elapsed "$t") s"
}

build_helm() {
	local out=$1/bin
	if [ -x "$out/helm" ]; then return; fi
	need_go
	check_pin helm helm.sh/helm/v3 "$HELM_VERSION"
	local t=$EPOCHREALTIME
	say "building helm $HELM_VERSION"
	mkdir -p "$out"
	(cd "$HT/helm" && go build -trimpath \
		-ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
		-o "$out/helm.tmp" helm.sh/helm/v3/cmd/helm)
	mv "$out/helm.tmp" "$out/helm"
	say "helm built in $(elapsed "$t") s"
}

build_imds() {
	local out=$1/bin
	if [ -x "$out/ec2-metadata-mock" ]; then return; fi
	need_go
	check_pin imds github.com/aws/amazon-ec2-metadata-mock "$EC2_METADATA_MOCK_VERSION"
	local t=$EPOCHREALTIME
	say "building ec2-metadata-mock $EC2_METADATA_MOCK_VERSION"
	mkdir -p "$out"
	(cd "$HT/imds" && go build -trimpath -ldflags "-s -w" -o "$out/ec2-metadata-mock.tmp" \
		github.com/aws/amazon-ec2-metadata-mock/cmd/ec2-metadata-mock)
	mv "$out/ec2-metadata-mock.tmp" "$out/ec2-metadata-mock"
	say "ec2-metadata-mock built in $(elapsed "$t") s"
}

# kwok (Kubernetes WithOut Kubelet): simulates nodes and pod lifecycles for
# the local control plane, which has no kubelet. Version stamped as kwok's
# own hack/releases.sh does. The standalone kwok binary has no built-in
# stages (kwokctl writes its defaults into a config file), so the part also
# keeps the pinned module's stage definitions (kustomize/stage/**.yaml, the
# files kwokctl embeds) in share/kwok/stage/; hack/local-cluster picks from them.
build_kwok() {
	local dir=$1 out=$1/bin
	if [ -x "$out/kwok" ] && [ -f "$dir/share/kwok/stage/.complete" ]; then return; fi
	need_go
	check_pin kwok sigs.k8s.io/kwok "$KWOK_VERSION"
	local t=$EPOCHREALTIME src f
	if [ ! -x "$out/kwok" ]; then
		say "building kwok $KWOK_VERSION"
		mkdir -p "$out"
		(cd "$HT/kwok" && go build -trimpath \
			-ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" \
			-o "$out/kwok.tmp" sigs.k8s.io/kwok/cmd/kwok)
		mv "$out/kwok.tmp" "$out/kwok"
	fi
	src=$(cd "$HT/kwok" && go mod download -json sigs.k8s.io/kwok | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
	[ -d "$src/kustomize/stage" ] || die "kwok module source has no kustomize/stage ($src)"
	rm -rf "$dir/share/kwok/stage"
	(cd "$src/kustomize/stage" && find . -name '*.yaml' ! -path '*/testdata/*') | while read -r f; do
		mkdir -p "$dir/share/kwok/stage/$(dirname "$f")"
		cp "$src/kustomize/stage/$f" "$dir/share/kwok/stage/$f"
	done
	chmod -R u+w "$dir/share/kwok/stage"
	touch "$dir/share/kwok/stage/.complete"
	say "kwok ready in $(elapsed "$t") s"
}

# AWS's amazon-eks-pod-identity-webhook. The Go module proxy refuses the
# module on this kind of machine, so it is built from the unmodified upstream
# source archive in $UPSTREAM_DIR (README there), checked against the sha256
# pinned in versions.env. Without the archive (a machine without ../shared),
# the module at the same commit comes from the Go module proxy (verified by
# go.sum and the checksum database); where the proxy refuses it, this fails
# with a message saying what to provide.
# Where the archive is: $KEYLESS_UPSTREAM_DIR, else shared/upstream next to
# this clone, else next to the clone it was cloned from (CI clones main into
# a folder of its own).
upstream_dir() {
	local origin
	if [ -n "${KEYLESS_UPSTREAM_DIR:-}" ]; then echo "$KEYLESS_UPSTREAM_DIR"; return; fi
	if [ -d "$(dirname "$ROOT")/shared/upstream" ]; then echo "$(dirname "$ROOT")/shared/upstream"; return; fi
	origin=$(git -C "$ROOT" config --get remote.origin.url 2>/dev/null || true)
	origin=${origin#file://}
	if [ -n "$origin" ] && [ -d "$origin" ] && [ -d "$(dirname "$(cd "$origin" && pwd)")/shared/upstream" ]; then
		echo "$(dirname "$(cd "$origin" && pwd)")/shared/upstream"
		return
	fi
	echo "$(dirname "$ROOT")/shared/upstream"
}
UPSTREAM_DIR=$(upstream_dir)
WEBHOOK_MODULE=github.com/aws/amazon-eks-pod-identity-webhook

webhook_source() { # dest: extract (or download) the source into dest
	local dest=$1 archive=$UPSTREAM_DIR/$POD_IDENTITY_WEBHOOK_ARCHIVE sum dir
	if [ -f "$archive" ]; then
		sum=$(sha256sum "$archive" | cut -d' ' -f1)
		[ "$sum" = "$POD_IDENTITY_WEBHOOK_SHA256" ] ||
			die "$archive has sha256 $sum, versions.env pins $POD_IDENTITY_WEBHOOK_SHA256; not building from it"
		say "building amazon-eks-pod-identity-webhook ${POD_IDENTITY_WEBHOOK_COMMIT:0:8} from $archive (first time: ~3 min)"
		mkdir -p "$dest"
		tar -xzf "$archive" -C "$dest" --strip-components=1
		return
	fi
	say "no $archive (set KEYLESS_UPSTREAM_DIR to the folder holding it); fetching $WEBHOOK_MODULE@${POD_IDENTITY_WEBHOOK_COMMIT:0:12} from the Go module proxy"
	local json
	json=$(cd / && go mod download -json "$WEBHOOK_MODULE@$POD_IDENTITY_WEBHOOK_COMMIT" 2>&1) || true
	dir=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1]).get("Dir", ""))' "$json" 2>/dev/null) || dir=
	[ -n "$dir" ] && [ -f "$dir/go.mod" ] ||
		die "cannot get $WEBHOOK_MODULE at commit $POD_IDENTITY_WEBHOOK_COMMIT from the Go module proxy" \
			"($("$PY" -c 'import json,sys; print(json.loads(sys.argv[1]).get("Error", "?").replace("\n", " "))' \
				"$json" 2>/dev/null || printf '%s' "$json" | tr -s '\n' ' ' | cut -c1-300));" \
			"provide $POD_IDENTITY_WEBHOOK_ARCHIVE" \
			"(sha256 $POD_IDENTITY_WEBHOOK_SHA256) in $UPSTREAM_DIR, or set KEYLESS_UPSTREAM_DIR to its folder"
	mkdir -p "$dest"
	cp -R "$dir/." "$dest/"
	chmod -R u+w "$dest"
}

build_webhook() {
	local dir=$1 out=$1/bin
	if [ -x "$out/amazon-eks-pod-identity-webhook" ]; then return; fi
	need_go
	local t=$EPOCHREALTIME
	rm -rf "$dir/src"
	webhook_source "$dir/src"
	mkdir -p "$out"
	(cd "$dir/src" && go build -trimpath \
		-ldflags "-s -w -X main.webhookVersion=${POD_IDENTITY_WEBHOOK_COMMIT:0:12}" \
		-o "$out/amazon-eks-pod-identity-webhook.tmp" .)
	mv "$out/amazon-eks-pod-identity-webhook.tmp" "$out/amazon-eks-pod-identity-webhook"
	rm -rf "$dir/src"
	say "amazon-eks-pod-identity-webhook built in $(elapsed "$t") s"
}

build_venv() {
	local dir=$1
	if [ -f "$dir/venv/.complete" ]; then return; fi
	local t=$EPOCHREALTIME
	say "creating Python venv ($("$PY" --version)) with hack/tools/python/requirements.txt"
	rm -rf "$dir/venv"
	"$PY" -m venv "$dir/venv"
	"$dir/venv/bin/python" -m pip install -q --disable-pip-version-check \
		-r "$HT/python/requirements.txt" -c "$HT/python/constraints.txt"
	touch "$dir/venv/.complete"
	say "venv ready in $(elapsed "$t") s"
}

update_pins() {
	need_go
	local staging
	say "updating hack/tools/kube for k8s.io/kubernetes $KUBERNETES_VERSION"
	staging=$(curl -fsS "https://proxy.golang.org/k8s.io/kubernetes/@v/$KUBERNETES_VERSION.mod" |
		awk '$2 == "=>" && $3 ~ /^\.\/staging/ {print $1}')
	[ -n "$staging" ] || die "could not read the staging modules of k8s.io/kubernetes $KUBERNETES_VERSION"
	{
		printf 'module keyless.dev/hack/tools/kube\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$KUBERNETES_VERSION"
		for m in $staging; do printf '\t%s => %s v0.%s\n' "$m" "$m" "${KUBERNETES_VERSION#v1.}"; done
		printf ')\n'
	} >"$HT/kube/go.mod"
	rm -f "$HT/kube/go.sum"
	(cd "$HT/kube" && go get -tool k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl && go mod tidy)
	say "updating hack/tools/etcd for $ETCD_VERSION"
	printf 'module keyless.dev/hack/tools/etcd\n\ngo 1.26.0\n' >"$HT/etcd/go.mod"
	rm -f "$HT/etcd/go.sum"
	(cd "$HT/etcd" && go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "go.etcd.io/etcd/etcdctl/v3@$ETCD_VERSION" && go mod tidy)
	say "updating hack/tools/helm for $HELM_VERSION"
	printf 'module keyless.dev/hack/tools/helm\n\ngo 1.26.0\n' >"$HT/helm/go.mod"
	rm -f "$HT/helm/go.sum"
	(cd "$HT/helm" && go get -tool "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" && go mod tidy)
	say "updating hack/tools/imds for ec2-metadata-mock $EC2_METADATA_MOCK_VERSION"
	printf 'module keyless.dev/hack/tools/imds\n\ngo 1.26.0\n' >"$HT/imds/go.mod"
	rm -f "$HT/imds/go.sum"
	(cd "$HT/imds" && go get -tool "github.com/aws/amazon-ec2-metadata-mock/cmd/ec2-metadata-mock@$EC2_METADATA_MOCK_VERSION" && go mod tidy)
	say "updating hack/tools/kwok for kwok $KWOK_VERSION"
	printf 'module keyless.dev/hack/tools/kwok\n\ngo 1.26.0\n' >"$HT/kwok/go.mod"
	rm -f "$HT/kwok/go.sum"
	(cd "$HT/kwok" && go get -tool "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" && go mod tidy)
}

ensure_all() {
	local dir; dir=$(tools_dir)
	mkdir -p "$dir/bin" "$CACHE_ROOT/parts"
	# One builder at a time (two clones may start together).
	exec 9>"$CACHE_ROOT/.lock"
	flock 9
	local t=$EPOCHREALTIME p f
	build_venv "$(part_dir venv)"
	build_etcd "$(part_dir etcd)"
	build_helm "$(part_dir helm)"
	build_kube "$(part_dir kube)"
	build_imds "$(part_dir imds)"
	build_kwok "$(part_dir kwok)"
	build_webhook "$(part_dir webhook)"
	# Assemble: symlinks from <key>/ into the parts.
	for p in kube etcd helm imds kwok webhook; do
		for f in "$(part_dir $p)"/bin/*; do ln -sfn "$f" "$dir/bin/$(basename "$f")"; done
	done
	ln -sfn "$(part_dir venv)/venv" "$dir/venv"
	mkdir -p "$dir/share"
	ln -sfn "$(part_dir kwok)/share/kwok" "$dir/share/kwok"
	flock -u 9
	echo "$dir"
	[ "$(elapsed "$t")" -gt 1 ] && say "tools ready in $(elapsed "$t") s: $dir" || true
}

main() {
	case "${1:-}" in
	--update) update_pins ;;
	--dir) ensure_all ;;
	--env)
		local dir; dir=$(ensure_all)
		printf 'export KEYLESS_TOOLS=%q\nexport KEYLESS_PY=%q\nexport PATH=%q:"$PATH"\n' \
			"$dir" "$dir/venv/bin/python" "$dir/bin"
		;;
	"")
		local dir; dir=$(ensure_all)
		say "kubernetes $("$dir/bin/kubectl" version --client -o json | "$dir/venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])')," \
			"etcd $("$dir/bin/etcd" --version | awk '/etcd Version/ {print $3}')," \
			"helm $("$dir/bin/helm" version --short)," \
			"moto $("$dir/venv/bin/python" -c 'import moto; print(moto.__version__)')," \
			"ec2-metadata-mock $EC2_METADATA_MOCK_VERSION," \
			"kwok $("$dir/bin/kwok" --version 2>/dev/null | awk '{print $3; exit}')," \
			"amazon-eks-pod-identity-webhook $("$dir/bin/amazon-eks-pod-identity-webhook" --version)"
		say "in $dir"
		;;
	*) die "usage: hack/tools.sh [--dir|--env|--update]" ;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
