# shellcheck shell=bash
# scripts/lib/deploy-ops.sh — the deployment artefacts step of scripts/test (sourced by it):
#
#   deploy_ops_check   installs what is missing of buildah, podman, runc, systemd, curl,
#                      kubernetes-client, python3-yaml and ca-certificates, then
#                      1. checks deploy/kubernetes offline (deploy/kubernetes/check.py and
#                         `kubectl kustomize`; `kubectl apply --dry-run=client` needs a server);
#                      2. checks deploy/systemd/gatehouse.service with `systemd-analyze verify`
#                         (any warning fails) and prints its `systemd-analyze security` score;
#                      3. builds the image (deploy/build-image, private vfs storage under a temp
#                         dir, no registry), prints its size (target <= 40 MB), runs it with podman
#                         on a loopback port with SQLite in a volume, checks the HEALTHCHECK, and
#                         signs in as the default admin (must change password, then sign in again).
#
# Bounded: every wait has a timeout; the container, its storage and the temp dir are removed
# at the end, also on failure.

DEPLOY_OPS_IMAGE=localhost/gatehouse:test

_dops_log() { printf '[deploy %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

_dops_packages() {
	local need=()
	command -v buildah >/dev/null || need+=(buildah)
	command -v podman >/dev/null || need+=(podman)
	command -v runc >/dev/null || need+=(runc)
	command -v systemd-analyze >/dev/null || need+=(systemd)
	command -v curl >/dev/null || need+=(curl)
	command -v kubectl >/dev/null || need+=(kubernetes-client)
	python3 -c 'import yaml' 2>/dev/null || need+=(python3-yaml)
	[ -e /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
	[ ${#need[@]} -eq 0 ] && return 0
	_dops_log "installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >/dev/null ||
		{ apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; }
}

_dops_manifests() {
	python3 deploy/kubernetes/check.py || return 1
	if command -v kubectl >/dev/null; then
		# `kubectl apply --dry-run=client` needs an API server for discovery; kustomize renders
		# and parses every object offline.
		kubectl kustomize deploy/kubernetes >/dev/null || return 1
		_dops_log "kubectl kustomize deploy/kubernetes: ok"
	fi
}

_dops_systemd() { # $1: a gatehouse binary
	local d=$1.unit out
	mkdir -p "$d"
	# verify insists that ExecStart's binary exists: point it at the one just built.
	sed "s|/usr/local/bin/gatehouse|$1|" deploy/systemd/gatehouse.service >"$d/gatehouse.service"
	out=$(cd "$d" && timeout 60 systemd-analyze verify ./gatehouse.service 2>&1) || { echo "$out"; return 1; }
	if [ -n "$out" ]; then
		echo "systemd-analyze verify reported:"
		echo "$out"
		return 1
	fi
	_dops_log "systemd-analyze verify deploy/systemd/gatehouse.service: ok"
	(cd "$d" && timeout 60 systemd-analyze security --offline=true ./gatehouse.service 2>/dev/null | tail -1) || true
}

# _dops_api METHOD URL [BEARER] [JSON] — prints "STATUS BODY".
_dops_api() {
	local args=(-sS --max-time 15 -o "$DOPS/body" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json')
	[ -z "${3:-}" ] || args+=(-H "Authorization: Bearer $3")
	[ -z "${4:-}" ] || args+=(--data "$4")
	printf '%s %s' "$(curl "${args[@]}" "$2")" "$(cat "$DOPS/body")"
}
_dops_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][sys.argv[1]])' "$1"; }

# The podman command line. What this needs on a machine without systemd as PID 1, found on the
# sandbox this was written on (a container itself: cgroup v1 + v2 "hybrid", no nested overlay):
#   private storage with the vfs driver (no overlay inside the container), cgroupfs and a file
#   for events (no systemd), runc (crun refuses "cgroups in hybrid mode"), and explicit ulimits
#   (podman's defaults, nofile 1048576, exceed the hard limit it runs under: EPERM in setrlimit).
_dops_podman_cmd() {
	DOPS_PODMAN=(podman --root "$DOPS/storage" --runroot "$DOPS/run" --storage-driver vfs
		--cgroup-manager cgroupfs --events-backend file --runtime runc)
}

_dops_container() { # $1: binary
	local p=("${DOPS_PODMAN[@]}")
	local port url r tok i size
	BUILDAH_OPTS="--root $DOPS/storage --runroot $DOPS/run --storage-driver vfs" GATEHOUSE_BINARY=$1 \
		deploy/build-image "$DEPLOY_OPS_IMAGE" || return 1
	size=$("${p[@]}" image inspect --format '{{.Size}}' "$DEPLOY_OPS_IMAGE")
	_dops_log "image size: $((size / 1000 / 1000)) MB ($size bytes; target <= 40 MB)"
	[ "$size" -le 40000000 ] || { echo "image larger than 40 MB"; return 1; }

	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	url=http://127.0.0.1:$port
	# Host network: no slirp4netns or bridge needed; the service listens on loopback only.
	# The image's HEALTHCHECK is run below with `podman healthcheck run`: the periodic one needs
	# systemd timers.
	"${p[@]}" run -d --name gatehouse-test --network host --read-only --health-interval disable \
		--ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
		-e HTTP_ADDR="127.0.0.1:$port" -e SECURITY_BCRYPT_COST=10 \
		-v gatehouse-test-data:/data "$DEPLOY_OPS_IMAGE" >/dev/null || return 1
	DOPS_CONTAINER=1
	for i in $(seq 1 120); do
		r=$(_dops_api GET "$url/readyz" 2>/dev/null) && [ "${r%% *}" = 200 ] && break
		[ "$("${p[@]}" inspect --format '{{.State.Running}}' gatehouse-test)" = true ] || break
		sleep 0.5
	done
	[ "${r%% *}" = 200 ] || { echo "container not ready: $r"; "${p[@]}" logs gatehouse-test | tail -20; return 1; }
	_dops_log "container ready on $url (image user $("${p[@]}" inspect --format '{{.Config.User}}' gatehouse-test))"
	"${p[@]}" healthcheck run gatehouse-test && _dops_log "HEALTHCHECK (gatehouse healthcheck): healthy" ||
		{ echo "healthcheck failed"; return 1; }

	r=$(_dops_api POST "$url/api/v1/auth/login" "" '{"email":"admin@localhost.local","password":"admin123"}')
	[ "${r%% *}" = 200 ] || { echo "login: $r"; return 1; }
	tok=$(echo "${r#* }" | _dops_field access_token)
	[ "$(echo "${r#* }" | _dops_field password_change_required)" = True ] || { echo "login: no password change required: $r"; return 1; }
	r=$(_dops_api POST "$url/api/v1/auth/password/change" "$tok" '{"current_password":"admin123","new_password":"container-test-Passw0rd-2026"}')
	[ "${r%% *}" = 200 ] || [ "${r%% *}" = 204 ] || { echo "password change: $r"; return 1; }
	r=$(_dops_api POST "$url/api/v1/auth/login" "" '{"email":"admin@localhost.local","password":"container-test-Passw0rd-2026"}')
	[ "${r%% *}" = 200 ] || { echo "login with the new password: $r"; return 1; }
	tok=$(echo "${r#* }" | _dops_field access_token)
	r=$(_dops_api GET "$url/api/v1/me" "$tok")
	[ "${r%% *}" = 200 ] || { echo "me: $r"; return 1; }
	_dops_log "signed in through the container as $(echo "${r#* }" | _dops_field email) (after the required password change)"
}

_dops_cleanup() {
	[ -n "${DOPS:-}" ] || return 0
	local p=("${DOPS_PODMAN[@]}") m
	if [ -n "${DOPS_CONTAINER:-}" ]; then
		timeout 60 "${p[@]}" rm -f -t 10 gatehouse-test >/dev/null ||
			echo "podman rm of the test container failed" >&2
		timeout 60 "${p[@]}" volume rm -f gatehouse-test-data >/dev/null
	fi
	timeout 120 "${p[@]}" system reset -f >/dev/null 2>&1
	# Mounts podman may have left behind (its shm), so that the directory can go.
	grep -F " $DOPS/" /proc/mounts | awk '{print $2}' | while read -r m; do umount "$m"; done
	rm -rf "$DOPS"
	DOPS= DOPS_CONTAINER=
}

deploy_ops_check() {
	local rc=0 bin
	_dops_packages || return 1
	DOPS=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-deploy.XXXXXX")
	_dops_podman_cmd
	_dops_manifests || rc=1
	bin=$DOPS/gatehouse
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$(git describe --always --dirty 2>/dev/null || echo dev)" \
		-o "$bin" ./cmd/gatehouse || { _dops_cleanup; return 1; }
	_dops_systemd "$bin" || rc=1
	_dops_container "$bin" || rc=1
	_dops_cleanup
	return $rc
}
