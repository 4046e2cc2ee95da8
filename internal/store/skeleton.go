package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
	"go.mau.fi/util/confusable"

	"github.com/gatehousehq/gatehouse"
)

// ReasonEmailConfusable is the Reason of the EConflict an address gets when it looks like the
// address of another account (same UTS #39 skeleton) without being it.
const ReasonEmailConfusable = "email_confusable"

// EmailSkeleton is the key under which addresses that look alike are the same: the UTS #39
// skeleton (confusables.txt, through go.mau.fi/util/confusable) of the normalised address,
// lower-cased again because the mapping can produce capitals ("0" becomes "O"), as a SHA-256 hex
// digest so that the indexed column has a fixed size on every engine. "pаypal@example.com"
// (Cyrillic а) and "paypal@example.com" share it; so do "rn" and "m", and "1" and "l".
func EmailSkeleton(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(confusable.Skeleton(NormalizeEmail(email)))))
	return hex.EncodeToString(sum[:])
}

// errEmailConfusable is the refusal of an address confusable with another account's.
func errEmailConfusable(field string) error {
	problem := "looks like the address of another account (confusable characters); use a different address"
	return &gatehouse.Error{Code: gatehouse.EConflict, Reason: ReasonEmailConfusable,
		Message: field + ": " + problem, Fields: map[string]string{field: problem}}
}

// confusableTaken reports whether another account (not exceptID, and not the same address
// compared case-insensitively: that is the unique index's business) has an address with the
// skeleton of email.
func confusableTaken(ctx context.Context, tx bun.IDB, email string, exceptID int64) (bool, error) {
	return tx.NewSelect().Model((*userRow)(nil)).
		Where("email_skeleton = ?", EmailSkeleton(email)).
		Where("email_lower <> ?", NormalizeEmail(email)).
		Where("id <> ?", exceptID).Exists(ctx)
}

// EmailConfusable reports whether email looks like (UTS #39 skeleton) the address of an account
// other than exceptID without being it.
func (s *Store) EmailConfusable(ctx context.Context, email string, exceptID int64) (found bool, err error) {
	defer wrapErr(&err, "store.EmailConfusable")
	err = s.ReadTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		found, err = confusableTaken(ctx, tx, email, exceptID)
		return err
	})
	return found, err
}

// backfillEmailSkeletons computes the skeleton of accounts written before migration 00040 (or by
// anything that bypassed the store). Every store write sets it, so after one pass at start-up
// every row has one; instances starting together write the same values.
func (s *Store) backfillEmailSkeletons(ctx context.Context) error {
	var after int64
	for {
		var rows []userRow
		if err := s.db.NewSelect().Model(&rows).Column("id", "email").Where("email_skeleton IS NULL").
			Where("id > ?", after).OrderExpr("id").Limit(500).Scan(ctx); err != nil {
			return fmt.Errorf("store: backfill email skeletons: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		for _, r := range rows {
			after = r.ID
			err := s.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
				_, err := tx.NewUpdate().Model((*userRow)(nil)).Set("email_skeleton = ?", EmailSkeleton(r.Email)).
					Where("id = ?", r.ID).Where("email = ?", r.Email).Exec(ctx)
				return err
			})
			if err != nil {
				return fmt.Errorf("store: backfill email skeletons: %w", err)
			}
		}
	}
}
