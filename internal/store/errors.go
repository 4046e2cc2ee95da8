package store

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/gatehousehq/gatehouse"
)

// wrapErr prefixes a non-nil *err with the operation and its key arguments, keeping the domain
// code and message intact, so a log line reads like a trace.
func wrapErr(err *error, format string, args ...any) {
	if *err == nil {
		return
	}
	op := fmt.Sprintf(format, args...)
	var de *gatehouse.Error
	if errors.As(*err, &de) {
		c := *de // keep the code, message, fields and wire reason
		c.Err = fmt.Errorf("%s: %w", op, errOrSelf(de))
		*err = &c
		return
	}
	*err = fmt.Errorf("%s: %w", op, *err)
}

func errOrSelf(de *gatehouse.Error) error {
	if de.Err != nil {
		return de.Err
	}
	return errors.New(de.Message)
}

// notFound turns sql.ErrNoRows into ENotFound with msg.
func notFound(err error, msg string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return gatehouse.Wrap(gatehouse.ENotFound, err, "%s", msg)
	}
	return err
}

// mustAffect turns an update or delete that matched no row into ENotFound.
func mustAffect(res sql.Result, msg string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return gatehouse.Errorf(gatehouse.ENotFound, "%s", msg)
	}
	return nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
