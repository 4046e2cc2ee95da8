package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/internal/app"
	"github.com/gatehousehq/gatehouse/internal/auth"
	"github.com/gatehousehq/gatehouse/internal/config"
)

// seed migrates the database with app.New and inserts the data set through the store, with one
// precomputed hash for every user. It returns the team owned by each of the first users.
// Inserts run on a few goroutines: SQLite serialises them anyway, and the server engines seed
// several times faster that way.
func seed(ctx context.Context, o options, env map[string]string) ([]int64, error) {
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		return nil, err
	}
	a, err := app.New(ctx, cfg, app.Options{})
	if err != nil {
		return nil, err
	}
	defer a.Close()
	h := auth.Hasher{Cost: o.bcryptCost, Salt: []byte(benchSalt)}
	hash, scheme, err := h.Hash(benchPassword)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	users := make([]int64, o.seedUsers)
	err = parallel(len(users), func(i int) error {
		u := &gatehouse.User{Email: userEmail(i), PasswordHash: hash, PasswordScheme: scheme, Active: true, ConfirmedAt: &now}
		if err := a.Store.CreateUser(ctx, u); err != nil {
			return err
		}
		users[i] = u.ID
		return nil
	})
	if err != nil {
		return nil, err
	}
	teams := make([]int64, o.seedTeams)
	err = parallel(len(teams), func(j int) error {
		t := &gatehouse.Team{Name: fmt.Sprintf("Team %d", j), Description: "seeded by gatehouse-bench"}
		if err := a.Store.CreateTeam(ctx, t, users[j%len(users)]); err != nil {
			return err
		}
		teams[j] = t.ID
		for k := range o.seedProj {
			p := &gatehouse.Project{TeamID: t.ID, Name: fmt.Sprintf("Project %d-%d", j, k), CreatedBy: &users[j%len(users)]}
			if err := a.Store.CreateProject(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = parallel(len(users), func(i int) error {
		for k := 1; k <= o.seedMembers; k++ {
			j := (i*7 + k*131) % len(teams)
			if j == i%len(teams) {
				continue
			}
			m := &gatehouse.Membership{TeamID: teams[j], UserID: users[i], Role: gatehouse.TeamMember}
			if err := a.Store.SetMembership(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return teams[:o.concurrency], nil
}

// parallel runs fn(0..n-1) on 8 goroutines and returns the first error.
func parallel(n int, fn func(i int) error) error {
	const workers = 8
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

func userEmail(i int) string { return fmt.Sprintf("bench-%05d@example.com", i) }
