package gatehouse

import "time"

// TeamRole is a role a user holds within one team. Its string is the lower-case wire name.
type TeamRole string

// The team roles of the standard.
const (
	TeamOwner  TeamRole = "owner"  // full control of the team
	TeamAdmin  TeamRole = "admin"  // manages members and settings
	TeamMember TeamRole = "member" // normal access
	TeamViewer TeamRole = "viewer" // read only
)

// Valid reports whether r is one of the team roles.
func (r TeamRole) Valid() bool {
	switch r {
	case TeamOwner, TeamAdmin, TeamMember, TeamViewer:
		return true
	}
	return false
}

// Team groups users; resources belong to a team.
type Team struct {
	ID          int64
	Name        string
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Membership places a user in a team with a team role.
type Membership struct {
	TeamID    int64
	UserID    int64
	Role      TeamRole
	CreatedAt time.Time
}
