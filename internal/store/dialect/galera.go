package dialect

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/go-sql-driver/mysql"

	"github.com/gatehousehq/gatehouse/internal/config"
)

// galeraConnector opens each new pooled connection on the first node of DB_HOST that is ready
// and Synced. Every instance tries the nodes in the same order, so in normal operation all
// writes go to one node and certification conflicts stay rare; when that node dies or leaves
// the primary component, new connections fail over to the next one.
type galeraConnector struct {
	nodes []driver.Connector
	addrs []string
	drv   driver.Driver
}

func newGaleraConnector(cfg config.DB) (driver.Connector, error) {
	gc := &galeraConnector{drv: &mysql.MySQLDriver{}}
	for _, h := range cfg.Hosts {
		c, err := mysql.NewConnector(MySQLConfig(cfg, h, true))
		if err != nil {
			return nil, fmt.Errorf("galera node %s: %w", h, err)
		}
		gc.nodes = append(gc.nodes, c)
		gc.addrs = append(gc.addrs, h)
	}
	return gc, nil
}

func (g *galeraConnector) Driver() driver.Driver { return g.drv }

// Connect returns a connection to the first ready, Synced node.
func (g *galeraConnector) Connect(ctx context.Context) (driver.Conn, error) {
	var problems []string
	var refused []error // permanent errors (IsPermanent), one per node that gave one
	for i, n := range g.nodes {
		conn, err := n.Connect(ctx)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", g.addrs[i], err))
			if IsPermanent(err) {
				refused = append(refused, fmt.Errorf("%s: %w", g.addrs[i], err))
			}
			continue
		}
		if err := CheckWsrep(ctx, conn); err != nil {
			_ = conn.Close()
			problems = append(problems, fmt.Sprintf("%s: %v", g.addrs[i], err))
			continue
		}
		return &galeraConn{Conn: conn}, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(refused) == len(g.nodes) {
		// Every node refused the credentials or database: no retry will help.
		return nil, fmt.Errorf("galera: every node refused the connection: %w", errors.Join(refused...))
	}
	// ErrBadConn lets database/sql retry the operation with a fresh connection attempt.
	return nil, fmt.Errorf("galera: no node is ready and Synced (%s): %w", strings.Join(problems, "; "), driver.ErrBadConn)
}

// wsrepSynced is wsrep_local_state 4 (Synced); a Donor or Joiner node may serve stale data.
const wsrepSynced = "4"

// CheckWsrep returns nil when the node behind conn has wsrep_ready=ON and is Synced.
func CheckWsrep(ctx context.Context, conn driver.Conn) error {
	q, ok := conn.(driver.QueryerContext)
	if !ok {
		return errors.New("driver connection cannot query")
	}
	rows, err := q.QueryContext(ctx, "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_local_state')", nil)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	status := map[string]string{}
	dest := make([]driver.Value, 2)
	for {
		if err := rows.Next(dest); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return err
		}
		status[strings.ToLower(asString(dest[0]))] = asString(dest[1])
	}
	if len(status) == 0 {
		return errors.New("not a Galera node (no wsrep status)")
	}
	if !strings.EqualFold(status["wsrep_ready"], "ON") {
		return fmt.Errorf("wsrep_ready=%s", status["wsrep_ready"])
	}
	if status["wsrep_local_state"] != wsrepSynced {
		return fmt.Errorf("wsrep_local_state=%s, not Synced", status["wsrep_local_state"])
	}
	return nil
}

func asString(v driver.Value) string {
	switch s := v.(type) {
	case []byte:
		return string(s)
	case string:
		return s
	}
	return fmt.Sprint(v)
}

// galeraConn forwards to the MySQL connection and remembers when the node said it cannot serve
// (not ready, lost quorum) or went away, so that database/sql drops the connection instead of
// reusing it.
type galeraConn struct {
	driver.Conn
	broken atomic.Bool
}

func (c *galeraConn) observe(err error) error {
	var me *mysql.MySQLError
	if (errors.As(err, &me) && (me.Number == 1047 || me.Number == 1180)) || IsServerGone(err) {
		c.broken.Store(true)
	}
	return err
}

// IsValid implements driver.Validator.
func (c *galeraConn) IsValid() bool {
	if c.broken.Load() {
		return false
	}
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// ResetSession implements driver.SessionResetter.
func (c *galeraConn) ResetSession(ctx context.Context) error {
	if c.broken.Load() {
		return driver.ErrBadConn
	}
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

// BeginTx implements driver.ConnBeginTx.
func (c *galeraConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	return tx, c.observe(err)
}

// ExecContext implements driver.ExecerContext.
func (c *galeraConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	r, err := c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
	return r, c.observe(err)
}

// QueryContext implements driver.QueryerContext.
func (c *galeraConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	r, err := c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
	return r, c.observe(err)
}

// PrepareContext implements driver.ConnPrepareContext.
func (c *galeraConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	s, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	return s, c.observe(err)
}

// Ping implements driver.Pinger.
func (c *galeraConn) Ping(ctx context.Context) error {
	return c.observe(c.Conn.(driver.Pinger).Ping(ctx))
}

// CheckNamedValue implements driver.NamedValueChecker.
func (c *galeraConn) CheckNamedValue(nv *driver.NamedValue) error {
	if nc, ok := c.Conn.(driver.NamedValueChecker); ok {
		return nc.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}
