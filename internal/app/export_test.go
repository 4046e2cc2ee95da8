package app

import "context"

// CleanOnce runs one round of the background clean-up (tests cannot wait for its ticker).
func (a *App) CleanOnce(ctx context.Context) { a.cleanOnce(ctx) }
