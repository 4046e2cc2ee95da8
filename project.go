package gatehouse

import "time"

// Project is the example team-owned resource: how an application adds its own resources under
// Gatehouse's rules (see docs/extending.md).
type Project struct {
	ID          int64
	TeamID      int64
	Name        string
	Description string
	CreatedBy   *int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ProjectPatch is a change of a project; nil fields stay as they are. Creating a project takes
// one too: its nil fields are empty.
type ProjectPatch struct {
	Name        *string
	Description *string
}
