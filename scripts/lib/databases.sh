# shellcheck shell=bash
#
# scripts/lib/databases.sh — throwaway database servers for Gatehouse's tests and benchmarks.
#
# Source it from a bash script (it sets no shell options of its own), then:
#
#   db_ensure_packages [postgres] [mariadb] [galera]   # apt-get install whatever is missing
#   db_init "$dir"          # use $dir (empty, e.g. from mktemp -d) for every server's files
#   start_postgres          # private PostgreSQL on 127.0.0.1, user postgres, trust auth
#   start_mariadb           # private standalone MariaDB on 127.0.0.1, root, empty password
#   start_galera            # private 3-node MariaDB Galera cluster on 127.0.0.1
#   start_all [engines...]  # the above in parallel (default: postgres mariadb galera)
#   db_exports              # prints the `export GATEHOUSE_TEST_…=…` lines of what is running
#   stop_all                # stops every server started under $dir (by recorded pid) and waits
#
# Every start_* writes "$dir/<engine>.env" (export lines) and sources it, so it works both in
# the calling shell and in a background subshell (start_all sources the files after the wait).
# Every server's pid is in a file under $dir, so stop_all also finds servers started by
# another process (e.g. a Galera node restarted by a Go test through its start script).
#
# Layout under $dir:
#   postgres/{data,log,pid,restart}          socket in postgres/
#   mariadb/{my.cnf,data,error.log,pid,restart}  socket mariadb/sock
#     postgres/restart [fast|immediate]  `pg_ctl restart -m MODE` (default fast: every session is
#     terminated with SQLSTATE 57P01); returns once the server accepts connections again.
#     mariadb/restart [--kill]  stops the server (SIGTERM: a clean shutdown; --kill: SIGKILL),
#     starts it again with the same my.cnf and returns once it answers. Both rewrite the pid file.
#     internal/testdb's RestartServer runs them (the destructive fault tests).
#   galera/nodeN/{my.cnf,data,error.log,pid,start,port}
#     galera/nodeN/start [--no-wait] [mariadbd args…]  restarts node N into the running cluster
#     (it is not a bootstrap unless given --wsrep-new-cluster), writes its pid to nodeN/pid and,
#     unless --no-wait, waits until the node is wsrep_ready=ON and Synced (timeout
#     $GALERA_START_TIMEOUT seconds, default 180).
#
# Nothing here reads /etc/mysql or ~/.my.cnf, and nothing touches the machine's own servers
# (5432, 3306): every server gets free ports picked at random in 20000–32000 (below the
# kernel's ephemeral range, so outgoing connections do not take them).
#
# Tuning: the servers are set up for tests (PostgreSQL fsync=off, MariaDB
# innodb_flush_log_at_trx_commit=2). A benchmark can change that with
#   DB_PG_OPTS_EXTRA="-c fsync=on -c synchronous_commit=on"      (appended to postgres' options)
#   DB_MARIADB_CNF_EXTRA=$'innodb_flush_log_at_trx_commit=1\n…'   (appended to every my.cnf)
#
# PID 1 on our machines is not an init and reaps orphans late: an exited server can linger as a
# zombie, so "is it alive" means "exists and is not in state Z" (db_pid_alive).
#
# Functions here end with an explicit `return 0`/`return 1`: a bare `return` inside a trap
# handler (stop_all runs from EXIT traps) returns the status the script had before the trap.

GH_DB_DIR=${GH_DB_DIR:-}
DB_PG_BIN=${DB_PG_BIN:-}
DB_MARIADBD=${DB_MARIADBD:-/usr/sbin/mariadbd}
DB_GALERA_PROVIDER=${DB_GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}
# How long a server may take to come up, in seconds.
DB_START_TIMEOUT=${DB_START_TIMEOUT:-180}
DB_PG_OPTS_EXTRA=${DB_PG_OPTS_EXTRA:-}
DB_MARIADB_CNF_EXTRA=${DB_MARIADB_CNF_EXTRA:-}

db_log() { printf '[dbs %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
db_die() {
	db_log "ERROR: $*"
	return 1
}

# db_ensure_packages [postgres] [mariadb] [galera] — installs the Debian packages that are
# missing (apt-get update once, first). Without arguments: all three.
db_ensure_packages() {
	local want=("$@") pkgs=() e
	[ ${#want[@]} -gt 0 ] || want=(postgres mariadb galera)
	for e in "${want[@]}"; do
		case $e in
		postgres)
			_db_find_pg_bin >/dev/null 2>&1 || pkgs+=(postgresql)
			;;
		mariadb | galera)
			[ -x "$DB_MARIADBD" ] || pkgs+=(mariadb-server)
			command -v mariadb >/dev/null 2>&1 || pkgs+=(mariadb-client)
			command -v mariadb-install-db >/dev/null 2>&1 || pkgs+=(mariadb-server)
			if [ "$e" = galera ]; then
				[ -f "$DB_GALERA_PROVIDER" ] || pkgs+=(galera-4)
				command -v rsync >/dev/null 2>&1 || pkgs+=(rsync)
				command -v ss >/dev/null 2>&1 || pkgs+=(iproute2)
			fi
			;;
		*) db_die "unknown engine '$e'" || return 1 ;;
		esac
	done
	command -v ss >/dev/null 2>&1 || pkgs+=(iproute2)
	command -v flock >/dev/null 2>&1 || pkgs+=(util-linux)
	# Not a database: the independent TOTP implementation the two-factor tests check codes with.
	command -v oathtool >/dev/null 2>&1 || pkgs+=(oathtool)
	[ ${#pkgs[@]} -gt 0 ] || return 0
	mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
	if [ "$(id -u)" != 0 ]; then
		db_die "missing packages ${pkgs[*]} and not root: install them with apt-get" || return 1
	fi
	db_log "installing ${pkgs[*]} with apt-get"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || return 1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null || return 1
	_db_find_pg_bin >/dev/null 2>&1 || [[ " ${want[*]} " != *" postgres "* ]] || db_die "initdb not found after installing postgresql"
}

# _db_find_pg_bin — prints the directory holding initdb and pg_ctl (newest Debian version).
_db_find_pg_bin() {
	if [ -n "$DB_PG_BIN" ] && [ -x "$DB_PG_BIN/initdb" ]; then
		echo "$DB_PG_BIN"
		return 0
	fi
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
		echo "$d"
		return 0
	fi
	d=$(command -v initdb 2>/dev/null) || return 1
	d=$(dirname "$(readlink -f "$d")")
	[ -x "$d/pg_ctl" ] || return 1
	echo "$d"
}

# db_init DIR — use DIR for every server; makes it traversable by the postgres and mysql users.
db_init() {
	GH_DB_DIR=$(cd "$1" && pwd) || return 1
	export GH_DB_DIR
	chmod 711 "$GH_DB_DIR"
	touch "$GH_DB_DIR/ports.used"
}

# db_pid_alive PID — true if the process exists and is not a zombie. A zombie main thread whose
# other threads are still exiting (a killed mariadbd) counts as alive: it still holds its ports.
db_pid_alive() {
	local pid=$1 state tasks
	[ -n "$pid" ] && [ -e "/proc/$pid" ] || return 1
	state=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
	case $state in
	Z | X | '')
		tasks=$(ls "/proc/$pid/task" 2>/dev/null | wc -l)
		[ "$tasks" -gt 1 ]
		;;
	*) return 0 ;;
	esac
}

_db_port_busy() {
	# Any socket (listening or not) bound to the port, TCP or UDP, counts as busy.
	[ -n "$(ss -Htuan "sport = :$1" 2>/dev/null)" ]
}

# db_pick_port — prints a free TCP port, never the same twice under one GH_DB_DIR.
db_pick_port() {
	local p i
	[ -n "$GH_DB_DIR" ] || {
		db_die "db_init first"
		return 1
	}
	(
		flock 9
		for i in $(seq 1 500); do
			p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
			grep -qx "$p" "$GH_DB_DIR/ports.used" && continue
			_db_port_busy "$p" && continue
			echo "$p" >>"$GH_DB_DIR/ports.used"
			echo "$p"
			exit 0
		done
		exit 1
	) 9>"$GH_DB_DIR/ports.lock" || db_die "no free port found"
}

# _db_wait_sql PORT PIDFILE LOG WHAT [galera] — waits until root can run a query over TCP
# (and, with "galera", until the node is wsrep_ready=ON and Synced).
_db_wait_sql() {
	local port=$1 pidfile=$2 log=$3 what=$4 galera=${5:-} deadline out
	deadline=$((SECONDS + DB_START_TIMEOUT))
	while :; do
		if [ -n "$galera" ]; then
			out=$(_db_sql "$port" "SELECT CONCAT(
				(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='WSREP_READY'), '/',
				(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='WSREP_LOCAL_STATE_COMMENT'))" 2>/dev/null) || out=
			[ "$out" = "ON/Synced" ] && return 0
		else
			_db_sql "$port" "SELECT 1" >/dev/null 2>&1 && return 0
		fi
		if ! db_pid_alive "$(cat "$pidfile" 2>/dev/null)"; then
			db_log "$what exited during start-up; last lines of $log:"
			tail -n 30 "$log" >&2 2>/dev/null
			return 1
		fi
		if [ $SECONDS -ge $deadline ]; then
			db_log "$what not ready after ${DB_START_TIMEOUT}s (last state: ${out:-no answer}); last lines of $log:"
			tail -n 30 "$log" >&2 2>/dev/null
			return 1
		fi
		sleep 0.2
	done
}

# _db_sql PORT SQL — runs SQL as root over TCP on 127.0.0.1, tab-separated, no headers.
_db_sql() {
	mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$1" -u root --connect-timeout=2 -N -B -e "$2"
}

# start_postgres — initdb + pg_ctl start as the postgres OS user; sets GATEHOUSE_TEST_POSTGRES.
start_postgres() {
	local bin dir port pid
	bin=$(_db_find_pg_bin) || {
		db_die "PostgreSQL binaries (initdb, pg_ctl) not found"
		return 1
	}
	dir=$GH_DB_DIR/postgres
	port=$(db_pick_port) || return 1
	mkdir -p "$dir"
	chown postgres: "$dir"
	# runuser from a directory postgres can read, or initdb warns about the cwd.
	(cd "$dir" && runuser -u postgres -- "$bin/initdb" -D "$dir/data" -U postgres -A trust \
		--no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1) || {
		db_log "initdb failed:"
		tail -n 30 "$dir/initdb.log" >&2
		return 1
	}
	(cd "$dir" && runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
		-t "$DB_START_TIMEOUT" -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c max_connections=300 \
-c shared_buffers=128MB -c log_min_messages=warning $DB_PG_OPTS_EXTRA" start >"$dir/pg_ctl.log" 2>&1) || {
		db_log "PostgreSQL failed to start:"
		tail -n 30 "$dir/log" >&2
		return 1
	}
	pid=$(head -n 1 "$dir/data/postmaster.pid") || return 1
	echo "$pid" >"$dir/pid"
	cat >"$dir/restart" <<EOF
#!/usr/bin/env bash
# Restarts this test PostgreSQL: pg_ctl restart -m \${1:-fast}; waits until it accepts connections.
set -euo pipefail
cd "$dir"
runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -m "\${1:-fast}" -w -t 120 restart >>"$dir/pg_ctl.log" 2>&1
head -n 1 "$dir/data/postmaster.pid" >"$dir/pid"
EOF
	chmod 755 "$dir/restart"
	echo "export GATEHOUSE_TEST_POSTGRES=127.0.0.1:$port" >"$GH_DB_DIR/postgres.env"
	# shellcheck disable=SC1091
	. "$GH_DB_DIR/postgres.env"
	db_log "PostgreSQL up on 127.0.0.1:$port (pid $pid)"
}

# _db_mariadb_template — one datadir made by mariadb-install-db, copied for every MariaDB
# server (standalone and Galera); made once per GH_DB_DIR even when called in parallel.
_db_mariadb_template() {
	local t=$GH_DB_DIR/mariadb-template
	(
		flock 8
		[ -f "$t/.done" ] && exit 0
		rm -rf "$t"
		mkdir -p "$t"
		chown mysql: "$t"
		mariadb-install-db --no-defaults --datadir="$t/data" --user=mysql \
			--auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
			--innodb-log-file-size=16M >"$t/install.log" 2>&1 || {
			db_log "mariadb-install-db failed:"
			tail -n 30 "$t/install.log" >&2
			exit 1
		}
		touch "$t/.done"
	) 8>"$GH_DB_DIR/mariadb-template.lock"
}

# _db_mariadb_cnf DIR PORT — the [mariadbd] section shared by standalone and Galera servers.
_db_mariadb_cnf() {
	local dir=$1 port=$2
	cat <<EOF
[mariadbd]
user=mysql
datadir=$dir/data
port=$port
bind-address=127.0.0.1
socket=$dir/sock
pid-file=$dir/mariadbd.pid
log-error=$dir/error.log
skip-name-resolve
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
max_connections=500
innodb_buffer_pool_size=128M
innodb_log_file_size=16M
innodb_flush_log_at_trx_commit=2
innodb_doublewrite=0
sync_binlog=0
default_storage_engine=InnoDB
# A restart right after a kill may find the port still held for a moment.
port-open-timeout=30
EOF
}

# _db_launch_mariadbd DIR [args…] — starts mariadbd in its own session, in the background;
# its pid goes to DIR/pid (written by the process itself before it execs mariadbd, so it is
# right whether or not setsid has to fork).
_db_launch_mariadbd() {
	local dir=$1
	shift
	rm -f "$dir/pid"
	setsid bash -c 'echo $$ >"$1/pid"; shift; exec "$@"' _ "$dir" \
		"$DB_MARIADBD" --defaults-file="$dir/my.cnf" "$@" </dev/null >>"$dir/stdout.log" 2>&1 &
	local i
	for i in $(seq 1 100); do
		[ -s "$dir/pid" ] && return 0
		sleep 0.05
	done
	db_die "mariadbd in $dir did not start"
}

# _db_mariadb_restart_script DIR PORT — writes DIR/restart (see the header).
_db_mariadb_restart_script() {
	local dir=$1 port=$2
	cat >"$dir/restart" <<EOF
#!/usr/bin/env bash
# Restarts this test MariaDB (SIGTERM, or SIGKILL with --kill) and waits until it answers.
set -euo pipefail
dir=$dir
sig=TERM
[ "\${1-}" = --kill ] && sig=KILL
alive() {
	local pid=\$1 state
	[ -n "\$pid" ] && [ -e "/proc/\$pid" ] || return 1
	state=\$(sed -E 's/^.*\) ([A-Za-z]).*\$/\1/' "/proc/\$pid/stat" 2>/dev/null) || return 1
	case \$state in
	Z | X | '') [ "\$(ls "/proc/\$pid/task" 2>/dev/null | wc -l)" -gt 1 ] ;;
	*) return 0 ;;
	esac
}
pid=\$(cat "\$dir/pid" 2>/dev/null || true)
if alive "\$pid"; then
	kill -\$sig "\$pid"
	for _ in \$(seq 1 600); do alive "\$pid" || break; sleep 0.1; done
	! alive "\$pid" || { echo "mariadbd \$pid did not stop" >&2; exit 1; }
fi
rm -f "\$dir/pid"
setsid bash -c 'echo \$\$ >"\$1/pid"; shift; exec "\$@"' _ "\$dir" \\
	$DB_MARIADBD --defaults-file="\$dir/my.cnf" </dev/null >>"\$dir/stdout.log" 2>&1 &
for _ in \$(seq 1 1200); do
	mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P $port -u root --connect-timeout=2 -N -B -e 'SELECT 1' >/dev/null 2>&1 && exit 0
	alive "\$(cat "\$dir/pid" 2>/dev/null)" || { echo "mariadbd exited; see \$dir/error.log" >&2; exit 1; }
	sleep 0.1
done
echo "mariadbd not answering after 120s" >&2
exit 1
EOF
	chmod 755 "$dir/restart"
}

# start_mariadb — standalone MariaDB; sets GATEHOUSE_TEST_MARIADB.
start_mariadb() {
	local dir=$GH_DB_DIR/mariadb port
	port=$(db_pick_port) || return 1
	_db_mariadb_template || return 1
	mkdir -p "$dir"
	cp -a "$GH_DB_DIR/mariadb-template/data" "$dir/data"
	_db_mariadb_cnf "$dir" "$port" >"$dir/my.cnf"
	cat >>"$dir/my.cnf" <<EOF
skip-log-bin
EOF
	[ -z "$DB_MARIADB_CNF_EXTRA" ] || printf '%s\n' "$DB_MARIADB_CNF_EXTRA" >>"$dir/my.cnf"
	chown -R mysql: "$dir"
	_db_launch_mariadbd "$dir" || return 1
	_db_wait_sql "$port" "$dir/pid" "$dir/error.log" "MariaDB" || return 1
	_db_mariadb_restart_script "$dir" "$port"
	echo "export GATEHOUSE_TEST_MARIADB=127.0.0.1:$port" >"$GH_DB_DIR/mariadb.env"
	# shellcheck disable=SC1091
	. "$GH_DB_DIR/mariadb.env"
	db_log "MariaDB up on 127.0.0.1:$port (pid $(cat "$dir/pid"))"
}

# _db_galera_start_script NODE_DIR PORT — writes NODE_DIR/start (see the header).
_db_galera_start_script() {
	local dir=$1 port=$2
	cat >"$dir/start" <<EOF
#!/usr/bin/env bash
# Starts Galera node $(basename "$dir") (SQL port $port) into the running cluster: not a
# bootstrap unless --wsrep-new-cluster is passed. Writes the mariadbd pid to $dir/pid.
# Usage: start [--no-wait] [extra mariadbd options]
# Without --no-wait, returns once the node is wsrep_ready=ON and Synced (exit 1 if it dies
# or is not Synced within \${GALERA_START_TIMEOUT:-180} seconds).
set -euo pipefail
dir=$dir
port=$port
wait=1
if [ "\${1-}" = --no-wait ]; then wait=0; shift; fi
# Alive: exists and is not a zombie (PID 1 reaps late), or is a zombie main thread whose other
# threads are still exiting (it still holds its ports).
alive() {
	local pid state
	pid=\$(cat "\$dir/pid" 2>/dev/null) || return 1
	[ -n "\$pid" ] && [ -e "/proc/\$pid" ] || return 1
	state=\$(sed -E 's/^.*\) ([A-Za-z]).*\$/\1/' "/proc/\$pid/stat" 2>/dev/null) || return 1
	case \$state in
	Z | X | '') [ "\$(ls "/proc/\$pid/task" 2>/dev/null | wc -l)" -gt 1 ] ;;
	*) return 0 ;;
	esac
}
if alive; then
	echo "node already running (pid \$(cat "\$dir/pid"))" >&2
	exit 1
fi
rm -f "\$dir/pid" "\$dir/mariadbd.pid"
setsid bash -c 'echo \$\$ >"\$1/pid"; shift; exec "\$@"' _ "\$dir" \\
	$DB_MARIADBD --defaults-file="\$dir/my.cnf" "\$@" </dev/null >>"\$dir/stdout.log" 2>&1 &
for _ in \$(seq 1 100); do [ -s "\$dir/pid" ] && break; sleep 0.05; done
[ -s "\$dir/pid" ] || { echo "mariadbd did not start" >&2; exit 1; }
[ \$wait = 1 ] || exit 0
deadline=\$((SECONDS + \${GALERA_START_TIMEOUT:-180}))
state=
while :; do
	state=\$(mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "\$port" -u root --connect-timeout=2 -N -B -e "SELECT CONCAT(
		(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='WSREP_READY'), '/',
		(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='WSREP_LOCAL_STATE_COMMENT'))" 2>/dev/null) || state=
	[ "\$state" = ON/Synced ] && exit 0
	if ! alive; then
		echo "node exited during start-up; last lines of \$dir/error.log:" >&2
		tail -n 30 "\$dir/error.log" >&2 || true
		exit 1
	fi
	if [ \$SECONDS -ge \$deadline ]; then
		echo "node not Synced in time (state: \${state:-no answer}); last lines of \$dir/error.log:" >&2
		tail -n 30 "\$dir/error.log" >&2 || true
		exit 1
	fi
	sleep 0.2
done
EOF
	chmod 755 "$dir/start"
}

# start_galera — a 3-node Galera cluster (node 1 bootstraps, nodes 2 and 3 join with rsync
# SST); sets GATEHOUSE_TEST_GALERA (the three SQL addresses) and GATEHOUSE_TEST_GALERA_DIR.
start_galera() {
	local base=$GH_DB_DIR/galera n dir sql=() gm=() ist=() sst=() gcomm addrs
	for n in 1 2 3; do
		sql[n]=$(db_pick_port) || return 1
		gm[n]=$(db_pick_port) || return 1
		ist[n]=$(db_pick_port) || return 1
		sst[n]=$(db_pick_port) || return 1
	done
	gcomm="gcomm://127.0.0.1:${gm[1]},127.0.0.1:${gm[2]},127.0.0.1:${gm[3]}"
	_db_mariadb_template || return 1
	for n in 1 2 3; do
		dir=$base/node$n
		mkdir -p "$dir"
		# Only the bootstrap node needs system tables; the joiners get everything by SST.
		if [ $n = 1 ]; then
			cp -a "$GH_DB_DIR/mariadb-template/data" "$dir/data"
		else
			mkdir -p "$dir/data"
		fi
		{
			_db_mariadb_cnf "$dir" "${sql[n]}"
			cat <<EOF
log-bin=$dir/data/binlog
binlog_format=ROW
innodb_autoinc_lock_mode=2
wsrep_on=ON
wsrep_provider=$DB_GALERA_PROVIDER
wsrep_cluster_name=gatehouse_test
wsrep_cluster_address=$gcomm
wsrep_node_name=node$n
wsrep_node_address=127.0.0.1
wsrep_node_incoming_address=127.0.0.1:${sql[n]}
wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:${gm[n]}; ist.recv_addr=127.0.0.1:${ist[n]}; gcache.size=64M"
wsrep_sst_receive_address=127.0.0.1:${sst[n]}
wsrep_sst_method=rsync
wsrep_slave_threads=2
EOF
			[ -z "$DB_MARIADB_CNF_EXTRA" ] || printf '%s\n' "$DB_MARIADB_CNF_EXTRA"
		} >"$dir/my.cnf"
		echo "${sql[n]}" >"$dir/port"
		_db_galera_start_script "$dir" "${sql[n]}"
		chown -R mysql: "$dir"
	done
	chmod 711 "$base"
	# Bootstrap node 1, then let 2 and 3 join together (the second joiner waits for a donor).
	GALERA_START_TIMEOUT=$DB_START_TIMEOUT "$base/node1/start" --wsrep-new-cluster || {
		db_log "Galera node 1 failed to bootstrap"
		return 1
	}
	local p2 p3 rc=0
	GALERA_START_TIMEOUT=$DB_START_TIMEOUT "$base/node2/start" &
	p2=$!
	GALERA_START_TIMEOUT=$DB_START_TIMEOUT "$base/node3/start" &
	p3=$!
	wait "$p2" || {
		db_log "Galera node 2 failed to join"
		rc=1
	}
	wait "$p3" || {
		db_log "Galera node 3 failed to join"
		rc=1
	}
	[ $rc = 0 ] || return 1
	local size
	size=$(_db_sql "${sql[1]}" "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='WSREP_CLUSTER_SIZE'") || return 1
	[ "$size" = 3 ] || {
		db_die "Galera cluster size is '$size', want 3"
		return 1
	}
	addrs="127.0.0.1:${sql[1]},127.0.0.1:${sql[2]},127.0.0.1:${sql[3]}"
	{
		echo "export GATEHOUSE_TEST_GALERA=$addrs"
		echo "export GATEHOUSE_TEST_GALERA_DIR=$base"
	} >"$GH_DB_DIR/galera.env"
	# shellcheck disable=SC1091
	. "$GH_DB_DIR/galera.env"
	db_log "Galera up and Synced on $addrs (cluster size 3; pids $(cat "$base"/node*/pid | tr '\n' ' '))"
}

# start_all [engines…] — starts the given engines (default: postgres mariadb galera) in
# parallel, then sources their env files. Returns non-zero if any failed to start.
start_all() {
	local engines=("$@") e pids=() rc=0 i
	[ ${#engines[@]} -gt 0 ] || engines=(postgres mariadb galera)
	for e in "${engines[@]}"; do
		case $e in postgres | mariadb | galera) ;; *)
			db_die "unknown engine '$e'"
			return 1
			;;
		esac
	done
	# MariaDB and Galera share one mariadb-install-db run (under a lock) while PostgreSQL starts.
	for e in "${engines[@]}"; do
		"start_$e" &
		pids+=($!)
	done
	for i in "${!engines[@]}"; do
		if ! wait "${pids[i]}"; then
			db_log "${engines[i]} failed to start"
			rc=1
		fi
	done
	for e in "${engines[@]}"; do
		# shellcheck disable=SC1090
		[ -f "$GH_DB_DIR/$e.env" ] && . "$GH_DB_DIR/$e.env"
	done
	return $rc
}

# db_exports — the export lines of every engine started under GH_DB_DIR.
db_exports() {
	local e
	for e in postgres mariadb galera; do
		[ -f "$GH_DB_DIR/$e.env" ] && cat "$GH_DB_DIR/$e.env"
	done
	return 0
}

# _db_pidfiles — pid files of every server under GH_DB_DIR (current ones, including Galera
# nodes restarted by tests).
_db_pidfiles() {
	local f
	for f in "$GH_DB_DIR/postgres/pid" "$GH_DB_DIR/mariadb/pid" "$GH_DB_DIR"/galera/node*/pid; do
		[ -f "$f" ] && echo "$f"
	done
	return 0
}

# stop_all [--graceful] — stops every server under GH_DB_DIR and waits until each is gone.
# By default the servers are killed outright (their data is thrown away: SIGKILL for MariaDB,
# immediate shutdown for PostgreSQL); --graceful asks them to shut down cleanly first.
# Finally kills any leftover process whose command line names GH_DB_DIR (e.g. an rsync daemon
# of an interrupted Galera state transfer).
stop_all() {
	local graceful=0 f pid pids=() deadline bin
	[ "${1-}" = --graceful ] && graceful=1
	[ -n "$GH_DB_DIR" ] && [ -d "$GH_DB_DIR" ] || return 0
	if [ -f "$GH_DB_DIR/postgres/data/postmaster.pid" ] && bin=$(_db_find_pg_bin); then
		pid=$(head -n 1 "$GH_DB_DIR/postgres/data/postmaster.pid" 2>/dev/null)
		if db_pid_alive "$pid"; then
			(cd "$GH_DB_DIR/postgres" && runuser -u postgres -- "$bin/pg_ctl" -D "$GH_DB_DIR/postgres/data" \
				-m "$([ $graceful = 1 ] && echo fast || echo immediate)" -W stop >/dev/null 2>&1) ||
				kill -QUIT "$pid" 2>/dev/null
			pids+=("$pid")
		fi
	fi
	while read -r f; do
		pid=$(cat "$f" 2>/dev/null) || continue
		db_pid_alive "$pid" || continue
		[[ $f == */postgres/pid ]] && continue
		if [ $graceful = 1 ]; then kill -TERM "$pid" 2>/dev/null; else kill -KILL "$pid" 2>/dev/null; fi
		pids+=("$pid")
	done < <(_db_pidfiles)
	deadline=$((SECONDS + 30))
	for pid in "${pids[@]}"; do
		while db_pid_alive "$pid"; do
			if [ $SECONDS -ge $deadline ]; then
				db_log "pid $pid still running after 30s: SIGKILL"
				kill -KILL "$pid" 2>/dev/null
				deadline=$((SECONDS + 5))
			fi
			sleep 0.1
		done
	done
	# Leftovers: processes naming our directory (unique to this run) on their command line,
	# other than this shell and its ancestors.
	local skip=" " a left=()
	a=${BASHPID:-$$}
	while [ -n "$a" ] && [ "$a" -gt 1 ]; do
		skip+="$a "
		a=$(sed -E 's/^.*\) [A-Za-z] ([0-9]+).*$/\1/' "/proc/$a/stat" 2>/dev/null) || break
	done
	while read -r f; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[[ $skip == *" $pid "* ]] && continue
		db_pid_alive "$pid" && left+=("$pid")
	done < <(grep -lsF -- "$GH_DB_DIR/" /proc/[0-9]*/cmdline 2>/dev/null)
	if [ ${#left[@]} -gt 0 ]; then
		db_log "killing leftover processes under $GH_DB_DIR:"
		ps -o pid,ppid,stat,etime,args -p "$(IFS=,; echo "${left[*]}")" >&2 2>/dev/null
		kill -KILL "${left[@]}" 2>/dev/null
		for pid in "${left[@]}"; do
			for _ in $(seq 1 50); do
				db_pid_alive "$pid" || break
				sleep 0.1
			done
		done
	fi
	return 0
}
