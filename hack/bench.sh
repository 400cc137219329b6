#!/usr/bin/env bash
# `make bench`: skiff against podman (and skopeo for pulls), side by side, in
# one run, rootless as the test user, each tool on its own isolated storage,
# all pulls from one local registry. Prints a table of medians (hyperfine).
#
# Rows and targets:
#   version            skiff version   vs podman version      skiff <= 1/3 of podman
#   images (N images)  skiff images    vs podman images       skiff <= 1/5 of podman
#   pull (~M MiB)      skiff pull      vs skopeo copy         skiff <= 1.1x skopeo
#                      (podman pull shown too; the image is removed before each run)
#
# A row whose skiff command does not exist (yet) or fails says n/a for skiff.
#
# Knobs (environment):
#   BENCH_DIR      work dir (default /tmp/skiff-bench), wiped for each run
#   BENCH_USER     rootless user when run as root (default skiffuser)
#   BENCH_RUNS     timed runs of the fast commands (default 20)
#   BENCH_PULL_RUNS timed runs of each pull (default 5)
#   BENCH_IMAGES   number of images for the images row (default 50)
#   BENCH_BIG_MB   size of the pulled image's data (default 100)
#   SKIFF_BINARY   skiff to measure (default bin/skiff)
#   REGISTRY_ADDR  see hack/registry.sh (default 127.0.0.1:5000, or the next free port)
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)
export GOTOOLCHAIN=local PATH=/usr/local/go/bin:$PATH

BENCH_DIR=${BENCH_DIR:-/tmp/skiff-bench}
BENCH_USER=${BENCH_USER:-skiffuser}
RUNS=${BENCH_RUNS:-20}
PULL_RUNS=${BENCH_PULL_RUNS:-5}
NIMAGES=${BENCH_IMAGES:-50}
BIG_MB=${BENCH_BIG_MB:-100}
SKIFF=${SKIFF_BINARY:-$REPO/bin/skiff}
# BENCH_DIR is wiped: insist on a dedicated absolute path.
[[ $BENCH_DIR == /?*/?* || $BENCH_DIR == /tmp/?* ]] || { echo "bench: BENCH_DIR=$BENCH_DIR: use a dedicated dir like /tmp/skiff-bench" >&2; exit 1; }
[[ $SKIFF == /* ]] || SKIFF=$(command -v "$SKIFF" || echo "$REPO/$SKIFF")

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

for tool in hyperfine podman skopeo jq docker-registry; do
	command -v "$tool" >/dev/null || die "$tool is not installed (run: make setup)"
done

OUT=$REPO/test/testimage/out
SOURCES=$(ls "$REPO"/test/testimage/*.go)

# layout DIR ARGS...: (re)build a test image layout unless it is up to date.
layout() {
	local dir=$1
	shift
	local stale=0 f
	[[ -f $dir/index.json && $(cat "$dir.args" 2>/dev/null) == "$*" ]] || stale=1
	for f in $SOURCES; do
		[[ $stale == 1 || $f -nt $dir/index.json ]] && stale=1
	done
	if [[ $stale == 1 ]]; then
		log "building test image $dir $*"
		go run ./test/testimage -o "$dir" "$@" >/dev/null
		echo "$*" >"$dir.args"
	fi
}
layout "$OUT/bench-big" -big-mb "$BIG_MB"
layout "$OUT/bench-variants" -variants "$NIMAGES"

# --- isolated work dir, one storage per tool -----------------------------------
if [[ -e $BENCH_DIR/registry/registry.pid ]]; then
	hack/registry.sh stop "$BENCH_DIR/registry"
fi
# remove_stores: the stores are large and only the results are worth keeping.
# Rootless storage may hold files owned by sub-ids: a non-root user removes it
# from inside the user namespace (root needs no help).
remove_stores() {
	local s
	for s in "$BENCH_DIR"/store-*; do
		[[ -d $s ]] || continue
		if [[ $(id -u) -ne 0 ]]; then
			podman unshare rm -rf "$s" || true
		fi
		rm -rf "$s"
	done
}

remove_stores
rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR/registry"

if [[ $(id -u) -eq 0 ]]; then
	id -u "$BENCH_USER" >/dev/null 2>&1 || die "user $BENCH_USER does not exist (run: make setup)"
	RUN_AS=(runuser -u "$BENCH_USER" --)
	USER_HOME=$(getent passwd "$BENCH_USER" | cut -d: -f6)
	WHO=$BENCH_USER
else
	RUN_AS=()
	USER_HOME=$HOME
	WHO=$(id -un)
fi

ADDR=$(hack/registry.sh start "$BENCH_DIR/registry")
trap 'hack/registry.sh stop "$BENCH_DIR/registry" || true; rm -rf "$BENCH_DIR/registry/storage"; remove_stores' EXIT

mkdir -p "$BENCH_DIR/conf" "$BENCH_DIR/results" "$BENCH_DIR"/store-{skiff,podman,skopeo}
cat >"$BENCH_DIR/conf/registries.conf" <<EOF
unqualified-search-registries = []

[[registry]]
location = "$ADDR"
insecure = true
EOF
# Debian's podman and skopeo (containers/storage 1.4x), when rootless, ignore
# graphroot and read rootless_storage_path; skiff's newer containers/storage
# warns that rootless_storage_path is deprecated when both are set. So skiff
# gets graphroot alone, and "skiff-legacy" is skiff's store as seen by the old
# tools (used to fill it with skopeo).
storage_conf() { # name dir legacy
	{
		echo '[storage]'
		echo 'driver = "overlay"'
		echo "graphroot = \"$BENCH_DIR/$2/graph\""
		echo "runroot = \"$BENCH_DIR/$2/run\""
		[[ $3 == no ]] || echo "rootless_storage_path = \"$BENCH_DIR/$2/graph\""
	} >"$BENCH_DIR/conf/storage-$1.conf"
}
storage_conf skiff store-skiff no
storage_conf skiff-legacy store-skiff yes
storage_conf podman store-podman yes
storage_conf skopeo store-skopeo yes
if [[ $(id -u) -eq 0 ]]; then
	chown -R "$BENCH_USER:" "$BENCH_DIR/conf" "$BENCH_DIR/results" "$BENCH_DIR"/store-*
	chmod 0755 "$BENCH_DIR"
fi

# as TOOL CMD...: run CMD as the bench user with TOOL's storage, in a clean env.
as() {
	local t=$1
	shift
	"${RUN_AS[@]}" env -i HOME="$USER_HOME" USER="$WHO" LOGNAME="$WHO" PATH=/usr/local/bin:/usr/bin:/bin \
		CONTAINERS_STORAGE_CONF="$BENCH_DIR/conf/storage-$t.conf" \
		CONTAINERS_REGISTRIES_CONF="$BENCH_DIR/conf/registries.conf" \
		TMPDIR=/var/tmp "$@"
}

log "registry at $ADDR, work dir $BENCH_DIR, rootless as $WHO"
# Guard against measuring (and filling) the user's real store by mistake.
got=$(as podman podman info --format '{{.Store.GraphRoot}}' 2>/dev/null)
[[ $got == "$BENCH_DIR/store-podman/graph" ]] || die "podman uses graph root '$got', not $BENCH_DIR/store-podman/graph"
skopeo copy -q --dest-tls-verify=false "oci:$OUT/bench-big:latest" "docker://$ADDR/skiff/big:latest" >/dev/null
BIG_REF=$ADDR/skiff/big:latest
BIG_BYTES=$(skopeo inspect --raw --tls-verify=false "docker://$BIG_REF" | jq '[.layers[].size] | add')
BIG_LAYERS=$(skopeo inspect --raw --tls-verify=false "docker://$BIG_REF" | jq '.layers | length')

# Which skiff commands exist? "n/a" rows are those that do not. An unknown
# verb's --help prints the top-level help and exits 0: look for the verb's own
# usage line.
skiff_has() {
	[[ -x $SKIFF ]] && as skiff "$SKIFF" "$1" --help 2>/dev/null | grep -qE "^ +$(basename "$SKIFF") $1 "
}

# bench NAME RUNS [hyperfine options...] -- CMD: time CMD as the bench user;
# prints the median in seconds, or nothing if the command failed.
bench() {
	local name=$1 runs=$2
	shift 2
	local opts=()
	while [[ $1 != -- ]]; do
		opts+=("$1")
		shift
	done
	shift
	local json=$BENCH_DIR/results/$name.json
	local cmd
	cmd=$(printf '%q ' "$@")
	if as "${name%%-*}" hyperfine -N --style none --warmup 1 --runs "$runs" "${opts[@]}" \
		--export-json "$json" "$cmd" >"$BENCH_DIR/results/$name.log" 2>&1; then
		jq -r '.results[0].median' "$json"
	else
		# Run it once more, untimed, to show why it failed.
		as "${name%%-*}" "$@" >>"$BENCH_DIR/results/$name.log" 2>&1 || true
		log "$name failed; see $BENCH_DIR/results/$name.log"
		tail -n 3 "$BENCH_DIR/results/$name.log" | cut -c1-300 | sed 's/^/    /' >&2
	fi
}

# --- populate the stores for the images row --------------------------------
populate() {
	local t=$1 k
	for k in $(seq 1 "$NIMAGES"); do
		as "$t" skopeo copy -q "oci:$OUT/bench-variants:variant-$k" \
			"containers-storage:localhost/skiff/variant:$k" >/dev/null
	done
}

declare -A T=()

# (a) version
log "timing: version"
T[version_podman]=$(bench podman-version "$RUNS" -- podman version)
T[version_skiff]=
skiff_has version && T[version_skiff]=$(bench skiff-version "$RUNS" -- "$SKIFF" version)

# (b) images with NIMAGES distinct images (same layers, one tiny distinct layer
# each); both stores are filled the same way, by skopeo, so only listing is timed.
log "filling the podman and skiff stores with $NIMAGES images each"
populate podman
T[images_podman]=$(bench podman-images "$RUNS" -- podman images)
T[images_skiff]=
if skiff_has images; then
	populate skiff-legacy
	seen=$(as skiff "$SKIFF" images 2>/dev/null | grep -c '^localhost/skiff/variant ' || true)
	if [[ $seen -eq $NIMAGES ]]; then
		T[images_skiff]=$(bench skiff-images "$RUNS" -- "$SKIFF" images)
	else
		log "skiff images lists $seen of the $NIMAGES images in its store; not timing it"
	fi
fi

# (c) pull: the image is removed before every run (not timed). skopeo 1.9 does
# not take "insecure" from registries.conf, hence its --src-tls-verify=false.
log "timing: pull of $BIG_REF ($BIG_LAYERS layers, $((BIG_BYTES >> 20)) MiB compressed)"
rmi() { printf 'sh -c %q' "$1 rmi -f $BIG_REF >/dev/null 2>&1 || true"; }
T[pull_podman]=$(bench podman-pull "$PULL_RUNS" --prepare "$(rmi podman)" -- podman pull "$BIG_REF")
T[pull_skopeo]=$(bench skopeo-pull "$PULL_RUNS" --prepare "$(rmi podman)" -- \
	skopeo copy -q --src-tls-verify=false "docker://$BIG_REF" "containers-storage:$BIG_REF")
T[pull_skiff]=
if skiff_has pull && skiff_has rmi; then
	T[pull_skiff]=$(bench skiff-pull "$PULL_RUNS" --prepare "$(rmi "$SKIFF")" -- "$SKIFF" pull "$BIG_REF")
fi

# --- table ---------------------------------------------------------------------
fmt() { # seconds -> "12.3 ms" / "1.23 s" / "n/a"
	[[ -n ${1:-} ]] || { echo n/a; return; }
	awk -v s="$1" 'BEGIN { if (s < 1) printf "%.1f ms", s * 1000; else printf "%.2f s", s }'
}
ratio() { # a b -> "0.31x" or "n/a"
	[[ -n ${1:-} && -n ${2:-} ]] || { echo n/a; return; }
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'
}
verdict() { # a b max -> met / MISSED / -
	[[ -n ${1:-} && -n ${2:-} ]] || { echo -; return; }
	awk -v a="$1" -v b="$2" -v m="$3" 'BEGIN { print (a / b <= m ? "met" : "MISSED") }'
}

row() { # label, skiff, podman, skopeo, ratio-base, target label, target max
	local skopeo=-
	[[ -z $4 ]] || skopeo=$(fmt "$4")
	printf '%-30s %10s %10s %10s %8s  %-18s %s\n' "$1" "$(fmt "$2")" "$(fmt "$3")" "$skopeo" \
		"$(ratio "$2" "$5")" "$6" "$(verdict "$2" "$5" "$7")"
}

echo
echo "skiff vs podman, rootless as $WHO, medians of hyperfine runs ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
echo "skiff: $SKIFF$([[ -x $SKIFF ]] || echo ' (not built)')"
echo "podman: $(podman version --format '{{.Client.Version}}' 2>/dev/null), skopeo: $(skopeo --version | awk '{print $3}')"
echo
printf '%-30s %10s %10s %10s %8s  %-18s %s\n' benchmark skiff podman skopeo ratio target result
row "version" "${T[version_skiff]}" "${T[version_podman]}" "" "${T[version_podman]}" "<= 0.33x podman" 0.3334
row "images ($NIMAGES images)" "${T[images_skiff]}" "${T[images_podman]}" "" "${T[images_podman]}" "<= 0.20x podman" 0.20
row "pull ($((BIG_BYTES >> 20)) MiB, $BIG_LAYERS layers)" "${T[pull_skiff]}" "${T[pull_podman]}" "${T[pull_skopeo]}" \
	"${T[pull_skopeo]}" "<= 1.10x skopeo" 1.10
echo
echo "ratio = skiff / podman (pull: skiff / skopeo copy to containers-storage); raw results in $BENCH_DIR/results"
