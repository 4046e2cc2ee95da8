// Package licensekey is the format of a license key: the local check made before a key is ever
// sent, and the masked form that may be shown or logged. It is apart from the license client so
// that the configuration can check LICENSE_KEY without depending on the client (its HTTP,
// caching and background work).
package licensekey

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// keyPattern is the documented license-key format: PENG and five groups of four upper-case
// letters or digits. The last group is a checksum only the server can verify.
var keyPattern = regexp.MustCompile(`^PENG-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$`)

// keyLen is the length of a well-formed key.
const keyLen = len("PENG-XXXX-XXXX-XXXX-XXXX-XXXX")

// CheckFormat reports whether key has the license-key format
// PENG-XXXX-XXXX-XXXX-XXXX-XXXX (A-Z and 0-9). It is a local check only: the checksum in the last
// group is the server's to verify. The error describes the problem without repeating the key, so
// it is safe to log and to show in configuration errors.
func CheckFormat(key string) error {
	if keyPattern.MatchString(key) {
		return nil
	}
	switch {
	case keyPattern.MatchString(strings.ToUpper(key)):
		return errors.New("must be upper case (PENG-XXXX-XXXX-XXXX-XXXX-XXXX with A-Z and 0-9)")
	case strings.TrimSpace(key) != key:
		return errors.New("has surrounding white space")
	case !strings.HasPrefix(strings.ToUpper(key), "PENG-"):
		return errors.New("must start with PENG- (format PENG-XXXX-XXXX-XXXX-XXXX-XXXX with A-Z and 0-9)")
	case len(key) != keyLen:
		return fmt.Errorf("must be %d characters, PENG-XXXX-XXXX-XXXX-XXXX-XXXX with A-Z and 0-9 (it has %d)", keyLen, len(key))
	default:
		return errors.New("must be PENG-XXXX-XXXX-XXXX-XXXX-XXXX: five groups of four characters A-Z or 0-9 after PENG, separated by hyphens")
	}
}

// Mask returns the key as admins may see it: the prefix and the last group only, such as
// PENG-XXXX-…-1A2B. It returns "" for an empty key and a fixed text for a malformed one, so the
// result never reveals more than four characters of a secret.
func Mask(key string) string {
	switch {
	case key == "":
		return ""
	case !keyPattern.MatchString(key):
		return "(malformed)"
	default:
		return "PENG-XXXX-…-" + key[len(key)-4:]
	}
}
