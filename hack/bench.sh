#!/usr/bin/env bash
# `make bench`: skiff against podman (and skopeo for pulls, bare crun for the
# container floor), side by side, in one run, rootless as the test user, each
# tool on its own isolated storage and runtime dir, all pulls from one local
# registry. Prints a table of medians (hyperfine), 2 significant digits.
#
# Rows and targets (IMG is the busybox test image, pushed to the registry):
#   version            skiff version   vs podman version      skiff <= 1/3 of podman
#   images (N images)  skiff images    vs podman images       skiff <= 1/5 of podman
#   pull (~M MiB)      skiff pull      vs skopeo copy         skiff <= 1.1x skopeo
#                      (podman pull shown too; the image is removed before each run)
#   run (rootless)     run --rm --network none IMG true       skiff <= 1/5 of podman
#   run (rootful)      the same as root; podman fails here with its default
#                      rlimits (no CAP_SYS_RESOURCE), so it is retried with
#                      --ulimit host, then with containers.conf default_ulimits
#                      set to the limits skiff's container gets  skiff <= 1/5
#   create             create --network none IMG true         skiff <= 1/5 of podman
#   start -a           start -a of one of RUNS created `true` containers (no target)
#   ps -a (N ctrs)     ps -a with N created containers (BENCH_PS_COUNTS)  <= 1/10
#   C concurrent runs  wall time of C parallel run --rm (xargs -P)        <= 1/3
#   shim RSS           VmRSS of skiff-shim vs conmon, one `sleep` container each <= 2x
#   run vs bare crun   skiff run (rootless, rootful) / `crun run` as root of a
#                      bundle with skiff's own config.json and the image's
#                      rootfs                                  skiff <= 2.5x crun
#
# A cell says n/a when skiff lacks the command, and "fails: <first line of the
# error>" when the command fails; the bench goes on either way.
#
# Knobs (environment):
#   BENCH_DIR      work dir (default /tmp/skiff-bench), wiped for each run
#   BENCH_USER     rootless user when run as root (default skiffuser)
#   BENCH_RUNS     timed runs of the fast commands (default 20)
#   BENCH_PULL_RUNS timed runs of each pull (default 5)
#   BENCH_IMAGES   number of images for the images row (default 50)
#   BENCH_BIG_MB   size of the pulled image's data (default 100)
#   BENCH_PS_COUNTS container counts of the ps -a rows (default "100 1000")
#   BENCH_PS_BIG_RUNS timed runs of ps -a above 100 containers (default 10)
#   BENCH_CONCURRENCY parallel runs of the concurrent row (default 16)
#   BENCH_BATCH_RUNS timed runs of that batch (default 5)
#   BENCH_CREATE_JOBS parallel creates when filling the ps stores (default 4)
#   BENCH_TIMEOUT  seconds after which one hyperfine call is cut off (default 600)
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
PS_COUNTS=${BENCH_PS_COUNTS:-100 1000}
PS_BIG_RUNS=${BENCH_PS_BIG_RUNS:-10}
CONC=${BENCH_CONCURRENCY:-16}
BATCH_RUNS=${BENCH_BATCH_RUNS:-5}
CREATE_JOBS=${BENCH_CREATE_JOBS:-4}
TIMEOUT=${BENCH_TIMEOUT:-600}
SKIFF=${SKIFF_BINARY:-$REPO/bin/skiff}
# BENCH_DIR is wiped: insist on a dedicated absolute path.
[[ $BENCH_DIR == /?*/?* || $BENCH_DIR == /tmp/?* ]] || { echo "bench: BENCH_DIR=$BENCH_DIR: use a dedicated dir like /tmp/skiff-bench" >&2; exit 1; }
[[ $SKIFF == /* ]] || SKIFF=$(command -v "$SKIFF" || echo "$REPO/$SKIFF")
# The bench user's own XDG_RUNTIME_DIR: the rootless pause processes, podman's
# tmp dir and skiff's container run dirs are then the bench's alone (and go
# away with it) instead of being shared with whoever else uses that account.
# It is also podman's normal case (a login session sets it): without it,
# podman 4.3 cannot join its pause process before Go starts and re-executes
# itself on every call, which would add ~100 ms to every podman figure.
XDG=$BENCH_DIR/xdg

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

for tool in hyperfine podman skopeo jq docker-registry crun timeout; do
	command -v "$tool" >/dev/null || die "$tool is not installed (run: make setup)"
done
ROOT=no
[[ $(id -u) -ne 0 ]] || ROOT=yes

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
# The plain test image is `make testimage`'s; build it only when it is missing.
[[ -f $OUT/busybox/index.json ]] || layout "$OUT/busybox"

if [[ $ROOT == yes ]]; then
	id -u "$BENCH_USER" >/dev/null 2>&1 || die "user $BENCH_USER does not exist (run: make setup)"
	RUN_AS=(runuser -u "$BENCH_USER" --)
	USER_HOME=$(getent passwd "$BENCH_USER" | cut -d: -f6)
	WHO=$BENCH_USER
else
	RUN_AS=()
	USER_HOME=$HOME
	WHO=$(id -un)
fi

# as TOOL CMD...: run CMD with TOOL's storage, in a clean env: as the bench
# user, or as root for the root* tools (rootskiff, rootpodman, rootcrun).
as() {
	local t=$1
	shift
	local pre=("${RUN_AS[@]}") home=$USER_HOME who=$WHO extra=("XDG_RUNTIME_DIR=$XDG")
	if [[ $t == root* ]]; then
		pre=()
		home=/root
		who=root
		extra=()
		[[ ! -f $BENCH_DIR/conf/containers-$t.conf ]] || extra=("CONTAINERS_CONF=$BENCH_DIR/conf/containers-$t.conf")
	fi
	"${pre[@]}" env -i HOME="$home" USER="$who" LOGNAME="$who" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
		CONTAINERS_STORAGE_CONF="$BENCH_DIR/conf/storage-$t.conf" \
		CONTAINERS_REGISTRIES_CONF="$BENCH_DIR/conf/registries.conf" \
		TMPDIR=/var/tmp "${extra[@]}" "$@"
}

# bin TOOL: the binary that manages TOOL's store.
bin() {
	case $1 in
	skiff | rootskiff) echo "$SKIFF" ;;
	*) echo podman ;;
	esac
}

# --- isolated work dir, one storage per tool -----------------------------------
# remove_stores: the stores are large and only the results are worth keeping.
# Rootless storage may hold files owned by sub-ids: a non-root user removes it
# from inside the user namespace (root needs no help).
remove_stores() {
	local s
	for s in "$BENCH_DIR"/store-*; do
		[[ -d $s ]] || continue
		if [[ $ROOT == no ]]; then
			podman unshare rm -rf "$s" || true
		fi
		rm -rf "$s"
	done
}

# kill_pause PIDFILE: stop a rootless pause process that this bench started
# (its pid file is in the bench's own runtime dir): the bench user's catatonit,
# or podman/skiff pausing themselves.
kill_pause() {
	local pid
	[[ -s $1 ]] || return 0
	read -r pid _ <"$1" || true
	[[ $pid =~ ^[0-9]+$ && -r /proc/$pid/comm ]] || return 0
	[[ $(stat -c %U "/proc/$pid") == "$WHO" ]] || return 0
	case $(cat "/proc/$pid/comm") in
	catatonit | skiff | podman) kill -KILL "$pid" 2>/dev/null || true ;;
	esac
}

# teardown: remove every container the bench made (which stops their shims,
# conmons and mounts), the pause processes, the mounts left under the work dir
# (root's overlay driver bind-mounts its own home) and the stores. Also run at
# the start, for what an interrupted run left behind.
teardown() {
	local t m
	for t in skiff podman rootskiff rootpodman; do
		[[ -d $BENCH_DIR/store-$t && -f $BENCH_DIR/conf/storage-$t.conf ]] || continue
		[[ $t != root* || $ROOT == yes ]] || continue
		as "$t" timeout 300 "$(bin "$t")" rm -a -f -t 0 >/dev/null 2>&1 || true
	done
	kill_pause "$XDG/skiff/pause.pid"
	kill_pause "$XDG/libpod/tmp/pause.pid"
	if [[ $ROOT == yes ]]; then
		findmnt -rn -o TARGET | awk -v d="$BENCH_DIR/" 'index($0, d) == 1' | sort -r | while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m" || true
		done
	fi
	remove_stores
	rm -rf "$XDG"
}

if [[ -e $BENCH_DIR/registry/registry.pid ]]; then
	hack/registry.sh stop "$BENCH_DIR/registry"
fi
teardown
rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR/registry"

ADDR=$(hack/registry.sh start "$BENCH_DIR/registry")
trap 'set +e; hack/registry.sh stop "$BENCH_DIR/registry"; rm -rf "$BENCH_DIR/registry/storage"; teardown' EXIT

mkdir -p "$BENCH_DIR/conf" "$BENCH_DIR/results" "$BENCH_DIR"/store-{skiff,podman,skopeo} "$XDG"
chmod 0700 "$XDG"
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
if [[ $ROOT == yes ]]; then
	chown -R "$BENCH_USER:" "$BENCH_DIR/conf" "$BENCH_DIR/results" "$BENCH_DIR"/store-* "$XDG"
	chmod 0755 "$BENCH_DIR"
	# Root's stores, made after the chown: they stay root's.
	mkdir -p "$BENCH_DIR"/store-{rootskiff,rootpodman}
	storage_conf rootskiff store-rootskiff no
	storage_conf rootpodman store-rootpodman no
	# Root podman's tmp dir (alive lock, exit files, events) is the bench's too.
	printf '[engine]\ntmp_dir = "%s"\n' "$BENCH_DIR/store-rootpodman/tmp" >"$BENCH_DIR/conf/containers-rootpodman.conf"
fi

log "registry at $ADDR, work dir $BENCH_DIR, rootless as $WHO"
# Guard against measuring (and filling) the user's real store by mistake.
got=$(as podman podman info --format '{{.Store.GraphRoot}}' 2>/dev/null)
[[ $got == "$BENCH_DIR/store-podman/graph" ]] || die "podman uses graph root '$got', not $BENCH_DIR/store-podman/graph"
skopeo copy -q --dest-tls-verify=false "oci:$OUT/bench-big:latest" "docker://$ADDR/skiff/big:latest" >/dev/null
BIG_REF=$ADDR/skiff/big:latest
BIG_BYTES=$(skopeo inspect --raw --tls-verify=false "docker://$BIG_REF" | jq '[.layers[].size] | add')
BIG_LAYERS=$(skopeo inspect --raw --tls-verify=false "docker://$BIG_REF" | jq '.layers | length')
IMG=$ADDR/skiff/busybox:latest
skopeo copy -q --dest-tls-verify=false "oci:$OUT/busybox:latest" "docker://$IMG" >/dev/null

# Which skiff commands exist? "n/a" rows are those that do not. An unknown
# verb's --help prints the top-level help and exits 0: look for the verb's own
# usage line.
skiff_has() {
	[[ -x $SKIFF ]] && as skiff "$SKIFF" "$1" --help 2>/dev/null | grep -qE "^ +$(basename "$SKIFF") $1 "
}

# first_error LOG: the first line of the error in LOG (its first "Error:"
# line, else its first line), without "Error: ", cut to fit a table cell.
first_error() {
	local line
	line=$(grep -m1 '^Error:' "$1" 2>/dev/null || grep -m1 . "$1" 2>/dev/null || true)
	line=${line#Error: }
	[[ -n $line ]] || line="no error message"
	echo "${line:0:70}"
}

# try TOOL NAME CMD...: run CMD untimed as TOOL, output to results/NAME.log; on
# failure, set FAILED to "fails: <first line of the error>" and return 1.
FAILED=
try() {
	local t=$1 log=$BENCH_DIR/results/$2.log
	shift 2
	if as "$t" timeout "$TIMEOUT" "$@" >>"$log" 2>&1; then
		return 0
	fi
	FAILED="fails: $(first_error "$log")"
	log "$*: $FAILED (see $log)"
	return 1
}

# bench NAME RUNS [hyperfine options...] -- CMD: time CMD as NAME's tool (the
# part of NAME before the first dash). Prints the median in seconds over all of
# hyperfine's results (one per parameter value with --parameter-scan, which
# then gets no warmup), or "fails: <first line of the error>".
bench() {
	local name=$1 runs=$2
	shift 2
	local opts=() warmup=(--warmup 1)
	while [[ $1 != -- ]]; do
		[[ $1 != --parameter-scan ]] || warmup=()
		opts+=("$1")
		shift
	done
	shift
	local tool=${name%%-*}
	local json=$BENCH_DIR/results/$name.json log=$BENCH_DIR/results/$name.log
	local cmd rc=0
	cmd=$(printf '%q ' "$@")
	cmd=${cmd//\\\{k\\\}/\{k\}} # keep hyperfine's parameter placeholder
	as "$tool" timeout "$TIMEOUT" hyperfine -N --style none "${warmup[@]}" --runs "$runs" "${opts[@]}" \
		--export-json "$json" "$cmd" >"$log" 2>&1 || rc=$?
	if [[ $rc -eq 0 ]]; then
		jq -r '[.results[].times[]] | sort | if length % 2 == 1 then .[(length - 1) / 2]
			else (.[length / 2 - 1] + .[length / 2]) / 2 end' "$json"
		return
	fi
	if [[ $rc -eq 124 ]]; then
		log "$name: timed out after ${TIMEOUT}s; see $log"
		echo "fails: timed out after ${TIMEOUT}s"
		return
	fi
	# Run it once more, untimed, to show why it failed.
	local again=("${@//\{k\}/1}")
	if try "$tool" "$name-again" "${again[@]}"; then
		FAILED="fails: $(grep -m1 -o 'Command terminated with.*code: [0-9]*' "$log" || echo "see $log")"
	fi
	log "$name failed; see $log"
	echo "$FAILED"
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

# --- containers ------------------------------------------------------------------
# Every container row uses IMG (busybox) with --network none. A tool whose
# store could not get IMG has that error in every container cell (E[tool]).
declare -A E=()
for t in skiff podman; do
	if [[ $t == skiff ]] && ! skiff_has pull; then
		E[$t]=n/a
	elif ! try "$t" "$t-img-pull" "$(bin "$t")" pull -q "$IMG"; then
		E[$t]=$FAILED
	fi
done

# rm_all TOOL: remove all of TOOL's containers (between rows, untimed).
rm_all() {
	as "$1" timeout "$TIMEOUT" "$(bin "$1")" rm -a -f -t 0 >>"$BENCH_DIR/results/$1-rm.log" 2>&1 ||
		log "$1 rm -a -f failed; see $BENCH_DIR/results/$1-rm.log"
}

# ctr_row KEY VERB FUNCTION ARGS...: T[KEY_tool] for skiff and podman: E[tool]
# when the tool has no image, n/a when skiff lacks VERB, else FUNCTION's output
# (called with the tool and its binary first).
ctr_row() {
	local key=$1 verb=$2 fn=$3 t
	shift 3
	for t in podman skiff; do
		if [[ -n ${E[$t]:-} ]]; then
			T[${key}_$t]=${E[$t]}
		elif [[ $t == skiff ]] && ! skiff_has "$verb"; then
			T[${key}_$t]=
		else
			T[${key}_$t]=$("$fn" "$t" "$(bin "$t")" "$@")
			rm_all "$t"
		fi
	done
}

# (d) run --rm, rootless
time_run() { bench "$1-run" "$RUNS" -- "$2" run --rm --network none "$IMG" true; }
log "timing: run --rm (rootless)"
ctr_row run run time_run

# (e) create; the created containers are removed afterwards
time_create() { bench "$1-create" "$RUNS" -- "$2" create --network none "$IMG" true; }
log "timing: create"
ctr_row create create time_create

# (f) start -a: RUNS containers created beforehand, each started once (one
# more, started untimed first, checks that it works and warms the caches).
time_start() {
	local t=$1 b=$2 k
	for k in $(seq 0 "$RUNS"); do
		try "$t" "$t-start-prep" "$b" create --name "bench-start-$k" --network none "$IMG" true || { echo "$FAILED"; return; }
	done
	try "$t" "$t-start-prep" "$b" start -a bench-start-0 || { echo "$FAILED"; return; }
	bench "$t-start" 1 --parameter-scan k 1 "$RUNS" -- "$b" start -a "bench-start-{k}"
}
log "timing: start -a"
ctr_row start start time_start

# (g) CONC concurrent run --rm: wall time of the whole batch
time_batch() {
	bench "$1-batch" "$BATCH_RUNS" -- sh -c "seq $CONC | xargs -P$CONC -I{} $2 run --rm --network none $IMG true"
}
log "timing: $CONC concurrent run --rm"
ctr_row batch run time_batch

# (h) ps -a with N containers, for each N in PS_COUNTS (ascending: each store
# is topped up with `create`, CREATE_JOBS at a time). The containers are named:
# with ~1000 random names from the ~25k adjective_surname pairs, parallel
# creates are sure to draw the same name twice, which is not what this row
# measures.
time_ps() {
	local t=$1 b=$2 n=$3 runs=$4 have
	have=$(as "$t" "$b" ps -aq 2>/dev/null | wc -l)
	if ((n > have)); then
		local t0=$SECONDS
		seq $((have + 1)) "$n" | as "$t" xargs -P"$CREATE_JOBS" -I{} "$b" create --name "bench-ps-{}" --network none "$IMG" true \
			>/dev/null 2>>"$BENCH_DIR/results/$t-ps-fill.log" || { echo "fails: $(first_error "$BENCH_DIR/results/$t-ps-fill.log")"; return; }
		log "$t: created $((n - have)) containers in $((SECONDS - t0)) s"
	fi
	have=$(as "$t" "$b" ps -aq 2>/dev/null | wc -l)
	[[ $have -eq $n ]] || { echo "fails: ps -aq lists $have of $n containers"; return; }
	bench "$t-ps$n" "$runs" -- "$b" ps -a
}
PS_LIST=$(tr " " "\n" <<<"$PS_COUNTS" | { grep . || true; } | sort -n | uniq | tr "\n" " ")
for t in podman skiff; do
	for n in $PS_LIST; do
		runs=$RUNS
		((n <= 100)) || runs=$PS_BIG_RUNS
		log "timing: $t ps -a with $n containers"
		if [[ -n ${E[$t]:-} ]]; then
			T[ps${n}_$t]=${E[$t]}
		elif [[ $t == skiff ]] && ! { skiff_has ps && skiff_has create; }; then
			T[ps${n}_$t]=
		else
			T[ps${n}_$t]=$(time_ps "$t" "$(bin "$t")" "$n" "$runs")
		fi
	done
	[[ -n ${E[$t]:-} ]] || rm_all "$t"
done

# (i) memory: VmRSS of the process that babysits one running `sleep 1000`
# container (skiff-shim, conmon), found by inspect's State.ConmonPid. Prints
# kB; the PSS goes to results/TOOL-mem.pss.
mem_rss() {
	local t=$1 b=$2 pid comm
	try "$t" "$t-mem" "$b" run -d --name bench-sleep --network none "$IMG" sleep 1000 || { echo "$FAILED"; return; }
	sleep 2 # let it settle after the start
	pid=$(as "$t" "$b" inspect --format '{{.State.ConmonPid}}' bench-sleep 2>>"$BENCH_DIR/results/$t-mem.log") || true
	if [[ ! $pid =~ ^[1-9][0-9]*$ || ! -r /proc/$pid/status ]]; then
		echo "fails: no live ConmonPid (got '$pid')"
		return
	fi
	comm=$(cat "/proc/$pid/comm")
	log "$t: container babysitter is pid $pid ($comm)"
	awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup" >"$BENCH_DIR/results/$t-mem.pss" 2>/dev/null || true
	echo "$comm" >"$BENCH_DIR/results/$t-mem.comm"
	awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"
}
log "measuring: shim/conmon memory"
ctr_row mem inspect mem_rss

# (j) rootful run (root only). Root podman fails on this host with its default
# rlimits: crun cannot raise RLIMIT_NOFILE/NPROC without CAP_SYS_RESOURCE.
# Try --ulimit host, then containers.conf default_ulimits with the limits that
# skiff's container gets (so both containers run with the same limits).
ROOT_NOTE=
T[rootrun_skiff]=
T[rootrun_podman]=
T[floor]=
if [[ $ROOT == no ]]; then
	T[rootrun_skiff]="n/a (not root)"
	T[rootrun_podman]="n/a (not root)"
	T[floor]="n/a (not root)"
else
	log "timing: run --rm (rootful)"
	rootskiff_ok=no
	if ! skiff_has pull; then
		T[rootrun_skiff]=
	elif ! try rootskiff rootskiff-img-pull "$SKIFF" pull -q "$IMG"; then
		T[rootrun_skiff]=$FAILED
	else
		rootskiff_ok=yes
		skiff_has run && T[rootrun_skiff]=$(bench rootskiff-run "$RUNS" -- "$SKIFF" run --rm --network none "$IMG" true)
	fi
	if ! try rootpodman rootpodman-img-pull podman pull -q "$IMG"; then
		T[rootrun_podman]=$FAILED
	elif try rootpodman rootpodman-probe podman run --rm --network none "$IMG" true; then
		T[rootrun_podman]=$(bench rootpodman-run "$RUNS" -- podman run --rm --network none "$IMG" true)
	else
		plain=$FAILED
		[[ $plain != *setrlimit* && $plain != *rlimit* ]] || plain="fails (rlimits)"
		T[rootrun_podman]=$plain
		if try rootpodman rootpodman-probe-host podman run --rm --network none --ulimit host "$IMG" true; then
			T[rootrun_podman]=$(bench rootpodman-run "$RUNS" -- podman run --rm --network none --ulimit host "$IMG" true)
			ROOT_NOTE="root podman run $plain with its default rlimits here; timed with --ulimit host"
		else
			limits=
			if [[ $rootskiff_ok == yes ]]; then
				limits=$(as rootskiff "$SKIFF" run --rm --network none "$IMG" \
					sh -c 'echo "$(ulimit -Sn):$(ulimit -Hn) $(ulimit -Su):$(ulimit -Hu)"' 2>/dev/null || true)
			fi
			[[ $limits =~ ^[0-9]+:[0-9]+\ [0-9]+:[0-9]+$ ]] ||
				limits="$(ulimit -Sn):$(ulimit -Hn) $(cat /proc/sys/kernel/pid_max):$(cat /proc/sys/kernel/pid_max)"
			read -r nofile nproc <<<"$limits"
			printf '[containers]\ndefault_ulimits = ["nofile=%s", "nproc=%s"]\n' "$nofile" "$nproc" \
				>>"$BENCH_DIR/conf/containers-rootpodman.conf"
			if try rootpodman rootpodman-probe-conf podman run --rm --network none "$IMG" true; then
				T[rootrun_podman]=$(bench rootpodman-run "$RUNS" -- podman run --rm --network none "$IMG" true)
				ROOT_NOTE="root podman run $plain with its default rlimits here, and with --ulimit host;
    timed with containers.conf default_ulimits = [\"nofile=$nofile\", \"nproc=$nproc\"] (the limits skiff's container gets)"
			else
				ROOT_NOTE="root podman run $plain here, also with --ulimit host and with containers.conf
    default_ulimits = [\"nofile=$nofile\", \"nproc=$nproc\"]; see $BENCH_DIR/results/rootpodman-probe*.log"
			fi
		fi
	fi

	# (k) the floor: `crun run` as root of a bundle made of the image's rootfs
	# (skiff export) and the config.json skiff generated for a running
	# container (inspect gives OCIConfigPath for running ones), with its args
	# set to `true` and its run-dir bind mounts (hosts, hostname, resolv.conf)
	# copied into the bundle.
	log "timing: bare crun run (root)"
	floor() {
		local b=$BENCH_DIR/store-floor cfg rd f
		try rootskiff rootcrun-prep "$SKIFF" run -d --name bench-floor-src --network none "$IMG" sleep 1000 || { echo "$FAILED"; return; }
		cfg=$(as rootskiff "$SKIFF" inspect --format '{{.OCIConfigPath}}' bench-floor-src 2>/dev/null || true)
		[[ -f $cfg ]] || { echo "fails: no OCIConfigPath (got '$cfg')"; return; }
		rd=$(dirname "$cfg")/
		mkdir -p "$b/rootfs" "$b/files"
		as rootskiff "$SKIFF" export bench-floor-src | tar -x -C "$b/rootfs" || { echo "fails: skiff export | tar -x"; return; }
		for f in $(jq -r --arg rd "$rd" '.mounts[].source | select(startswith($rd))' "$cfg"); do
			cp "$f" "$b/files/"
		done
		jq --arg rd "$rd" --arg files "$b/files/" --arg cg "/libpod_parent/skiff-bench-floor-$$" '
			.root.path = "rootfs" | .process.args = ["true"] | .process.terminal = false |
			if .linux.cgroupsPath then .linux.cgroupsPath = $cg else . end |
			.mounts |= map(if (.source | startswith($rd)) then .source = $files + (.source | ltrimstr($rd)) else . end)
		' "$cfg" >"$b/config.json"
		cp "$cfg" "$BENCH_DIR/results/floor-skiff-config.json"
		as rootskiff "$SKIFF" rm -f -t 0 bench-floor-src >/dev/null 2>&1 || true
		try rootcrun rootcrun-probe crun run -b "$b" "skiff-bench-floor-$$" || { echo "$FAILED"; return; }
		bench rootcrun-floor "$RUNS" -- crun run -b "$b" "skiff-bench-floor-$$"
	}
	if [[ $rootskiff_ok == yes ]] && skiff_has run && skiff_has inspect && skiff_has export; then
		T[floor]=$(floor)
	fi
	rm_all rootskiff
	rm_all rootpodman
fi

# --- table ---------------------------------------------------------------------
isnum() { [[ ${1:-} =~ ^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$ ]]; }
# SIG2: awk's sig2(x), x to 2 significant digits, trailing zeros kept ("0.70", "1.0", "120").
SIG2='function sig2(x,  d) { if (x <= 0) return sprintf("%g", x); x = sprintf("%.2g", x) + 0
	d = 1 - int(log(x) / log(10) + 100) + 100; return sprintf("%." (d > 0 ? d : 0) "f", x) }'
fmt() { # [kb] value -> 2 significant digits: "12 ms" / "1.4 s" / "3.4 MiB"; text as is; "" -> n/a
	local unit=s
	[[ $1 != kb ]] || { unit=kb; shift; }
	[[ -n ${1:-} ]] || { echo n/a; return; }
	isnum "$1" || { echo "$1"; return; }
	awk -v v="$1" -v u="$unit" "$SIG2"'BEGIN {
		if (u == "kb") { printf "%s MiB", sig2(v / 1024); exit }
		if (sprintf("%.2g", v) + 0 >= 1) printf "%s s", sig2(v); else printf "%s ms", sig2(v * 1000)
	}'
}
ratio() { # a b -> "0.31x" or "n/a"
	isnum "${1:-}" && isnum "${2:-}" || { echo n/a; return; }
	awk -v a="$1" -v b="$2" "$SIG2"'BEGIN { printf "%sx", sig2(a / b) }'
}
verdict() { # a b max -> met / MISSED / -
	isnum "${1:-}" && isnum "${2:-}" && [[ -n ${3:-} ]] || { echo -; return; }
	awk -v a="$1" -v b="$2" -v m="$3" 'BEGIN { print (a / b <= m ? "met" : "MISSED") }'
}

LINE='%-34s %10s %11s %11s %7s  %-18s %s\n'
row() { # [kb] label, skiff, podman, other, ratio-base, target label, target max
	local k=()
	[[ $1 != kb ]] || { k=(kb); shift; }
	local other=-
	[[ -z $4 ]] || other=$(fmt "${k[@]}" "$4")
	printf "$LINE" "$1" "$(fmt "${k[@]}" "$2")" "$(fmt "${k[@]}" "$3")" "$other" \
		"$(ratio "$2" "$5")" "$6" "$(verdict "$2" "$5" "$7")"
}

CONTAINERS_FILLED=$PS_LIST
echo
echo "skiff vs podman, rootless as $WHO unless marked rootful, medians of hyperfine runs ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "skiff: $SKIFF$([[ -x $SKIFF ]] || echo ' (not built)')"
echo "podman: $(podman version --format '{{.Client.Version}}' 2>/dev/null), skopeo: $(skopeo --version | awk '{print $3}'), crun: $(crun --version | awk 'NR == 1 {print $3}')"
echo
printf "$LINE" benchmark skiff podman skopeo/crun ratio target result
row "version" "${T[version_skiff]}" "${T[version_podman]}" "" "${T[version_podman]}" "<= 0.33x podman" 0.3334
row "images ($NIMAGES images)" "${T[images_skiff]}" "${T[images_podman]}" "" "${T[images_podman]}" "<= 0.20x podman" 0.20
row "pull ($((BIG_BYTES >> 20)) MiB, $BIG_LAYERS layers)" "${T[pull_skiff]}" "${T[pull_podman]}" "${T[pull_skopeo]}" \
	"${T[pull_skopeo]}" "<= 1.10x skopeo" 1.10
row "run --rm (rootless)" "${T[run_skiff]}" "${T[run_podman]}" "" "${T[run_podman]}" "<= 0.20x podman" 0.20
rootpodman_cell=${T[rootrun_podman]}
[[ -z $ROOT_NOTE ]] || ! isnum "$rootpodman_cell" || rootpodman_cell="$(fmt "$rootpodman_cell") [1]"
printf "$LINE" "run --rm (rootful)" "$(fmt "${T[rootrun_skiff]}")" "$rootpodman_cell" - \
	"$(ratio "${T[rootrun_skiff]}" "${T[rootrun_podman]}")" "<= 0.20x podman" \
	"$(verdict "${T[rootrun_skiff]}" "${T[rootrun_podman]}" 0.20)"
row "create (rootless)" "${T[create_skiff]}" "${T[create_podman]}" "" "${T[create_podman]}" "<= 0.20x podman" 0.20
row "start -a (rootless, $RUNS ctrs)" "${T[start_skiff]}" "${T[start_podman]}" "" "${T[start_podman]}" "(none)" ""
for n in $CONTAINERS_FILLED; do
	row "ps -a ($n containers)" "${T[ps${n}_skiff]}" "${T[ps${n}_podman]}" "" "${T[ps${n}_podman]}" "<= 0.10x podman" 0.10
done
row "$CONC concurrent run --rm (batch)" "${T[batch_skiff]}" "${T[batch_podman]}" "" "${T[batch_podman]}" "<= 0.33x podman" 0.3334
row kb "shim RSS (skiff-shim vs conmon)" "${T[mem_skiff]}" "${T[mem_podman]}" "" "${T[mem_podman]}" "<= 2.0x conmon" 2.0
row "run --rm vs bare crun (rootless)" "${T[run_skiff]}" - "${T[floor]}" "${T[floor]}" "<= 2.5x crun" 2.5
row "run --rm vs bare crun (rootful)" "${T[rootrun_skiff]}" - "${T[floor]}" "${T[floor]}" "<= 2.5x crun" 2.5
echo
echo "ratio = skiff / podman; pull: skiff / skopeo copy to containers-storage; bare crun: skiff run / \`crun run\` as root"
echo "of a bundle with the busybox rootfs and the config.json skiff generated (root's, args set to true)."
echo "Containers run busybox with --network none. start -a: median over $RUNS created containers, one start each."
pss() { local v; v=$(cat "$BENCH_DIR/results/$1-mem.pss" 2>/dev/null) && fmt kb "$v" || echo n/a; }
echo "Memory: VmRSS of State.ConmonPid ($(cat "$BENCH_DIR/results/skiff-mem.comm" 2>/dev/null || echo '?') vs $(cat "$BENCH_DIR/results/podman-mem.comm" 2>/dev/null || echo '?')) of a running sleep container;"
echo "  PSS (shared pages split): skiff $(pss skiff), podman $(pss podman)."
[[ -z $ROOT_NOTE ]] || echo "[1] $ROOT_NOTE"
echo "Both tools get a private XDG_RUNTIME_DIR ($XDG), as a login session would give them: without one,"
echo "  podman 4.3 re-executes itself on every call to join its namespace (about +100 ms here)."
echo "The host is shared: figures are noisy. Raw results in $BENCH_DIR/results; whole bench took $((SECONDS / 60)) min $((SECONDS % 60)) s."
