package main

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/gatehousehq/gatehouse/internal/config"
)

// TestSetMemoryLimit checks MEMORY_LIMIT reaches the runtime, that off means no limit, and that
// GOMEMLIMIT, which the runtime applied itself at start, is left alone.
func TestSetMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	noEnv := func(string) string { return "" }

	setMemoryLimit(&config.Config{MemoryLimit: 48 << 20}, noEnv)
	if got := debug.SetMemoryLimit(-1); got != 48<<20 {
		t.Errorf("MEMORY_LIMIT=48MiB: runtime limit %d", got)
	}
	setMemoryLimit(&config.Config{MemoryLimit: 0}, noEnv)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("MEMORY_LIMIT=off: runtime limit %d, want none", got)
	}
	setMemoryLimit(&config.Config{MemoryLimit: 48 << 20}, func(k string) string {
		if k == "GOMEMLIMIT" {
			return "1GiB"
		}
		return ""
	})
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set: runtime limit changed to %d", got)
	}
}
