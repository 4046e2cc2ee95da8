package username

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	p := Default()
	cases := []struct {
		in, display, key, problem string
	}{
		{in: "alice", display: "alice", key: "alice"},
		{in: "  Alice.Smith ", display: "Alice.Smith", key: "alice.smith"},
		{in: "ALICE_2", display: "ALICE_2", key: "alice_2"},
		{in: "ａｌｉｃｅ", display: "alice", key: "alice"},    // full-width: NFKC and the width mapping
		{in: "Straße", display: "Straße", key: "straße"}, // lower-cased, not folded to "ss"
		{in: "Ἀλέξανδρος", display: "Ἀλέξανδρος", key: "ἀλέξανδρος"},
		{in: "e\u0301mile", display: "émile", key: "émile"}, // NFKC composes
		{in: "", problem: "is required"},
		{in: "   ", problem: "is required"},
		{in: "abc", problem: "must be at least 4 characters"},
		{in: strings.Repeat("a", 33), problem: "must be at most 32 characters"},
		{in: "1alice", problem: "must start with a letter"},
		{in: "_alice", problem: "must start with a letter"},
		{in: "al ice", problem: "must not contain spaces"},
		{in: "al\tice", problem: "must not contain spaces"},
		{in: "al\u200bice", problem: "must not contain control or invisible characters"},
		{in: "al\x00ice", problem: "must not contain control or invisible characters"},
		{in: "alice@example.com", problem: `must not contain '@'`},
		{in: "alice!", problem: `must not contain '!'`},
		{in: "al☃ice", problem: `must not contain '☃'`},
	}
	for _, c := range cases {
		display, key, err := p.Check(c.in)
		if c.problem != "" {
			if err == nil || !strings.HasPrefix(err.Error(), c.problem) {
				t.Errorf("Check(%q) = %q, %q, %v; want problem %q", c.in, display, key, err, c.problem)
			}
			continue
		}
		if err != nil || display != c.display || key != c.key {
			t.Errorf("Check(%q) = %q, %q, %v; want %q, %q", c.in, display, key, err, c.display, c.key)
		}
	}
}

func TestCheckPolicy(t *testing.T) {
	p := Policy{MinLength: 2, MaxLength: 5, Punctuation: "+@", Form: "NFD"}
	if _, _, err := p.Check("a+b"); err != nil {
		t.Errorf("configured punctuation refused: %v", err)
	}
	if _, _, err := p.Check("a.b"); err == nil || !strings.Contains(err.Error(), `letters, digits and '+'`) {
		t.Errorf("punctuation outside the set: %v", err)
	}
	if _, _, err := p.Check("a@b"); err == nil {
		t.Error("@ accepted although it is never allowed")
	}
	if d, _, err := p.Check("émi"); err != nil || d != "e\u0301mi" {
		t.Errorf("NFD display form = %q, %v", d, err)
	}
	if _, _, err := p.Check("abcdef"); err == nil || err.Error() != "must be at most 5 characters" {
		t.Errorf("max length: %v", err)
	}
}

func TestSkeleton(t *testing.T) {
	key := func(s string) string {
		k, err := Key(s)
		if err != nil {
			t.Fatalf("Key(%q): %v", s, err)
		}
		return k
	}
	same := [][2]string{
		{"alice", "\u0430lice"}, // Cyrillic а
		{"modern", "rnodern"},   // rn and m
		{"paypal", "paypa1"},    // 1 and l
		{"Alice", "ALICE"},      // case, through the key
	}
	for _, c := range same {
		if Skeleton(key(c[0])) != Skeleton(key(c[1])) {
			t.Errorf("%q and %q should share a skeleton", c[0], c[1])
		}
	}
	if Skeleton(key("alice")) == Skeleton(key("bob1")) {
		t.Error("different names share a skeleton")
	}
	if len(Skeleton("x")) != 64 {
		t.Error("skeleton is not a SHA-256 hex digest")
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"alice", "ａｌｉｃｅ", "al ice", "Straße", "\u0430lice", "a\u0301"} {
		f.Add(s)
	}
	p := Default()
	f.Fuzz(func(t *testing.T, s string) {
		display, key, err := p.Check(s)
		if err != nil {
			return
		}
		// What Check accepts is stable: checking the display form again gives the same key.
		d2, k2, err := p.Check(display)
		if err != nil || d2 != display || k2 != key {
			t.Fatalf("Check(%q) = %q, %q but Check(display) = %q, %q, %v", s, display, key, d2, k2, err)
		}
		if strings.ContainsAny(display, " @\t\n") {
			t.Fatalf("Check(%q) accepted %q", s, display)
		}
	})
}
