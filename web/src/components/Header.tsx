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
      <a class="brand" href="#/trade" aria-label="Hoga home">
        <span class="brand-mark" aria-hidden="true">
          호가
        </span>{' '}
        Hoga
      </a>
      <nav class="nav" aria-label="Main">
        <a href="#/trade">Trade</a>
        {me && <a href="#/sessions">Sessions</a>}
      </nav>
      <output class={`connection connection-${connection}`} data-testid="connection" aria-live="polite">
        <span class="dot" aria-hidden="true" />
        {connectionLabels[connection]}
      </output>
      <div class="account">
        {me ? (
          <>
            <span class="username" data-testid="username">
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
