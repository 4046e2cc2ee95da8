package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"
)

type settingRow struct {
	bun.BaseModel `bun:"table:settings,alias:st"`

	Name      string    `bun:"name,pk"`
	Value     string    `bun:"value"`
	CreatedAt time.Time `bun:"created_at"`
}

// EnsureSetting stores value under name unless a value is stored already, and returns the
// stored one. Instances starting together agree: the first insert wins and everyone reads it.
func (s *Store) EnsureSetting(ctx context.Context, name, value string) (stored string, err error) {
	defer wrapErr(&err, "store.EnsureSetting(%q)", name)
	for range 3 {
		err = s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			row := new(settingRow)
			err := tx.NewSelect().Model(row).Where("name = ?", name).Scan(ctx)
			if err == nil {
				stored = row.Value
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			row = &settingRow{Name: name, Value: value, CreatedAt: utc(s.now())}
			if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
				return err
			}
			stored = value
			return nil
		})
		// A concurrent instance inserted first: read its value on the next round.
		if err == nil || !s.dialect.IsUniqueViolation(err) {
			break
		}
	}
	if err != nil {
		return "", s.mapErr(err)
	}
	return stored, nil
}

// SigningKey is a stored JWT signing key.
type SigningKey struct {
	KID        string
	Alg        string
	PrivatePEM string
	CreatedAt  time.Time
	// ActivatesAt is when the key starts signing; zero means CreatedAt.
	ActivatesAt time.Time
	RetiredAt   *time.Time
}

type signingKeyRow struct {
	bun.BaseModel `bun:"table:signing_keys,alias:sk"`

	KID         string     `bun:"kid,pk"`
	Alg         string     `bun:"alg"`
	PrivatePEM  string     `bun:"private_pem"`
	CreatedAt   time.Time  `bun:"created_at"`
	ActivatesAt *time.Time `bun:"activates_at"`
	RetiredAt   *time.Time `bun:"retired_at"`
}

func (r signingKeyRow) key() SigningKey {
	k := SigningKey{KID: r.KID, Alg: r.Alg, PrivatePEM: r.PrivatePEM, CreatedAt: utc(r.CreatedAt), RetiredAt: utcPtr(r.RetiredAt)}
	if r.ActivatesAt != nil {
		k.ActivatesAt = utc(*r.ActivatesAt)
	}
	return k
}

// SigningKeys lists the keys not yet retired, newest first.
func (s *Store) SigningKeys(ctx context.Context) (keys []SigningKey, err error) {
	defer wrapErr(&err, "store.SigningKeys")
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []signingKeyRow
		if err := tx.NewSelect().Model(&rows).Where("retired_at IS NULL").OrderExpr("created_at DESC, kid").Scan(ctx); err != nil {
			return err
		}
		keys = make([]SigningKey, len(rows))
		for i, r := range rows {
			keys[i] = r.key()
		}
		return nil
	})
	return keys, err
}

// AllSigningKeys lists every key, retired ones too, newest first (for `gatehouse keys list`).
func (s *Store) AllSigningKeys(ctx context.Context) (keys []SigningKey, err error) {
	defer wrapErr(&err, "store.AllSigningKeys")
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []signingKeyRow
		if err := tx.NewSelect().Model(&rows).OrderExpr("created_at DESC, kid").Scan(ctx); err != nil {
			return err
		}
		keys = make([]SigningKey, len(rows))
		for i, r := range rows {
			keys[i] = r.key()
		}
		return nil
	})
	return keys, err
}

// AddSigningKey stores a new key. It verifies at once and signs from ActivatesAt (CreatedAt when
// zero) as the newest key whose time has come.
func (s *Store) AddSigningKey(ctx context.Context, k SigningKey) (err error) {
	defer wrapErr(&err, "store.AddSigningKey(%q)", k.KID)
	row := &signingKeyRow{KID: k.KID, Alg: k.Alg, PrivatePEM: k.PrivatePEM, CreatedAt: utc(k.CreatedAt)}
	if !k.ActivatesAt.IsZero() {
		at := utc(k.ActivatesAt)
		row.ActivatesAt = &at
	}
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(row).Exec(ctx)
		return err
	})
}

// RetireSigningKey stops a key from verifying tokens.
func (s *Store) RetireSigningKey(ctx context.Context, kid string) (err error) {
	defer wrapErr(&err, "store.RetireSigningKey(%q)", kid)
	now := utc(s.now())
	return s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*signingKeyRow)(nil)).Set("retired_at = ?", now).Where("kid = ? AND retired_at IS NULL", kid).Exec(ctx)
		if err != nil {
			return err
		}
		return mustAffect(res, "no active signing key with this kid")
	})
}
