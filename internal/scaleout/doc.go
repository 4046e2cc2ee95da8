// Package scaleout holds the scale-out test: three Gatehouse processes (the real binary)
// behind HAProxy (deploy/haproxy/gatehouse.cfg), on PostgreSQL and on a Galera cluster reached
// through deploy/haproxy/galera.cfg, under a mixed workload while an instance and a Galera node
// are killed. It restarts and kills processes, so it runs only in scripts/test's destructive
// step (GATEHOUSE_TEST_DESTRUCTIVE=1). The package has no non-test code.
package scaleout
