package config

import (
	"strings"
	"testing"
)

func TestDebugPprofAddr(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want string // "" with ok=false: refused
		ok   bool
	}{
		{"", "", true},
		{"127.0.0.1:6060", "127.0.0.1:6060", true},
		{"127.1.2.3:0", "127.1.2.3:0", true},
		{"[::1]:6060", "[::1]:6060", true},
		{":6060", "", false},                                   // every interface
		{"0.0.0.0:6060", "", false},                            // every interface
		{"[::]:6060", "", false},                               // every interface
		{"192.0.2.10:6060", "", false},                         // a routable address
		{"localhost:6060", "", false},                          // a name: resolution is not ours to check
		{"127.0.0.1", "", false},                               // no port
		{"127.0.0.1:70000", "", false},                         // bad port
		{"[::ffff:127.0.0.1]:1", "[::ffff:127.0.0.1]:1", true}, // IPv4-mapped loopback
	} {
		c, err := Load(func(k string) string {
			if k == "DEBUG_PPROF_ADDR" {
				return tc.v
			}
			return ""
		})
		if tc.ok {
			if err != nil || c.DebugPprofAddr != tc.want {
				t.Errorf("%q: addr %q, err %v; want %q", tc.v, c.DebugPprofAddr, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "DEBUG_PPROF_ADDR") || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("%q: err = %v, want a DEBUG_PPROF_ADDR error asking for a loopback address", tc.v, err)
		}
	}
}
