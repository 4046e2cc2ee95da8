# shellcheck shell=bash
# scripts/lib/hardening.sh — the short fuzz run of scripts/test (sourced; defines fuzz_short).
#
# Every parser of untrusted input has a go test -fuzz target (see docs/security.md). go test runs
# one fuzz target of one package per invocation, so each runs on its own for FUZZTIME (default
# 3s): with the seed corpora (f.Add seeds and testdata/fuzz/) this finds regressions quickly, and
# the whole step stays around a minute. A failing input is written under the package's
# testdata/fuzz/<Target>/ by go test: commit it with the fix, and it becomes a seed for good.

# FUZZ_TARGETS lists "package target" pairs. Keep it in step with the Fuzz* functions (the step
# fails if a Fuzz function exists that is not listed, so that a new parser is not forgotten).
FUZZ_TARGETS=(
	"./rest FuzzDecode"
	"./rest FuzzParsePage"
	"./rest FuzzCheckIfMatch"
	"./internal/httpapi FuzzRedactedURI"
	"./internal/httpapi FuzzStringifyIDs"
	"./internal/auth FuzzValidateEmail"
	"./internal/auth FuzzAPIKeyFormat"
	"./internal/auth FuzzOneTimeSecret"
	"./internal/username FuzzCheck"
	"./internal/token FuzzVerify"
	"./internal/sso FuzzSAMLPrecheck"
	"./internal/sso FuzzOIDCCallbackInputs"
	"./internal/sso FuzzFlowCookie"
	". FuzzDisplayTextProblem"
)

fuzz_short() {
	local fuzztime=${FUZZTIME:-3s} entry pkg target rc=0 listed found
	# Every Fuzz function in the repository must be listed above.
	listed=$(printf '%s\n' "${FUZZ_TARGETS[@]}" | awk '{print $2}' | sort -u)
	found=$(grep -rhoE --include='*_test.go' '^func (Fuzz[A-Za-z0-9_]+)\(' . | sed 's/^func //; s/($//' | sort -u)
	if [ "$listed" != "$found" ]; then
		echo "fuzz targets in the code and in scripts/lib/hardening.sh differ:" >&2
		diff <(echo "$listed") <(echo "$found") >&2
		rc=1
	fi
	for entry in "${FUZZ_TARGETS[@]}"; do
		read -r pkg target <<<"$entry"
		echo "fuzz $pkg $target for $fuzztime"
		# -run '^$' skips the package's ordinary tests (the go test step runs those).
		run go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" || rc=1
	done
	return $rc
}
