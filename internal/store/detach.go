package store

import (
	"context"
	"database/sql/driver"
	"io"
	"sync/atomic"
	"time"
)

// When a client goes away, net/http cancels its request's context, and with it the database work
// of the request. Every driver answers a cancellation in the middle of a statement by losing the
// connection: pgx's default context watcher (pgconn.DeadlineContextWatcherHandler) sets a past
// deadline on the socket, the read fails and the connection is closed (PgConn.asyncClose);
// go-sql-driver/mysql's watcher calls mysqlConn.cancel, which closes it too; modernc's SQLite
// interrupts the statement, and a connection whose interrupt is still pending (one that arrived
// as a statement ended) is reported invalid (sqlite3_is_interrupted, conn.IsValid) and discarded
// by database/sql, which also rolls back a transaction whose context ends. The next request
// pays a new connection: on a server engine TCP, TLS, authentication and a new server session
// (4-11 new PostgreSQL sessions per pair of benchmark runs), on SQLite opening the file and
// preparing every statement again.
//
// So a transaction or prepared read runs on a context detached from the caller's cancellation:
// a statement once started finishes (Gatehouse's statements take milliseconds) and its connection
// goes back to the pool. It is not unbounded: cancelGrace after the caller's context ends, the
// detached one ends too, so a statement stuck on a lock still stops (and that rare one still
// costs its connection). What the caller asked for still has no effect when it left before the
// end: a transaction whose caller is gone is rolled back instead of committed (tryTx), and
// whether to start or retry is decided on the caller's context.
//
// Sending PostgreSQL a cancel request instead (pgconn.CancelRequestContextWatcherHandler) would
// keep the connection, but needs a second connection per cancellation, can cancel the next
// statement on that connection when it races, and has no MySQL or SQLite equivalent.

// cancelGrace is how long database work goes on after its caller's context has ended.
const cancelGrace = 5 * time.Second

// detach returns the context to run one transaction or statement on, and the function that
// releases it when that is over. For a context that cannot be cancelled it is ctx.
func (s *Store) detach(ctx context.Context) (context.Context, func()) {
	if ctx.Done() == nil {
		return ctx, func() {}
	}
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(cancelGrace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-dctx.Done():
		}
	})
	return dctx, func() {
		stop()
		cancel()
	}
}

// ConnectionsOpened returns how many connections the pool has opened since Open: with the pool's
// size known, a figure that keeps growing means connections are being lost (the test of detach
// counts on it; an operator reads the same from the database server's session count).
func (s *Store) ConnectionsOpened() int64 { return s.opened.Load() }

// countingConnector counts the connections the pool opens.
type countingConnector struct {
	driver.Connector
	n *atomic.Int64
}

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err == nil {
		c.n.Add(1)
	}
	return conn, err
}

// Close closes the wrapped connector when it has resources of its own (database/sql calls it
// from DB.Close).
func (c countingConnector) Close() error {
	if cl, ok := c.Connector.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}
