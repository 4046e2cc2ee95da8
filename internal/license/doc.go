// Package license is Gatehouse's client of the license server: it validates the license key,
// asks which gated features it covers, reports usage through keepalives, and answers
// HasFeature from a cache, so that no request ever waits on the network.
//
// Nothing else in Gatehouse knows about licensing: other packages ask HasFeature (through an
// interface of their own) and admins read Status. Every license state degrades gracefully: no
// key means the community tier; an invalid or expired license turns gated features off at once;
// an unreachable server keeps the last good answer for a grace period. Local password login and
// the admin account never depend on any of it.
//
// The protocol is the license server's public HTTP API: POST /api/v2/validate,
// /api/v2/features and /api/v2/keepalive, the key as the Bearer token and the product named in
// every body (see docs/licensing/license-server-integration.md).
package license
