package config

import (
	"strconv"
	"strings"
)

// DefaultMemoryLimit is MEMORY_LIMIT's default: off. A small limit (28MiB keeps the bench's
// SQLite server under 60 MB resident, see docs/performance.md) costs nothing while the live heap
// is well below it, but a deployment whose live heap grows near it (a filled token cache, many
// connections) would spend up to half its CPU collecting; a foundation should not ship that
// trap as a default, so it is the operator's choice.
const DefaultMemoryLimit = 0

// byteSize parses MEMORY_LIMIT: "off", or a whole number of bytes with an optional B, KiB, MiB or
// GiB suffix, as the Go runtime's GOMEMLIMIT accepts. Off is stored as 0.
func byteSize(dst *int64, v string) error {
	const want = accepts("`off` or a size such as 32MiB (suffix B, KiB, MiB or GiB; at least 8MiB)")
	if strings.EqualFold(v, "off") {
		*dst = 0
		return nil
	}
	num, unit := v, int64(1)
	for _, u := range []struct {
		suffix string
		n      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if s, ok := strings.CutSuffix(v, u.suffix); ok {
			num, unit = s, u.n
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	// Below 8 MiB the runtime would collect almost continuously: surely a mistyped unit.
	if err != nil || n <= 0 || n > (1<<50)/unit || n*unit < 8<<20 {
		return want
	}
	*dst = n * unit
	return nil
}
