package httpapi

// apiKeyRoutes are filled in by the apiKey endpoints.
func (s *server) apiKeyRoutes() []Route { return nil }
