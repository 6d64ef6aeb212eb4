package api

// runRoutes lists the runs/ endpoints (to be written).
func (a *API) runRoutes() []route { return nil }
