// Top bar: brand, navigation, the live connection state and the account controls.

import { api } from '../api.js';
import { useApp } from '../context.js';
import type { ConnectionState } from '../socket.js';

const connectionLabels: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting…',
  'session-ended': 'Session ended',
};

export function Header({ connection }: { connection: ConnectionState }) {
  const { me, loggedOut, navigate } = useApp();
  const logOut = async () => {
    await api.logout();
    loggedOut();
  };
  return (
    <header class="topbar">
      <a class="brand" href="#/trade" aria-label="Hoga home" title="Hoga (호가): a quoted price">
        <svg class="brand-mark" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
          <rect x="2" y="13" width="4" height="8" rx="1" />
          <rect x="8" y="8" width="4" height="13" rx="1" />
          <rect x="14" y="4" width="4" height="17" rx="1" />
          <rect x="20" y="10" width="2" height="11" rx="1" />
        </svg>
        <span class="brand-name">Hoga</span>
      </a>
      <nav class="nav" aria-label="Main">
        <a href="#/trade">Trade</a>
        <a href="#/offerings">Offerings</a>
        {me && <a href="#/sessions">Sessions</a>}
        {me && <a href="#/api-keys">API keys</a>}
      </nav>
      <output class={`connection connection-${connection}`} data-testid="connection" aria-live="polite">
        <span class="dot" aria-hidden="true" />
        <span class="connection-label">{connectionLabels[connection]}</span>
      </output>
      <div class="account">
        {me ? (
          <>
            <span class="username" data-testid="username" title={me.username}>
              {me.username}
            </span>
            <button type="button" class="ghost" onClick={logOut}>
              Log out
            </button>
          </>
        ) : (
          <>
            <button type="button" class="ghost" onClick={() => navigate('/login')}>
              Log in
            </button>
            <button type="button" class="primary" onClick={() => navigate('/register')}>
              Sign up
            </button>
          </>
        )}
      </div>
    </header>
  );
}
