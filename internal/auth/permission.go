package auth

import (
	"github.com/mltrack/mltrack/internal/mlflow"
)

// Permission is one of MLflow's permission levels and what it allows.
type Permission struct {
	Name                                             string
	CanRead, CanUse, CanUpdate, CanDelete, CanManage bool
}

// MLflow's permission levels, weakest first. USE is MLflow's newer level
// between READ and EDIT (MLflow 3.6 stores only the other four; an
// MLflow 3.6 server refuses a USE row, we accept it).
var (
	NoPermissions = Permission{Name: "NO_PERMISSIONS"}
	Read          = Permission{Name: "READ", CanRead: true}
	Use           = Permission{Name: "USE", CanRead: true, CanUse: true}
	Edit          = Permission{Name: "EDIT", CanRead: true, CanUse: true, CanUpdate: true}
	Manage        = Permission{Name: "MANAGE", CanRead: true, CanUse: true, CanUpdate: true, CanDelete: true, CanManage: true}
)

// Levels lists every permission level, weakest first.
var Levels = []Permission{NoPermissions, Read, Use, Edit, Manage}

// ParsePermission returns the level named name, or MLflow's error.
func ParsePermission(name string) (Permission, error) {
	for _, p := range Levels {
		if p.Name == name {
			return p, nil
		}
	}
	return Permission{}, mlflow.InvalidParam("Invalid permission '%s'. Valid permissions are: ('READ', 'USE', 'EDIT', 'MANAGE', 'NO_PERMISSIONS')", name)
}

// Action is what a request does to its resource; each maps to one of the
// Permission flags.
type Action int

// The actions, as MLflow's validate_can_* functions name them.
const (
	ActRead Action = iota + 1
	ActUse
	ActUpdate
	ActDelete
	ActManage
)

func (a Action) String() string {
	return [...]string{"", "read", "use", "update", "delete", "manage"}[a]
}

// Allows reports whether the level permits the action.
func (p Permission) Allows(a Action) bool {
	switch a {
	case ActRead:
		return p.CanRead
	case ActUse:
		return p.CanUse
	case ActUpdate:
		return p.CanUpdate
	case ActDelete:
		return p.CanDelete
	case ActManage:
		return p.CanManage
	}
	return false
}
