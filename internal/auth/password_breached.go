package auth

import (
	"bufio"
	"context"
	"crypto/sha1" // #nosec G505 -- the range API is keyed by SHA-1; nothing is protected by it
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/trustelem/zxcvbn/frequency"
	"golang.org/x/text/unicode/norm"
)

// DefaultBreachedTimeout is SECURITY_BREACHED_PASSWORD_TIMEOUT's default.
const DefaultBreachedTimeout = 3 * time.Second

// The offline list of breached passwords is zxcvbn's "passwords" frequency list: the 30,000
// most common passwords of Mark Burnett's corpus of 10 million passwords from public breaches
// (xato.net), as zxcvbn 4.4.2 ships it (MIT licence, Dropbox) and github.com/trustelem/zxcvbn
// v1.0.1 (MIT licence) compiles it into every Gatehouse binary already for the strength
// check, so the exact-match check below adds no download size. Matching is case-insensitive
// on the NFKC form: "PASSWORD" and "Password" are as breached as "password".
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	list := frequency.FrequencyLists["passwords"]
	m := make(map[string]struct{}, len(list))
	for _, p := range list {
		m[p] = struct{}{}
	}
	return m
})

// isCommonPassword reports whether password is on the offline list of breached passwords.
func isCommonPassword(password string) bool {
	_, ok := commonPasswords()[strings.ToLower(norm.NFKC.String(password))]
	return ok
}

// BreachedRange queries a Have-I-Been-Pwned-compatible range API with k-anonymity: only the
// first five hex digits of the password's SHA-1 leave the server (GET {URL}/range/{prefix});
// the answer lists "SUFFIX:COUNT" lines of every breached hash with that prefix, and the
// match is made here. Responses are asked for with padding (Add-Padding: true); padding
// lines have a count of 0 and never match.
type BreachedRange struct {
	URL     string        // SECURITY_BREACHED_PASSWORD_URL, without the trailing slash
	Timeout time.Duration // SECURITY_BREACHED_PASSWORD_TIMEOUT; 0: DefaultBreachedTimeout
	Client  *http.Client  // nil: http.DefaultClient
	Log     *slog.Logger  // where a failed query is reported; nil: discarded
}

// maxRangeBody bounds what is read of one answer: real ones are about 30 KiB (with padding,
// at most 1,000 lines of 40 bytes).
const maxRangeBody = 2 << 20

// Breached reports whether the service lists password. Any failure (timeout, status other
// than 200, unreadable answer) fails open: it is logged as a warning and reported as not
// breached, so that an outage of a third-party service never stops users from choosing a
// password; the offline list still applies.
func (b *BreachedRange) Breached(ctx context.Context, password string) bool {
	if b == nil || b.URL == "" {
		return false
	}
	found, err := b.query(ctx, password)
	if err != nil {
		log := b.Log
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		log.WarnContext(ctx, "breached-password range query failed; the password was accepted without it (fail-open)", "url", b.URL, "error", err)
		return false
	}
	return found
}

func (b *BreachedRange) query(ctx context.Context, password string) (bool, error) {
	sum := sha1.Sum([]byte(password)) // #nosec G401 -- the range API's key, not a protection
	digest := strings.ToUpper(hex.EncodeToString(sum[:]))
	prefix, suffix := digest[:5], digest[5:]
	timeout := b.Timeout
	if timeout <= 0 {
		timeout = DefaultBreachedTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.URL+"/range/"+prefix, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Add-Padding", "true")
	req.Header.Set("User-Agent", "gatehouse-password-check")
	client := b.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req) // #nosec G704 -- the URL is the operator's setting, not the user's
	if err != nil {
		return false, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return false, fmt.Errorf("range query answered %s", resp.Status)
	}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, maxRangeBody))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		s, count, ok := strings.Cut(line, ":")
		if !ok || !strings.EqualFold(s, suffix) {
			continue
		}
		count = strings.TrimSpace(count)
		return count != "" && strings.Trim(count, "0") != "", nil // "0": padding
	}
	return false, sc.Err()
}
