// Auth: mltrack's session and token endpoints, MLflow's users and permissions.
import { ApiError, del, get, own, patch, post } from '../lib/api';

export interface Me { id: number; username: string; is_admin: boolean }
export interface UserSummary { id: number; username: string; is_admin: boolean }
export interface UserDetail extends UserSummary {
  experiment_permissions: { experiment_id: string; permission: string }[];
  registered_model_permissions: { name: string; permission: string }[];
}
export interface TokenInfo { id: string; name: string; username?: string; creation_timestamp: number; expiration_timestamp?: number; last_used_timestamp?: number }

/** whoami names the signed-in user; with auth off the server answers {auth: false}. */
export const whoami = () => own<{ auth: boolean; user?: Me; default_permission?: string }>('GET', 'auth/whoami');
export const logout = () => own('POST', 'auth/logout');
export const listUsers = () => own<{ users: UserSummary[] }>('GET', 'users/list').then((r) => r.users || []);
export const getUser = (username: string) => get<{ user: UserDetail }>('users/get', { username }).then((r) => r.user);
export const createUser = (username: string, password: string) => post<{ user: UserDetail }>('users/create', { username, password });
export const updatePassword = (username: string, password: string) => patch('users/update-password', { username, password });
export const updateAdmin = (username: string, is_admin: boolean) => patch('users/update-admin', { username, is_admin });
export const deleteUser = (username: string) => del('users/delete', { username });

export const createToken = (name: string, expires_in_days?: number, username?: string) =>
  own<{ token: string; token_info: TokenInfo }>('POST', 'tokens/create', { name, expires_in_days, username });
export const listTokens = (username?: string) =>
  own<{ tokens?: TokenInfo[] }>('GET', 'tokens/list', undefined, { username }).then((r) => r.tokens || []);
export const revokeToken = (id: string) => own('DELETE', 'tokens/revoke', { id });

/** The permission levels, weakest first, and NO_PERMISSIONS to shut a user out. */
export const LEVELS = ['READ', 'USE', 'EDIT', 'MANAGE', 'NO_PERMISSIONS'];

/** A resource whose permissions can be managed: an experiment (by ID) or a registered model (by name). */
export interface Resource { kind: 'experiment' | 'model'; id: string }

function permPath(r: Resource, op: string) {
  return `${r.kind === 'experiment' ? 'experiments' : 'registered-models'}/permissions/${op}`;
}
function permKey(r: Resource): Record<string, string> {
  return r.kind === 'experiment' ? { experiment_id: r.id } : { name: r.id };
}

/** getPermission answers a user's grant on the resource, or undefined when there is none. */
export async function getPermission(r: Resource, username: string): Promise<string | undefined> {
  try {
    const j = await get<Record<string, { permission: string }>>(permPath(r, 'get'), { ...permKey(r), username });
    return (j.experiment_permission || j.registered_model_permission)?.permission;
  } catch (e) {
    if (e instanceof ApiError && e.code === 'RESOURCE_DOES_NOT_EXIST' && e.message.includes('permission')) return undefined;
    throw e;
  }
}
export const createPermission = (r: Resource, username: string, permission: string) => post(permPath(r, 'create'), { ...permKey(r), username, permission });
export const updatePermission = (r: Resource, username: string, permission: string) => patch(permPath(r, 'update'), { ...permKey(r), username, permission });
export const deletePermission = (r: Resource, username: string) => del(permPath(r, 'delete'), { ...permKey(r), username });
