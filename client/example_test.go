package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/gatehousehq/gatehouse/client"
)

// Sign in, create a team, invite someone to it, and make an API key that a script can use
// instead of a password.
func Example() {
	ctx := context.Background()
	gh := client.New("https://auth.example.com")

	res, err := gh.Login(ctx, client.LoginRequest{Email: "ana@example.com", Password: "correct horse battery staple"})
	if err != nil {
		log.Fatal(err)
	}
	if res.TwoFactor != nil {
		// The account has a second factor: ask for a code from one of res.TwoFactor.Methods.
		res, err = gh.LoginTwoFactor(ctx, client.TwoFactorRequest{Challenge: res.TwoFactor.Challenge, Method: "totp", Code: "123456"})
		if err != nil {
			log.Fatal(err)
		}
	}
	ana := gh.WithToken(res.Tokens.AccessToken)

	team, err := ana.CreateTeam(ctx, client.TeamInput{Name: "Platform"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := ana.CreateInvitation(ctx, team.ID, client.InvitationInput{Email: "ben@example.com", Role: "member"}); client.CodeOf(err) == "already_invited" {
		fmt.Println("ben has a pending invitation already")
	} else if err != nil {
		log.Fatal(err)
	}

	// A conditional change: refused with "precondition_failed" if someone changed the team
	// since it was read.
	name := "Platform services"
	if _, err := ana.UpdateTeam(ctx, team.ID, client.TeamPatch{Name: &name}, client.IfMatch(team.ETag)); err != nil {
		log.Fatal(err)
	}

	key, err := ana.CreateAPIKey(ctx, client.APIKeyInput{Name: "deploy", Scopes: []string{"read"}})
	if err != nil {
		log.Fatal(err)
	}
	script := gh.WithToken(key.Secret)
	for t, err := range client.All(ctx, client.ListOptions{}, script.ListTeams) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(t.Name, t.Role)
	}
}

// Errors the service answers are *client.Error values with the envelope's code and fields.
func ExampleError() {
	ctx := context.Background()
	_, err := client.New("https://auth.example.com").Register(ctx, client.RegisterRequest{Email: "not an address", Password: "x"})
	if e, ok := errors.AsType[*client.Error](err); ok && e.Code == "invalid" {
		for field, problem := range e.Fields {
			fmt.Printf("%s: %s\n", field, problem)
		}
	}
}
