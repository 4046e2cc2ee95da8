package licensekey

import (
	"strings"
	"testing"
)

func TestCheckFormat(t *testing.T) {
	tests := []struct {
		key, problem string // problem "" means well-formed
	}{
		{"PENG-ABCD-EFGH-IJKL-MNOP-1A2B", ""},
		{"PENG-0000-0000-0000-0000-0000", ""},
		{"peng-abcd-efgh-ijkl-mnop-1a2b", "upper case"},
		{"PENG-ABCD-EFGH-IJKL-MNOP-1a2b", "upper case"},
		{" PENG-ABCD-EFGH-IJKL-MNOP-1A2B", "white space"},
		{"ACME-ABCD-EFGH-IJKL-MNOP-1A2B", "must start with PENG-"},
		{"PENG-ABCD-EFGH-IJKL-MNOP", "29 characters"},
		{"PENG-ABCD-EFGH-IJKL-MNOP-1A2B-XXXX", "29 characters"},
		{"PENG-ABCD_EFGH-IJKL-MNOP-1A2B", "five groups"},
		{"PENG-ABCD-EFGH-IJKL-MNØP-1A2", "five groups"},
		{"PENG-ABC!-EFGH-IJKL-MNOP-1A2B", "five groups"},
	}
	for _, tt := range tests {
		err := CheckFormat(tt.key)
		switch {
		case tt.problem == "" && err != nil:
			t.Errorf("CheckFormat(%q) = %v", tt.key, err)
		case tt.problem != "" && (err == nil || !strings.Contains(err.Error(), tt.problem)):
			t.Errorf("CheckFormat(%q) = %v, want it to say %q", tt.key, err, tt.problem)
		case err != nil && strings.Contains(err.Error(), strings.TrimSpace(tt.key)):
			t.Errorf("CheckFormat(%q) repeats the key: %v", tt.key, err)
		}
	}
}

func TestMask(t *testing.T) {
	for key, want := range map[string]string{
		"":                              "",
		"PENG-ABCD-EFGH-IJKL-MNOP-1A2B": "PENG-XXXX-…-1A2B",
		"not a key":                     "(malformed)",
	} {
		if got := Mask(key); got != want {
			t.Errorf("Mask(%q) = %q, want %q", key, got, want)
		}
	}
}
