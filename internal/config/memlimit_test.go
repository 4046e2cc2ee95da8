package config

import (
	"strings"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	c, err := Load(func(string) string { return "" })
	if err != nil || c.MemoryLimit != DefaultMemoryLimit {
		t.Fatalf("default: %d, %v; want %d", c.MemoryLimit, err, DefaultMemoryLimit)
	}
	for _, tc := range []struct {
		v    string
		want int64
		ok   bool
	}{
		{"off", 0, true},
		{"OFF", 0, true},
		{"64MiB", 64 << 20, true},
		{"1GiB", 1 << 30, true},
		{"16384KiB", 16 << 20, true},
		{"33554432", 32 << 20, true},
		{"33554432B", 32 << 20, true},
		{"8MiB", 8 << 20, true}, // the documented minimum
		{"8388607", 0, false},   // one byte below it
		{"1MiB", 0, false},      // below 8 MiB: surely a mistyped unit
		{"64MB", 0, false},      // not a unit Go's GOMEMLIMIT knows
		{"-64MiB", 0, false},
		{"MiB", 0, false},
		{"64 MiB", 0, false},
		{"9999999999GiB", 0, false}, // overflows
	} {
		c, err := Load(func(k string) string {
			if k == "MEMORY_LIMIT" {
				return tc.v
			}
			return ""
		})
		if tc.ok {
			if err != nil || c.MemoryLimit != tc.want {
				t.Errorf("%q: %d, %v; want %d", tc.v, c.MemoryLimit, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "MEMORY_LIMIT") {
			t.Errorf("%q: err = %v, want a MEMORY_LIMIT error", tc.v, err)
		}
	}
}
