#!/usr/bin/env bash
# Runs Debian's docker-registry (distribution 2.x) on loopback for benchmarks
# and manual tests. Plain HTTP, no auth, storage under DIR.
#
#   hack/registry.sh start DIR   # prints the address, e.g. 127.0.0.1:5000
#   hack/registry.sh stop DIR
#   hack/registry.sh addr DIR    # address of the running registry
#
# REGISTRY_ADDR picks the address (default 127.0.0.1:5000). When it is unset
# and 5000 is taken by someone else's process, the first free port in
# 5000-5019 is used instead; the address is kept in DIR/registry.addr.
# Both commands are idempotent.
set -euo pipefail

die() { echo "registry.sh: $*" >&2; exit 1; }

usage() { die "usage: $0 start|stop|addr DIR"; }
[[ $# -eq 2 ]] || usage
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)
pidfile=$dir/registry.pid
addrfile=$dir/registry.addr
config=$dir/registry.yml

# running prints our registry's pid if it is alive.
running() {
	local pid
	[[ -s $pidfile ]] || return 1
	pid=$(<"$pidfile")
	[[ -r /proc/$pid/cmdline ]] || return 1
	# Guard against a recycled pid: it must be our registry with our config.
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "docker-registry serve $config" || return 1
	echo "$pid"
}

port_busy() { [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]; }

answers() { curl -sf -o /dev/null --max-time 2 "http://$1/v2/"; }

start() {
	if pid=$(running) && [[ -s $addrfile ]]; then
		cat "$addrfile"
		return 0
	fi
	command -v docker-registry >/dev/null || die "docker-registry is not installed (run hack/setup.sh)"
	local addr=${REGISTRY_ADDR:-}
	if [[ -z $addr ]]; then
		for port in $(seq 5000 5019); do
			port_busy "$port" || { addr=127.0.0.1:$port; break; }
		done
		[[ -n $addr ]] || die "no free port in 127.0.0.1:5000-5019; set REGISTRY_ADDR"
		[[ $addr == 127.0.0.1:5000 ]] || echo "registry.sh: 127.0.0.1:5000 is in use, using $addr" >&2
	elif port_busy "${addr##*:}"; then
		die "$addr is already in use by another process; set REGISTRY_ADDR to a free address"
	fi
	mkdir -p "$dir/storage"
	cat >"$config" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: $addr
EOF
	echo "$addr" >"$addrfile"
	# setsid: the registry must outlive this script and not get its signals.
	setsid docker-registry serve "$config" </dev/null >>"$dir/registry.log" 2>&1 &
	echo $! >"$pidfile"
	for _ in $(seq 100); do
		if answers "$addr"; then
			echo "$addr"
			return 0
		fi
		running >/dev/null || break
		sleep 0.1
	done
	tail -n 20 "$dir/registry.log" >&2 || true
	stop
	die "registry did not answer on http://$addr/v2/ (log: $dir/registry.log)"
}

stop() {
	local pid
	if pid=$(running); then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			[[ -d /proc/$pid ]] || break
			sleep 0.1
		done
		[[ ! -d /proc/$pid ]] || kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$pidfile"
}

case $cmd in
start) start ;;
stop) stop ;;
addr)
	running >/dev/null || die "no registry running for $dir"
	cat "$addrfile"
	;;
*) usage ;;
esac
