#!/usr/bin/env bash
# Prepares this host for building, testing and benchmarking skiff.
# Run as root. Idempotent: a second run does nothing and prints nothing.
# See README.md ("Host prerequisites") for why each step exists.
set -euo pipefail

say() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (try: sudo $0)"

# --- Debian packages ---------------------------------------------------------
PACKAGES=(
	crun runc fuse-overlayfs slirp4netns passt uidmap catatonit docker-registry
	busybox-static bats podman skopeo libseccomp-dev pkg-config gcc make git
	iptables hyperfine procps psmisc util-linux curl jq apache2-utils
)

missing=()
# One dpkg-query for all packages keeps the no-op run fast.
declare -A have=()
while read -r pkg status; do
	[[ $status == "install ok installed" ]] && have[$pkg]=1
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
for p in "${PACKAGES[@]}"; do
	[[ -n ${have[$p]:-} ]] || missing+=("$p")
done
if ((${#missing[@]})); then
	say "installing missing packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Go toolchain ------------------------------------------------------------
GO=
if [[ -x /usr/local/go/bin/go ]]; then
	GO=/usr/local/go/bin/go
elif command -v go >/dev/null 2>&1; then
	GO=$(command -v go)
fi
[[ -n $GO ]] || die "Go >= 1.26 is required but no 'go' was found in /usr/local/go/bin or PATH"
gover=$(GOTOOLCHAIN=local "$GO" env GOVERSION 2>/dev/null || true) # e.g. go1.26.8
if [[ ! $gover =~ ^go([0-9]+)\.([0-9]+) ]] ||
	((BASH_REMATCH[1] < 1 || (BASH_REMATCH[1] == 1 && BASH_REMATCH[2] < 26))); then
	die "Go >= 1.26 is required, found '${gover:-unknown}' at $GO"
fi

# --- cgroups: hybrid layout vs crun ------------------------------------------
# On a v1 (tmpfs) layout with a cgroup2 tree at /sys/fs/cgroup/unified, crun
# 1.8 refuses to run when that v2 tree owns a controller (here: hugetlb, which
# no v1 hierarchy has claimed). Binding hugetlb to its own v1 hierarchy empties
# the v2 tree's controller list, and crun is happy with the hybrid layout.
if grep -q '^tmpfs /sys/fs/cgroup tmpfs' /proc/mounts &&
	grep -q ' /sys/fs/cgroup/unified cgroup2 ' /proc/mounts &&
	grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null &&
	! awk '$3 == "cgroup" && $4 ~ /(^|,)hugetlb(,|$)/ { found = 1 } END { exit !found }' /proc/mounts; then
	mkdir -p /sys/fs/cgroup/hugetlb
	if ! mountpoint -q /sys/fs/cgroup/hugetlb; then
		say "mounting the hugetlb controller as a cgroup v1 hierarchy (crun refuses a hybrid layout otherwise)"
		mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb ||
			say "warning: could not mount hugetlb v1 hierarchy; crun may refuse to run containers"
	fi
fi

# --- device nodes for rootless networking and fuse-overlayfs ------------------
# Without udev, /dev/net/tun and /dev/fuse stay 0600 root, so slirp4netns /
# pasta (tun) and fuse-overlayfs (fuse) fail for the rootless user.
if [[ ! -e /dev/net/tun ]]; then
	say "creating /dev/net/tun"
	mkdir -p /dev/net
	mknod -m 0666 /dev/net/tun c 10 200
fi
for dev in /dev/net/tun /dev/fuse; do
	[[ -c $dev ]] || continue
	if [[ $(stat -c %a "$dev") != 666 ]]; then
		say "chmod 0666 $dev"
		chmod 0666 "$dev"
	fi
done

# --- rootless test users -----------------------------------------------------
# skiffuser: the normal rootless user, with a 65536-id subordinate range.
# skiffnosub: no subuid/subgid lines at all, to test the single-mapping fallback.
for u in skiffuser skiffnosub; do
	if ! id -u "$u" >/dev/null 2>&1; then
		say "creating user $u"
		useradd -m -s /bin/bash "$u"
	fi
done
for f in /etc/subuid /etc/subgid; do
	[[ -e $f ]] || touch "$f"
	if ! grep -qx 'skiffuser:200000:65536' "$f"; then
		if grep -q '^skiffuser:' "$f"; then
			say "replacing skiffuser range in $f"
			sed -i '/^skiffuser:/d' "$f"
		else
			say "adding skiffuser:200000:65536 to $f"
		fi
		echo 'skiffuser:200000:65536' >>"$f"
	fi
	if grep -q '^skiffnosub:' "$f"; then
		say "removing skiffnosub from $f"
		sed -i '/^skiffnosub:/d' "$f"
	fi
done

# --- containers policy -------------------------------------------------------
if [[ ! -s /etc/containers/policy.json ]]; then
	say "writing default /etc/containers/policy.json"
	mkdir -p /etc/containers
	cat >/etc/containers/policy.json <<'EOF'
{
    "default": [
        {
            "type": "insecureAcceptAnything"
        }
    ],
    "transports": {
        "docker-daemon": {
            "": [
                {
                    "type": "insecureAcceptAnything"
                }
            ]
        }
    }
}
EOF
fi
exit 0
