# shellcheck shell=bash
# scripts/lib/observability.sh — checks of deploy/prometheus and deploy/grafana (sourced by
# scripts/test). The Go test TestDashboardAndAlertMetrics (internal/app, in the go test step)
# checks that every metric they use is exported; this step checks the files themselves.

# promtool_path prints a promtool to use: the one on PATH, or the one from Debian's prometheus
# package, unpacked (not installed: installing would add a service and its user) into a cache
# directory on first use.
promtool_path() {
	if command -v promtool >/dev/null 2>&1; then
		command -v promtool
		return 0
	fi
	local dir=${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse/promtool
	if [ ! -x "$dir/usr/bin/promtool" ]; then
		local tmp
		tmp=$(mktemp -d)
		# shellcheck disable=SC2064
		trap "rm -rf '$tmp'" RETURN
		if ! (cd "$tmp" && timeout 300 apt-get download prometheus >/dev/null 2>&1); then
			timeout 300 apt-get update -qq >/dev/null 2>&1 || true
			(cd "$tmp" && timeout 300 apt-get download prometheus >/dev/null) || return 1
		fi
		mkdir -p "$dir"
		dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb | tar -x -C "$dir" ./usr/bin/promtool || return 1
	fi
	echo "$dir/usr/bin/promtool"
}

# observability_check validates the alert rules with promtool (syntax, PromQL, templates), runs
# their unit tests (deploy/prometheus/alerts_test.yml) and checks the Grafana dashboard's JSON.
observability_check() {
	local promtool
	promtool=$(promtool_path) || {
		echo "promtool not available (Debian package prometheus could not be fetched)" >&2
		return 1
	}
	"$promtool" --version 2>&1 | head -1
	timeout 60 "$promtool" check rules deploy/prometheus/alerts.yml || return 1
	(cd deploy/prometheus && timeout 60 "$promtool" test rules alerts_test.yml) || return 1
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["panels"] and d["uid"], "no panels or uid"; print("dashboard JSON ok:", len(d["panels"]), "panels")' \
		deploy/grafana/gatehouse-dashboard.json || return 1
}
