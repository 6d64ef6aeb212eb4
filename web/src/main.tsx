import { render } from 'preact';
import { useRoute, href } from './router';
import { ExperimentsSidebar, ExperimentsHome } from './pages/Experiments';
import { ExperimentPage } from './pages/Runs';
import { RunPage } from './pages/Run';
import { ComparePage } from './pages/Compare';
import { ModelsPage, ModelPage, ModelVersionPage } from './pages/Models';
import { ExperimentPermissionsPage, ModelPermissionsPage } from './pages/Permissions';
import { TokensPage, UsersPage } from './pages/Account';
import { UserMenu } from './components/UserMenu';
import { WebhooksPage } from './webhooks/WebhooksPage';
import './styles.css';

function App() {
  const r = useRoute();
  const [p0, p1, p2, p3, p4] = r.parts;
  let body;
  let section = 'experiments';
  let expId: string | undefined;
  if (p0 === 'experiments' && p1) {
    expId = p1;
    if (p2 === 'permissions') body = <ExperimentPermissionsPage expId={p1} query={r.query} />;
    else if (p2 === 'runs' && p3) body = <RunPage expId={p1} runId={p3} tab={p4 || 'overview'} query={r.query} />;
    else body = <ExperimentPage expId={p1} view={p2 === 'chart' ? 'chart' : 'table'} query={r.query} />;
  } else if (p0 === 'compare') {
    body = <ComparePage query={r.query} />;
  } else if (p0 === 'models') {
    section = 'models';
    if (p1 && p2 === 'permissions') body = <ModelPermissionsPage name={p1} />;
    else if (p1 && p2 === 'versions' && p3) body = <ModelVersionPage name={p1} version={p3} />;
    else if (p1) body = <ModelPage name={p1} />;
    else body = <ModelsPage query={r.query} />;
  } else if (p0 === 'webhooks') {
    section = 'webhooks';
    body = <WebhooksPage query={r.query} />;
  } else if (p0 === 'tokens') {
    section = 'account';
    body = <TokensPage query={r.query} />;
  } else if (p0 === 'users') {
    section = 'users';
    body = <UsersPage query={r.query} />;
  } else {
    body = <ExperimentsHome query={r.query} />;
  }
  const withSidebar = section === 'experiments' && (expId !== undefined || p0 === 'compare');
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
        {withSidebar ? <ExperimentsSidebar active={expId} /> : null}
        <main class="content">{body}</main>
      </div>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
