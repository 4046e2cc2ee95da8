# shellcheck shell=bash
# scripts/lib/notes.sh — the tests of examples/notes, the host program built on Gatehouse's
# public API (sourced by scripts/test). examples/notes is a module of its own (with a replace
# directive to this checkout), so the root's ./... does not reach it: this step runs its checks
# and its tests, on the same engines as the rest (the GATEHOUSE_TEST_* variables are inherited,
# GATEHOUSE_TEST_REQUIRE included, so a missing engine fails here too).

# notes_check [LINT] — gofmt, go vet and go test -race of examples/notes; with LINT (the path of
# golangci-lint) it also lints the module with the repository's configuration. The run's
# arguments after -- (extra), -run pattern and timeout are not passed: the module is small.
notes_check() {
	local lint=${1:-} root rc=0 files
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	(
		cd "$root/examples/notes" || exit 1
		files=$("$(go env GOROOT)/bin/gofmt" -l .) || exit 1
		if [ -n "$files" ]; then
			echo "gofmt: these files need formatting (run gofmt -w):"
			echo "$files"
			exit 1
		fi
		go vet ./... || exit 1
		if [ -n "$lint" ]; then
			"$lint" run --timeout 10m --config "$root/.golangci.yml" ./... || exit 1
		fi
		go test -race -count=1 -timeout 15m ./...
	) || rc=$?
	return $rc
}
