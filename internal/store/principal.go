package store

import (
	"context"
	"database/sql"

	"github.com/gatehousehq/gatehouse"
)

// The two ways a request authenticates load what they need in one prepared statement each (see
// prepared.go): the credential's row (the session of an access token, or the API key), the
// user, and the user's roles, one row per role (or one row with a NULL role). Roles come in role
// id order, as rolesOf gives them; ordering by ur.role_id (equal to r.id) lets SQLite read them
// in the order of the user_roles primary key instead of sorting. The credential and user columns
// are those of the bun models, so these statements follow the models when columns are added.

// rolesJoin is the tail both statements share.
const rolesJoin = `
LEFT JOIN user_roles ur ON ur.user_id = u.id
LEFT JOIN roles r ON r.id = ur.role_id`

// principalQuery joins the session on its id alone, not on its owner, so that the caller sees a
// session of another user and refuses it, exactly as when the two were read separately.
func (s *Store) principalQuery() string {
	sessCols, userCols := columnsOf[sessionRow](s, "s"), columnsOf[userRow](s, "u")
	return "SELECT " + sessCols + ", " + userCols + ", r.name\nFROM users u\nJOIN sessions s ON s.id = ?" + rolesJoin + `
WHERE u.id = ?
ORDER BY ur.role_id`
}

func (s *Store) apiKeyQuery() string {
	keyCols, userCols := columnsOf[apiKeyRow](s, "k"), columnsOf[userRow](s, "u")
	return "SELECT " + keyCols + ", " + userCols + ", r.name\nFROM api_keys k\nJOIN users u ON u.id = k.user_id" + rolesJoin + `
WHERE k.secret_hash = ?
ORDER BY ur.role_id`
}

// Principal loads what authenticating a request needs in one statement: the user with its roles
// and the session the token was issued with. A missing user or session is ENotFound. With an
// empty sid only the user is loaded (sess is nil).
func (s *Store) Principal(ctx context.Context, userID int64, sid string) (u *gatehouse.User, sess *gatehouse.Session, err error) {
	if sid == "" {
		u, err = s.UserByID(ctx, userID)
		return u, nil, err
	}
	defer wrapErr(&err, "store.Principal(%d)", userID)
	row, u, err := credentialWithUser[sessionRow](ctx, s, "principal", s.principalQuery, sid, userID)
	if err != nil {
		return nil, nil, err
	}
	if row == nil {
		return nil, nil, gatehouse.Errorf(gatehouse.ENotFound, "user or session not found")
	}
	return u, row.toDomain(), nil
}

// APIKeyBySecret loads, in one statement, the key whose secret has this hash and its owner with
// roles. An unknown hash is ENotFound. Whether the key may still be used (revoked, expired,
// owner inactive, stamp changed) is the caller's decision. The lookup is by the hash of a
// 256-bit secret through a unique index, so its timing reveals nothing about the secret.
func (s *Store) APIKeyBySecret(ctx context.Context, secretHash string) (k *gatehouse.APIKey, owner *gatehouse.User, err error) {
	defer wrapErr(&err, "store.APIKeyBySecret")
	row, owner, err := credentialWithUser[apiKeyRow](ctx, s, "api_key", s.apiKeyQuery, secretHash)
	if err != nil {
		return nil, nil, err
	}
	if row == nil {
		return nil, nil, gatehouse.Errorf(gatehouse.ENotFound, "API key not found")
	}
	return row.toDomain(), owner, nil
}

// credentialWithUser runs the prepared statement key, whose columns are those of T, then of
// userRow, then a role name, and returns the T row and the user with its roles (nil, nil when
// there is no row).
func credentialWithUser[T any](ctx context.Context, s *Store, key string, build func() string, args ...any) (*T, *gatehouse.User, error) {
	credFields, userFields := fieldsOf[T](s), fieldsOf[userRow](s)
	var (
		cred *T
		u    *gatehouse.User
	)
	err := s.readStmt(ctx, func(ctx context.Context) error {
		cred, u = nil, nil
		st, err := s.prepared(ctx, key, build) //nolint:sqlclosecheck // owned by the Store (prepared.go)
		if err != nil {
			return err
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var (
			cr   T
			ur   userRow
			role sql.NullString
		)
		dest := make([]any, 0, len(credFields)+len(userFields)+1)
		dest = fieldPtrs(fieldPtrs(dest, &cr, credFields), &ur, userFields)
		dest = append(dest, &role)
		roles := []gatehouse.Role{} // as rolesOf returns for a user without roles
		found := false
		for rows.Next() {
			// Every row repeats the credential and the user; only the role differs.
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			found = true
			if role.Valid {
				roles = append(roles, gatehouse.Role(role.String))
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if found {
			cred, u = &cr, ur.toDomain(roles)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return cred, u, nil
}
