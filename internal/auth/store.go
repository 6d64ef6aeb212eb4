package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"                   // registers the "pgx" driver
	_ "github.com/mltrack/mltrack/internal/sqlitedriver" // registers the "sqlite" driver

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store/sqlstore"
)

// The auth database has MLflow's basic-auth tables (users,
// experiment_permissions, registered_model_permissions, scorer_permissions,
// with Alembic's version in alembic_version_auth) so that a database written
// by `mlflow server --app-name basic-auth` works as is, plus two tables of
// ours that MLflow ignores: mltrack_access_tokens and mltrack_sessions.

// Alembic revisions of MLflow's auth schema that we know.
const (
	authRevisionInitial = "8606fa83a998" // users and the two permission tables
	authRevisionHead    = "0965eb92f5f0" // + scorer_permissions (MLflow 3.6)
)

// db is the auth database.
type db struct {
	sql *sql.DB
	pg  bool
}

func openDB(ctx context.Context, uri string) (*db, error) {
	scheme, _, ok := strings.Cut(uri, "://")
	if !ok {
		return nil, fmt.Errorf("auth: database URI %q has no scheme (want sqlite:///path or postgresql://...)", uri)
	}
	if i := strings.IndexByte(scheme, '+'); i >= 0 {
		scheme = scheme[:i]
	}
	d := &db{}
	switch scheme {
	case "sqlite":
		path := strings.TrimPrefix(uri, "sqlite://")
		path, _, _ = strings.Cut(path, "?")
		path = strings.TrimPrefix(path, "/")
		if path == "" || path == ":memory:" {
			return nil, errors.New("auth: an in-memory auth database would lose every user at restart; give a file")
		}
		if err := sqlstore.CheckSQLitePath(path); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
		dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
			"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		s, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("auth: open sqlite %s: %w", path, err)
		}
		s.SetMaxOpenConns(4)
		if err := s.PingContext(ctx); err != nil {
			s.Close()
			abs, _ := filepath.Abs(path)
			return nil, fmt.Errorf("auth: open SQLite database %s: %w", abs, err)
		}
		d.sql = s
	case "postgresql", "postgres":
		_, rest, _ := strings.Cut(uri, "://")
		s, err := sql.Open("pgx", "postgresql://"+rest)
		if err != nil {
			return nil, fmt.Errorf("auth: open postgresql: %w", err)
		}
		s.SetMaxOpenConns(8)
		d.sql, d.pg = s, true
	default:
		return nil, fmt.Errorf("auth: unsupported database URI scheme %q (want sqlite or postgresql)", scheme)
	}
	if err := d.migrate(ctx); err != nil {
		d.sql.Close()
		return nil, err
	}
	return d, nil
}

func (d *db) Close() error { return d.sql.Close() }

// q rewrites ? placeholders as $n for PostgreSQL.
func (d *db) q(query string) string {
	if !d.pg {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (d *db) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("auth: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("auth: commit: %w", err)
	}
	return nil
}

func (d *db) hasTable(ctx context.Context, name string) (bool, error) {
	var n int
	var err error
	if d.pg {
		err = d.sql.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1", name).Scan(&n)
	} else {
		err = d.sql.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", name).Scan(&n)
	}
	return n > 0, err
}

// mlflowSchema creates MLflow's auth tables at authRevisionInitial.
func (d *db) mlflowSchema() []string {
	id := "id INTEGER NOT NULL PRIMARY KEY"
	if d.pg {
		id = "id SERIAL NOT NULL PRIMARY KEY"
	}
	return []string{
		`CREATE TABLE users (` + id + `, username VARCHAR(255), password_hash VARCHAR(255), is_admin BOOLEAN, UNIQUE (username))`,
		`CREATE TABLE experiment_permissions (` + id + `, experiment_id VARCHAR(255) NOT NULL, user_id INTEGER NOT NULL, permission VARCHAR(255),
			CONSTRAINT fk_user_id FOREIGN KEY (user_id) REFERENCES users (id),
			CONSTRAINT unique_experiment_user UNIQUE (experiment_id, user_id))`,
		`CREATE TABLE registered_model_permissions (` + id + `, name VARCHAR(255) NOT NULL, user_id INTEGER NOT NULL, permission VARCHAR(255),
			CONSTRAINT fk_user_id FOREIGN KEY (user_id) REFERENCES users (id),
			CONSTRAINT unique_name_user UNIQUE (name, user_id))`,
	}
}

func (d *db) scorerSchema() string {
	id := "id INTEGER NOT NULL PRIMARY KEY"
	if d.pg {
		id = "id SERIAL NOT NULL PRIMARY KEY"
	}
	return `CREATE TABLE scorer_permissions (` + id + `, experiment_id VARCHAR(255) NOT NULL, scorer_name VARCHAR(256) NOT NULL,
		user_id INTEGER NOT NULL, permission VARCHAR(255),
		CONSTRAINT fk_scorer_perm_user_id FOREIGN KEY (user_id) REFERENCES users (id),
		CONSTRAINT unique_scorer_user UNIQUE (experiment_id, scorer_name, user_id))`
}

// ownSchema is mltrack's tables; MLflow never looks at them.
var ownSchema = []string{
	`CREATE TABLE IF NOT EXISTS mltrack_access_tokens (
		id VARCHAR(32) NOT NULL PRIMARY KEY,
		user_id INTEGER NOT NULL REFERENCES users (id),
		name VARCHAR(255) NOT NULL,
		token_hash VARCHAR(64) NOT NULL UNIQUE,
		created_at BIGINT NOT NULL,
		expires_at BIGINT,
		last_used_at BIGINT)`,
	`CREATE INDEX IF NOT EXISTS mltrack_access_tokens_user ON mltrack_access_tokens (user_id)`,
	`CREATE TABLE IF NOT EXISTS mltrack_sessions (
		token_hash VARCHAR(64) NOT NULL PRIMARY KEY,
		user_id INTEGER NOT NULL REFERENCES users (id),
		csrf_token VARCHAR(64) NOT NULL,
		created_at BIGINT NOT NULL,
		expires_at BIGINT NOT NULL)`,
}

// migrate brings the database to MLflow's head revision as MLflow's own
// migrations would: an empty database gets the whole schema, a database at
// the initial revision (or from before MLflow 3.6, which had no version
// table) gets scorer_permissions. A revision we do not know is refused.
func (d *db) migrate(ctx context.Context) error {
	hasUsers, err := d.hasTable(ctx, "users")
	if err != nil {
		return fmt.Errorf("auth: inspect database: %w", err)
	}
	hasVersion, err := d.hasTable(ctx, "alembic_version_auth")
	if err != nil {
		return fmt.Errorf("auth: inspect database: %w", err)
	}
	rev := ""
	if hasVersion {
		if err := d.sql.QueryRowContext(ctx, "SELECT version_num FROM alembic_version_auth").Scan(&rev); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("auth: read alembic_version_auth: %w", err)
		}
	}
	if hasUsers && rev == "" {
		rev = authRevisionInitial // MLflow < 3.6 created the tables without a version
	}
	if rev != "" && rev != authRevisionInitial && rev != authRevisionHead {
		return fmt.Errorf("auth: the auth database is at MLflow auth schema revision %s, which mltrack does not know (it knows %s); refusing to use it", rev, authRevisionHead)
	}
	return d.tx(ctx, func(tx *sql.Tx) error {
		var stmts []string
		if !hasUsers {
			stmts = append(stmts, d.mlflowSchema()...)
		}
		if rev != authRevisionHead {
			stmts = append(stmts, d.scorerSchema())
		}
		if !hasVersion {
			stmts = append(stmts, `CREATE TABLE alembic_version_auth (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_auth_pkc PRIMARY KEY (version_num))`)
		}
		if rev != authRevisionHead {
			stmts = append(stmts, `DELETE FROM alembic_version_auth`, `INSERT INTO alembic_version_auth (version_num) VALUES ('`+authRevisionHead+`')`)
		}
		stmts = append(stmts, ownSchema...)
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("auth: create schema: %w", err)
			}
		}
		return nil
	})
}

// User is an account of the auth database.
type User struct {
	ID           int64
	Username     string
	PasswordHash string
	IsAdmin      bool
}

func userNotFound(name string) error {
	return mlflow.NotFound("User with username=%s not found", name)
}

func (d *db) userByName(ctx context.Context, name string) (*User, error) {
	return d.scanUser(d.sql.QueryRowContext(ctx, d.q("SELECT id, username, password_hash, is_admin FROM users WHERE username = ?"), name), name)
}

func (d *db) userByID(ctx context.Context, id int64) (*User, error) {
	return d.scanUser(d.sql.QueryRowContext(ctx, d.q("SELECT id, username, password_hash, is_admin FROM users WHERE id = ?"), id), strconv.FormatInt(id, 10))
}

func (d *db) scanUser(row *sql.Row, name string) (*User, error) {
	var u User
	var hash sql.NullString
	var admin sql.NullBool
	err := row.Scan(&u.ID, &u.Username, &hash, &admin)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userNotFound(name)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: get user: %w", err)
	}
	u.PasswordHash, u.IsAdmin = hash.String, admin.Bool
	return &u, nil
}

func (d *db) listUsers(ctx context.Context) ([]User, error) {
	rows, err := d.sql.QueryContext(ctx, "SELECT id, username, is_admin FROM users ORDER BY username")
	if err != nil {
		return nil, fmt.Errorf("auth: list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		var admin sql.NullBool
		if err := rows.Scan(&u.ID, &u.Username, &admin); err != nil {
			return nil, fmt.Errorf("auth: list users: %w", err)
		}
		u.IsAdmin = admin.Bool
		out = append(out, u)
	}
	return out, rows.Err()
}

func isUniqueViolation(err error) bool {
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505") || strings.Contains(s, "duplicate key")
}

func (d *db) createUser(ctx context.Context, name, hash string, admin bool) (*User, error) {
	_, err := d.sql.ExecContext(ctx, d.q("INSERT INTO users (username, password_hash, is_admin) VALUES (?, ?, ?)"), name, hash, admin)
	if err != nil {
		if isUniqueViolation(err) {
			return nil, mlflow.Errorf(mlflow.ResourceAlreadyExists, "User (username=%s) already exists.", name)
		}
		return nil, fmt.Errorf("auth: create user: %w", err)
	}
	return d.userByName(ctx, name)
}

func (d *db) execOne(ctx context.Context, notFound error, query string, args ...any) error {
	res, err := d.sql.ExecContext(ctx, d.q(query), args...)
	if err != nil {
		return fmt.Errorf("auth: update: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound
	}
	return nil
}

func (d *db) setPassword(ctx context.Context, name, hash string) error {
	if err := d.execOne(ctx, userNotFound(name), "UPDATE users SET password_hash = ? WHERE username = ?", hash, name); err != nil {
		return err
	}
	// A new password ends the user's browser sessions.
	_, err := d.sql.ExecContext(ctx, d.q("DELETE FROM mltrack_sessions WHERE user_id = (SELECT id FROM users WHERE username = ?)"), name)
	return err
}

func (d *db) setAdmin(ctx context.Context, name string, admin bool) error {
	return d.execOne(ctx, userNotFound(name), "UPDATE users SET is_admin = ? WHERE username = ?", admin, name)
}

// deleteUser deletes a user with everything that points at it.
func (d *db) deleteUser(ctx context.Context, name string) error {
	u, err := d.userByName(ctx, name)
	if err != nil {
		return err
	}
	return d.tx(ctx, func(tx *sql.Tx) error {
		for _, t := range []string{"experiment_permissions", "registered_model_permissions", "scorer_permissions", "mltrack_access_tokens", "mltrack_sessions", "users"} {
			col := "user_id"
			if t == "users" {
				col = "id"
			}
			if _, err := tx.ExecContext(ctx, d.q("DELETE FROM "+t+" WHERE "+col+" = ?"), u.ID); err != nil {
				return fmt.Errorf("auth: delete user: %w", err)
			}
		}
		return nil
	})
}

// permTable is one of MLflow's two permission tables: key is the column
// naming the resource (experiment_id or name).
type permTable struct {
	table, key, what string
}

var (
	experimentPerms = permTable{"experiment_permissions", "experiment_id", "Experiment"}
	modelPerms      = permTable{"registered_model_permissions", "name", "Registered model"}
)

func (t permTable) notFound(resource, username string) error {
	if t.key == "name" {
		return mlflow.NotFound("Registered model permission with name=%s and username=%s not found", resource, username)
	}
	return mlflow.NotFound("Experiment permission with experiment_id=%s and username=%s not found", resource, username)
}

// permission returns a user's stored permission on a resource; ok is false
// when there is none.
func (d *db) permission(ctx context.Context, t permTable, resource string, userID int64) (perm string, ok bool, err error) {
	var p sql.NullString
	err = d.sql.QueryRowContext(ctx, d.q("SELECT permission FROM "+t.table+" WHERE "+t.key+" = ? AND user_id = ?"), resource, userID).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("auth: get permission: %w", err)
	}
	return p.String, true, nil
}

// permissions lists a user's stored permissions on every resource of a table.
func (d *db) permissions(ctx context.Context, t permTable, userID int64) (map[string]string, error) {
	rows, err := d.sql.QueryContext(ctx, d.q("SELECT "+t.key+", permission FROM "+t.table+" WHERE user_id = ?"), userID)
	if err != nil {
		return nil, fmt.Errorf("auth: list permissions: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k string
		var p sql.NullString
		if err := rows.Scan(&k, &p); err != nil {
			return nil, fmt.Errorf("auth: list permissions: %w", err)
		}
		out[k] = p.String
	}
	return out, rows.Err()
}

func (d *db) createPermission(ctx context.Context, t permTable, resource string, u *User, perm string) error {
	_, err := d.sql.ExecContext(ctx, d.q("INSERT INTO "+t.table+" ("+t.key+", user_id, permission) VALUES (?, ?, ?)"), resource, u.ID, perm)
	if err != nil {
		if isUniqueViolation(err) {
			return mlflow.Errorf(mlflow.ResourceAlreadyExists, "%s permission (%s=%s, username=%s) already exists.", t.what, t.key, resource, u.Username)
		}
		return fmt.Errorf("auth: create permission: %w", err)
	}
	return nil
}

// grant sets a user's permission on a resource, creating or replacing it.
func (d *db) grant(ctx context.Context, t permTable, resource string, userID int64, perm string) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, d.q("UPDATE "+t.table+" SET permission = ? WHERE "+t.key+" = ? AND user_id = ?"), perm, resource, userID)
		if err != nil {
			return fmt.Errorf("auth: grant: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, d.q("INSERT INTO "+t.table+" ("+t.key+", user_id, permission) VALUES (?, ?, ?)"), resource, userID, perm); err != nil {
			return fmt.Errorf("auth: grant: %w", err)
		}
		return nil
	})
}

func (d *db) updatePermission(ctx context.Context, t permTable, resource string, u *User, perm string) error {
	return d.execOne(ctx, t.notFound(resource, u.Username), "UPDATE "+t.table+" SET permission = ? WHERE "+t.key+" = ? AND user_id = ?", perm, resource, u.ID)
}

func (d *db) deletePermission(ctx context.Context, t permTable, resource string, u *User) error {
	return d.execOne(ctx, t.notFound(resource, u.Username), "DELETE FROM "+t.table+" WHERE "+t.key+" = ? AND user_id = ?", resource, u.ID)
}

// renameModelPermissions follows a registered model's rename.
func (d *db) renameModelPermissions(ctx context.Context, oldName, newName string) error {
	_, err := d.sql.ExecContext(ctx, d.q("UPDATE registered_model_permissions SET name = ? WHERE name = ?"), newName, oldName)
	return err
}

// deleteModelPermissions drops every grant on a deleted registered model,
// so that a new model of the same name starts with none.
func (d *db) deleteModelPermissions(ctx context.Context, name string) error {
	_, err := d.sql.ExecContext(ctx, d.q("DELETE FROM registered_model_permissions WHERE name = ?"), name)
	return err
}

// Token is a personal access token's record (never the token itself).
type Token struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Username   string `json:"username,omitempty"`
	CreatedAt  int64  `json:"creation_timestamp"`
	ExpiresAt  int64  `json:"expiration_timestamp,omitempty"`
	LastUsedAt int64  `json:"last_used_timestamp,omitempty"`
	userID     int64
}

// secretHash is how tokens and session IDs are stored: they are 256-bit
// random values, so a fast hash is enough to make a database leak useless.
func secretHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (d *db) createToken(ctx context.Context, u *User, name string, expiresAt int64) (*Token, string, error) {
	secret := "mlt_" + randomHex(32)
	t := &Token{ID: randomHex(16), Name: name, Username: u.Username, CreatedAt: time.Now().UnixMilli(), ExpiresAt: expiresAt}
	var exp any
	if expiresAt > 0 {
		exp = expiresAt
	}
	_, err := d.sql.ExecContext(ctx, d.q("INSERT INTO mltrack_access_tokens (id, user_id, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)"),
		t.ID, u.ID, name, secretHash(secret), t.CreatedAt, exp)
	if err != nil {
		return nil, "", fmt.Errorf("auth: create token: %w", err)
	}
	return t, secret, nil
}

func (d *db) listTokens(ctx context.Context, userID int64) ([]Token, error) {
	rows, err := d.sql.QueryContext(ctx, d.q(`SELECT t.id, t.name, u.username, t.created_at, t.expires_at, t.last_used_at
		FROM mltrack_access_tokens t JOIN users u ON u.id = t.user_id WHERE t.user_id = ? ORDER BY t.created_at, t.id`), userID)
	if err != nil {
		return nil, fmt.Errorf("auth: list tokens: %w", err)
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		var t Token
		var exp, used sql.NullInt64
		if err := rows.Scan(&t.ID, &t.Name, &t.Username, &t.CreatedAt, &exp, &used); err != nil {
			return nil, fmt.Errorf("auth: list tokens: %w", err)
		}
		t.ExpiresAt, t.LastUsedAt = exp.Int64, used.Int64
		out = append(out, t)
	}
	return out, rows.Err()
}

// tokenOwner finds the user ID of a token by its ID.
func (d *db) tokenOwner(ctx context.Context, id string) (int64, error) {
	var uid int64
	err := d.sql.QueryRowContext(ctx, d.q("SELECT user_id FROM mltrack_access_tokens WHERE id = ?"), id).Scan(&uid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, mlflow.NotFound("Access token with id=%s not found", id)
	}
	return uid, err
}

func (d *db) revokeToken(ctx context.Context, id string) error {
	return d.execOne(ctx, mlflow.NotFound("Access token with id=%s not found", id), "DELETE FROM mltrack_access_tokens WHERE id = ?", id)
}

// userByToken returns the owner of a valid (known, unexpired) token.
func (d *db) userByToken(ctx context.Context, secret string, now time.Time) (*User, error) {
	var id string
	var uid int64
	var exp, used sql.NullInt64
	err := d.sql.QueryRowContext(ctx, d.q("SELECT id, user_id, expires_at, last_used_at FROM mltrack_access_tokens WHERE token_hash = ?"), secretHash(secret)).Scan(&id, &uid, &exp, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: find token: %w", err)
	}
	ms := now.UnixMilli()
	if exp.Valid && exp.Int64 <= ms {
		return nil, nil
	}
	// Record use at most every five minutes: one write per token, not per request.
	if !used.Valid || ms-used.Int64 > 5*60*1000 {
		_, _ = d.sql.ExecContext(ctx, d.q("UPDATE mltrack_access_tokens SET last_used_at = ? WHERE id = ?"), ms, id)
	}
	u, err := d.userByID(ctx, uid)
	if mlflow.IsNotFound(err) {
		return nil, nil
	}
	return u, err
}

// session is a browser sign-in.
type session struct {
	user *User
	csrf string
}

func (d *db) createSession(ctx context.Context, u *User, ttl time.Duration) (id, csrf string, err error) {
	id, csrf = randomHex(32), randomHex(32)
	now := time.Now()
	_, err = d.sql.ExecContext(ctx, d.q("INSERT INTO mltrack_sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)"),
		secretHash(id), u.ID, csrf, now.UnixMilli(), now.Add(ttl).UnixMilli())
	if err != nil {
		return "", "", fmt.Errorf("auth: create session: %w", err)
	}
	// Expired sessions are swept here, where sessions are written anyway.
	_, _ = d.sql.ExecContext(ctx, d.q("DELETE FROM mltrack_sessions WHERE expires_at < ?"), now.UnixMilli())
	return id, csrf, nil
}

func (d *db) sessionByID(ctx context.Context, id string, now time.Time) (*session, error) {
	var uid, exp int64
	var csrf string
	err := d.sql.QueryRowContext(ctx, d.q("SELECT user_id, csrf_token, expires_at FROM mltrack_sessions WHERE token_hash = ?"), secretHash(id)).Scan(&uid, &csrf, &exp)
	if errors.Is(err, sql.ErrNoRows) || err == nil && exp <= now.UnixMilli() {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: find session: %w", err)
	}
	u, err := d.userByID(ctx, uid)
	if mlflow.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &session{user: u, csrf: csrf}, nil
}

func (d *db) deleteSession(ctx context.Context, id string) error {
	_, err := d.sql.ExecContext(ctx, d.q("DELETE FROM mltrack_sessions WHERE token_hash = ?"), secretHash(id))
	return err
}
