package main

import (
	"fmt"
	"io"

	"github.com/gatehousehq/gatehouse/internal/app"
)

const openapiHelp = `Usage: gatehouse openapi [-version N] [-format json|yaml]

Prints the OpenAPI 3.1 document of API version N (default: the current version) as the service
serves it at /api/vN/openapi.json, without a database or any configuration. See docs/api.md
"The OpenAPI document".
`

func cmdOpenAPI(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("openapi", stderr)
	major := fs.Int("version", app.CurrentAPIVersion(), "the API version")
	format := fs.String("format", "json", "json or yaml")
	if code, done := parseArgs(fs, openapiHelp, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		_, _ = fmt.Fprintf(stderr, "gatehouse openapi: unexpected arguments %q\n%s", fs.Args(), openapiHelp)
		return exitConfig
	}
	if *format != "json" && *format != "yaml" {
		_, _ = fmt.Fprintf(stderr, "gatehouse openapi: -format must be json or yaml, not %q\n%s", *format, openapiHelp)
		return exitConfig
	}
	b, err := app.OpenAPIDocument(*major, buildVersion(), *format)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "gatehouse openapi: %v\n", err)
		return exitConfig
	}
	if _, err := stdout.Write(b); err != nil {
		return exitFail
	}
	return exitOK
}
