package token

import (
	"testing"
	"time"
)

func benchManager(b *testing.B, alg string) *Manager {
	b.Helper()
	m, err := NewManager(Options{Issuer: testIssuer, Audience: testAudience, Now: func() time.Time { return testNow }}, mustKey(b, alg))
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkIssue(b *testing.B) {
	for _, alg := range []string{AlgEdDSA, AlgES256} {
		b.Run(alg, func(b *testing.B) {
			m := benchManager(b, alg)
			c := testClaims()
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := m.Issue(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify is the common case: a client sending the same token request after request
// (answered from the cache after the first).
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{AlgEdDSA, AlgES256} {
		b.Run(alg, func(b *testing.B) {
			m := benchManager(b, alg)
			tok, _, err := m.Issue(testClaims())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := m.Verify(tok); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkVerifyUncached is the signature path: what BenchmarkVerify cost before the cache, and
// what a token's first request still costs.
func BenchmarkVerifyUncached(b *testing.B) {
	for _, alg := range []string{AlgEdDSA, AlgES256} {
		b.Run(alg, func(b *testing.B) {
			m, err := NewManager(Options{Issuer: testIssuer, Audience: testAudience, Now: func() time.Time { return testNow }, CacheSize: -1}, mustKey(b, alg))
			if err != nil {
				b.Fatal(err)
			}
			tok, _, err := m.Issue(testClaims())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := m.Verify(tok); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
