package httpapi

// userRoutes are filled in by the user endpoints.
func (s *server) userRoutes() []Route { return nil }
