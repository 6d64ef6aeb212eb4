import { href } from '../lib/router';

/** experimentTabs are the experiment page's tabs; Permissions only for those who may manage them. */
export function experimentTabs(expId: string, query: URLSearchParams, manage: boolean) {
  const q = Object.fromEntries(query);
  const tabs = [
    { id: 'table', label: 'Runs', href: href(['experiments', expId], q) },
    { id: 'chart', label: 'Charts', href: href(['experiments', expId, 'chart'], q) },
  ];
  if (manage) tabs.push({ id: 'permissions', label: 'Permissions', href: href(['experiments', expId, 'permissions'], q) });
  return tabs;
}
