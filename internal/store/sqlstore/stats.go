package sqlstore

import "database/sql"

// Stats is the connection pool statistics of the store, for /metrics. On
// SQLite the single writer connection's pool is added to the readers'.
func (s *Store) Stats() sql.DBStats {
	st := s.db.Stats()
	if s.writeDB != nil && s.writeDB != s.db {
		w := s.writeDB.Stats()
		st.MaxOpenConnections += w.MaxOpenConnections
		st.OpenConnections += w.OpenConnections
		st.InUse += w.InUse
		st.Idle += w.Idle
		st.WaitCount += w.WaitCount
		st.WaitDuration += w.WaitDuration
		st.MaxIdleClosed += w.MaxIdleClosed
		st.MaxIdleTimeClosed += w.MaxIdleTimeClosed
		st.MaxLifetimeClosed += w.MaxLifetimeClosed
	}
	return st
}
