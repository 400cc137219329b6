#!/usr/bin/env bash
# `make demo`: as the rootless user skiffuser, pull the local test image from
# its OCI layout, name it, list images, and run a container if skiff can.
# Run as root after hack/setup.sh, `make build` and `make testimage`.
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)
# SKIFF_DEMO_BINARY=podman shows what podman does with the same steps.
SKIFF=$(command -v "${SKIFF_DEMO_BINARY:-$REPO/bin/skiff}" || true)
LAYOUT=$REPO/test/testimage/out/busybox
NAME=localhost/skiff/busybox:latest
DEMO_USER=${DEMO_USER:-skiffuser}

[[ -n $SKIFF && -x $SKIFF ]] || { echo "demo: ${SKIFF_DEMO_BINARY:-bin/skiff} is not built (run: make build)" >&2; exit 1; }
[[ -f $LAYOUT/index.json ]] || { echo "demo: no test image at $LAYOUT (run: make testimage)" >&2; exit 1; }

# A clean login-like environment, as a user would have after `su -`; note that
# there is no XDG_RUNTIME_DIR, as with su/runuser on this host.
as_user() {
	runuser -u "$DEMO_USER" -- env -i HOME="/home/$DEMO_USER" PATH=/usr/local/bin:/usr/bin:/bin \
		USER="$DEMO_USER" LOGNAME="$DEMO_USER" "$@"
}

if [[ -t 1 ]]; then
	step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
else
	step() { printf '\n==> %s\n' "$*"; }
fi
show() {
	echo "$DEMO_USER\$ $(basename "$SKIFF") ${*}"
	as_user "$SKIFF" "$@"
}

# The image ID is the config digest, known in advance from the layout.
manifest=$(jq -r '.manifests[0].digest' "$LAYOUT/index.json")
want_id=$(jq -r '.config.digest' "$LAYOUT/blobs/sha256/${manifest#sha256:}")
want_id=${want_id#sha256:}

echo "demo: running $SKIFF as $DEMO_USER"

step "pull the test image from its OCI layout (no registry, no network)"
echo "$DEMO_USER\$ $(basename "$SKIFF") pull oci:$LAYOUT:latest"
out=$(as_user "$SKIFF" pull "oci:$LAYOUT:latest")
echo "$out"
id=$(tail -n 1 <<<"$out")
if [[ ! $id =~ ^[0-9a-f]{64}$ ]]; then
	id=$want_id
elif [[ $id != "$want_id" ]]; then
	echo "demo: warning: pull printed image ID $id, the layout's config digest is $want_id" >&2
fi

step "give it a short name (a pull from an oci: dir is named after the dir)"
show tag "$id" "$NAME"

step "list images"
show images

step "run a container"
# An unknown verb's --help prints the top-level help and exits 0, so look for
# run's own usage line.
if as_user "$SKIFF" run --help 2>/dev/null | grep -qE "^ +$(basename "$SKIFF") run "; then
	show run --rm "$NAME" echo hello from skiff
else
	echo "demo: this skiff has no 'run' command yet; skipping the container step"
fi

printf '\ndemo: done: pulled %s as %s (ID %.12s) in %s'\''s rootless store\n' "oci:$LAYOUT:latest" "$NAME" "$id" "$DEMO_USER"
