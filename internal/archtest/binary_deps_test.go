package archtest

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// shippedPackages are what the server binary and a host program link: the server command, and
// the packages a host imports to embed Gatehouse (server/servertest, a test helper, may link
// more).
var shippedPackages = []string{"./cmd/gatehouse", "./server", "./rest", "."}

// notShipped are modules kept out of the binary, which must stay under the container image's
// size budget: kin-openapi (a whole OpenAPI toolkit with a JSON Schema validator) and a YAML
// library. internal/apidoc writes the OpenAPI document with its own small types and
// internal/httpapi its YAML with its own writer; the tests may use both modules to check them.
var notShipped = []string{"github.com/getkin/kin-openapi", "go.yaml.in/yaml"}

// TestBinaryDependencies fails when a package the binary links depends, directly or not, on a
// module kept out of it.
func TestBinaryDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	cmd := exec.Command("go", append([]string{"list", "-deps"}, shippedPackages...)...)
	cmd.Dir = root(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list -deps: %v\n%s", err, stderr)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps listed %d packages: not the binary's dependencies", len(deps))
	}
	for _, dep := range deps {
		for _, m := range notShipped {
			if dep == m || strings.HasPrefix(dep, m+"/") {
				t.Errorf("the binary links %s (module %s): keep it in test code, the image must stay under its size budget (see docs/architecture.md)", dep, m)
			}
		}
	}
}
