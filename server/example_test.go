package server_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"testing/fstest"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/authz"
	"github.com/gatehousehq/gatehouse/rest"
	"github.com/gatehousehq/gatehouse/server"
)

// A host program's main: Gatehouse configured from the environment like the gatehouse command
// (DB_TYPE, DB_PATH, HTTP_ADDR, … see docs/configuration.md), with the program's resources,
// serving until SIGINT or SIGTERM.
func ExampleNew() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var resources []server.Resource // the program's own (see the resource example)
	srv, err := server.New(ctx, server.Options{Getenv: os.Getenv, Resources: resources})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = srv.Close() }()
	if err := srv.ListenAndServe(ctx); err != nil {
		log.Fatal(err)
	}
}

// A program that serves Gatehouse beside its own handlers mounts Handler and runs the background
// work itself.
func ExampleServer_Handler() {
	ctx := context.Background()
	srv, err := server.New(ctx, server.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = srv.Close() }()
	go srv.Run(ctx) // mail delivery, key reloads, clean-up

	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler()) // the API, the pages, /healthz …
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, _ *http.Request) { _, _ = fmt.Fprintln(w, "hello") })
	log.Fatal(http.ListenAndServe(":8080", mux))
}

// A resource owned by a team: one action, its rule, its route and its table. The route's action
// is decided before the handler runs, in the team {id} of the path.
func Example_resource() {
	const create = "bookmarks.create"
	bookmarks := server.Resource{
		Name: "bookmarks",
		Rules: []authz.Rule{
			authz.TeamRule("Bookmarks", create, gatehouse.ScopeWrite, "add bookmarks to this team", authz.TeamWriters),
		},
		// Usually //go:embed migrations, with the same versions in each family.
		Migrations: fstest.MapFS{
			"postgres/00001_bookmarks.sql": {Data: []byte("-- +goose Up\nCREATE TABLE bookmarks (id BIGSERIAL PRIMARY KEY, team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE, url TEXT NOT NULL);\n-- +goose Down\nDROP TABLE bookmarks;\n")},
			"mysql/00001_bookmarks.sql":    {Data: []byte("-- +goose Up\nCREATE TABLE bookmarks (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, team_id BIGINT NOT NULL, url TEXT NOT NULL, FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE) ENGINE=InnoDB;\n-- +goose Down\nDROP TABLE bookmarks;\n")},
			"sqlite/00001_bookmarks.sql":   {Data: []byte("-- +goose Up\nCREATE TABLE bookmarks (id INTEGER PRIMARY KEY AUTOINCREMENT, team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE, url TEXT NOT NULL);\n-- +goose Down\nDROP TABLE bookmarks;\n")},
		},
		Routes: func(k *server.Kit) []rest.Route {
			add := func(w http.ResponseWriter, r *http.Request) error {
				var in struct {
					URL string `json:"url"`
				}
				if err := rest.Decode(r, &in); err != nil {
					return err // 400 naming the field, 413, 415
				}
				team := server.CallerOf(r).TeamID
				var id int64
				err := k.InTx(r.Context(), func(ctx context.Context, tx *server.Tx) (err error) {
					if id, err = tx.InsertID(ctx, "INSERT INTO bookmarks (team_id, url) VALUES (?, ?)", team, in.URL); err != nil {
						return err
					}
					return tx.Audit(ctx, k.Event(r, in.URL)) // commits with the row, or not at all
				})
				if err != nil {
					return err
				}
				return rest.RespondCreated(w, r, fmt.Sprintf("/api/v1/teams/%d/bookmarks/%d", team, id), map[string]any{"id": id, "url": in.URL})
			}
			return []rest.Route{{Pattern: "POST /api/v1/teams/{id}/bookmarks", Handler: add, Auth: rest.Authenticated, Action: create}}
		},
	}
	srv, err := server.New(context.Background(), server.Options{Resources: []server.Resource{bookmarks}})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = srv.Close() }()
	log.Fatal(srv.ListenAndServe(context.Background()))
}

// A list ordered by id, paged with a cursor: the query ends with "id > ? ORDER BY id LIMIT ?".
func ExampleListByID() {
	type bookmark struct {
		ID  int64  `json:"id"`
		URL string `json:"url"`
	}
	scan := func(row server.Scanner, b *bookmark) error { return row.Scan(&b.ID, &b.URL) }
	var k *server.Kit // the resource's, from Resource.Routes
	_ = func(w http.ResponseWriter, r *http.Request) error {
		return server.ListByID(w, r, k, scan, func(b bookmark) int64 { return b.ID },
			"SELECT id, url FROM bookmarks WHERE team_id = ? AND id > ? ORDER BY id LIMIT ?", server.CallerOf(r).TeamID)
	}
}
