// Package token issues and verifies Gatehouse's access tokens: short-lived JWTs signed with
// Ed25519 (EdDSA) or ECDSA P-256 (ES256), each naming its key with "kid". A Manager holds a key
// set in which one key signs and every key verifies, so keys rotate without logging anyone out,
// and publishes the public keys as a JWKS. The package knows nothing of databases or HTTP: the
// caller stores the keys (MarshalKey/ParseKey), serves JWKS(), and checks a verified token's
// security stamp and session against the account.
package token
