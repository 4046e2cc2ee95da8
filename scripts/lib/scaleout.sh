# shellcheck shell=bash
#
# scripts/lib/scaleout.sh — the destructive step of scripts/test: the tests that restart or kill
# database servers and Gatehouse processes (TestGaleraNodeKill*, TestDestructive*), after every
# other test, one package at a time. The scale-out test (internal/scaleout) runs Debian's
# haproxy on deploy/haproxy/*.cfg; this installs it when it is missing.

# scaleout_ensure_haproxy — apt-get install haproxy unless it is installed.
scaleout_ensure_haproxy() {
	if command -v haproxy >/dev/null 2>&1; then
		haproxy -v | head -n 1
		return 0
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "haproxy is missing and this is not root: apt-get install haproxy" >&2
		return 1
	fi
	echo "installing haproxy with apt-get"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null 2>&1 || {
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || return 1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null || return 1
	}
	haproxy -v | head -n 1
}

# go_test_destructive — haproxy, then go_test_galera_kill (scripts/test) with
# GATEHOUSE_TEST_GALERA_KILL=1 and GATEHOUSE_TEST_DESTRUCTIVE=1.
go_test_destructive() {
	scaleout_ensure_haproxy || return 1
	go_test_galera_kill
}
