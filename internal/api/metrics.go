package api

// metricRoutes lists the metrics/ endpoints (to be written).
func (a *API) metricRoutes() []route { return nil }
