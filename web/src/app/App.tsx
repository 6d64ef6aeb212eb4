import { href, matchPath, navigate, useRoute } from '../lib/router';
import { ExperimentsSidebar } from '../experiments/ExperimentsPage';
import { UserMenu } from '../admin/UserMenu';
import { useEffect } from 'preact/hooks';
import { redirect, routes } from './routes';

/** App is the frame of every page: the top bar, the sidebar where a page wants it, and the page. */
export function App() {
  const r = useRoute();
  const to = redirect(r.parts, r.query);
  useEffect(() => { if (to) navigate(to, true); }, [to]);
  let params: Record<string, string> | undefined;
  let route = routes.find((rt) => (params = matchPath(rt.path, r.parts)) !== undefined);
  // An unknown path shows the home page (the last route).
  if (!route || !params) {
    route = routes[routes.length - 1];
    params = {};
  }
  const section = route.section;
  return (
    <div class="app">
      <header class="topbar">
        <a class="logo" href="#/">◆ mltrack</a>
        <nav>
          <a href={href(['experiments'])} class={section === 'experiments' ? 'active' : ''}>Experiments</a>
          <a href={href(['models'])} class={section === 'models' ? 'active' : ''}>Models</a>
          <a href={href(['webhooks'])} class={section === 'webhooks' ? 'active' : ''}>Webhooks</a>
        </nav>
        <div class="spacer" />
        <UserMenu />
      </header>
      <div class="main">
        {route.sidebar ? <ExperimentsSidebar active={params.expId} /> : null}
        <main class="content">{route.render(params, r.query)}</main>
      </div>
    </div>
  );
}
