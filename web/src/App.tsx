// The shell: boots the session, owns the socket, routes by location hash, and makes every tab
// return to login the moment its session ends (server close code or another tab's broadcast).

import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { api, type Me, onSessionLost, type SymbolInfo } from './api.js';
import { ApiKeysPage } from './components/ApiKeysPage.js';
import { AuthPage } from './components/AuthPage.js';
import { Header } from './components/Header.js';
import { OfferingsPage } from './components/OfferingsPage.js';
import { SessionsPage } from './components/SessionsPage.js';
import { TradePage } from './components/TradePage.js';
import { AppContext, type AppContextValue } from './context.js';
import { useConnectionState, useThrottled } from './hooks.js';
import { ExchangeSocket, socketUrl } from './socket.js';

/** Tabs of one browser tell each other about log-outs on this channel. */
const sessionChannelName = 'hoga-session';

type Route =
  | { page: 'trade'; symbol?: string }
  | { page: 'login' }
  | { page: 'register' }
  | { page: 'sessions' }
  | { page: 'offerings' }
  | { page: 'api-keys' };

function readRoute(): Route {
  const [page, argument] = location.hash.replace(/^#\/?/, '').split('/');
  if (
    page === 'login' ||
    page === 'register' ||
    page === 'sessions' ||
    page === 'offerings' ||
    page === 'api-keys'
  )
    return { page };
  return { page: 'trade', symbol: argument ? decodeURIComponent(argument) : undefined };
}

export function App() {
  const socket = useMemo(() => new ExchangeSocket(socketUrl()), []);
  const [route, setRoute] = useState<Route>(readRoute);
  const [me, setMe] = useState<Me | null>(null);
  const [booted, setBooted] = useState(false);
  const [symbols, setSymbols] = useState<SymbolInfo[]>([]);
  const [accountVersion, setAccountVersion] = useState(0);
  const connection = useConnectionState(socket);
  const broadcast = useMemo(
    () => ('BroadcastChannel' in window ? new BroadcastChannel(sessionChannelName) : undefined),
    [],
  );

  const navigate = useCallback((next: string) => {
    location.hash = next;
  }, []);

  const restartSocket = useCallback(() => {
    socket.stop();
    socket.start();
  }, [socket]);

  const loggedOut = useCallback(() => {
    setMe(null);
    restartSocket();
    navigate('/login');
  }, [navigate, restartSocket]);

  const loggedIn = useCallback(
    (user: Me) => {
      setMe(user);
      restartSocket();
      broadcast?.postMessage({ type: 'logged-in' });
      navigate('/trade');
    },
    [broadcast, navigate, restartSocket],
  );

  const bump = useCallback(() => setAccountVersion((version) => version + 1), []);
  const accountChanged = useThrottled(bump, 150);

  useEffect(() => {
    const onHash = () => setRoute(readRoute());
    window.addEventListener('hashchange', onHash);
    socket.start();
    void Promise.all([api.session(), api.symbols()]).then(([session, listed]) => {
      if (session.ok && session.value.user) setMe(session.value.user);
      if (listed.ok) setSymbols(listed.value);
      setBooted(true);
    });
    return () => {
      window.removeEventListener('hashchange', onHash);
      socket.stop();
    };
  }, [socket]);

  useEffect(() => {
    if (!broadcast) return;
    broadcast.onmessage = (event: MessageEvent) => {
      const type = (event.data as { type?: string }).type;
      if (type === 'logged-out' && me) loggedOut();
      if (type === 'logged-in')
        void api.session().then((session) => session.ok && session.value.user && setMe(session.value.user));
    };
  }, [broadcast, me, loggedOut]);

  useEffect(() => {
    if (connection === 'session-ended' && me) loggedOut();
  }, [connection, me, loggedOut]);

  // A 401 on any call while logged in means the session timed out or was ended elsewhere.
  useEffect(() => onSessionLost(() => me && loggedOut()), [me, loggedOut]);

  useEffect(() => socket.onPrivate(() => accountChanged()), [socket, accountChanged]);

  // Private updates sent while the socket was down are lost: reload account data on every (re)connect.
  useEffect(() => {
    if (connection === 'open') accountChanged();
  }, [connection, accountChanged]);

  const context: AppContextValue = {
    socket,
    symbols,
    me,
    accountVersion,
    accountChanged,
    loggedIn,
    loggedOut: () => {
      broadcast?.postMessage({ type: 'logged-out' });
      loggedOut();
    },
    navigate,
  };

  return (
    <AppContext.Provider value={context}>
      <Header connection={connection} />
      <main id="main">{booted ? <Page route={route} me={me} /> : <p class="loading">Loading…</p>}</main>
    </AppContext.Provider>
  );
}

function Page({ route, me }: { route: Route; me: Me | null }) {
  if (route.page === 'login' || route.page === 'register') return <AuthPage mode={route.page} />;
  if (route.page === 'sessions') return me ? <SessionsPage /> : <AuthPage mode="login" />;
  if (route.page === 'api-keys') return me ? <ApiKeysPage /> : <AuthPage mode="login" />;
  if (route.page === 'offerings') return <OfferingsPage />;
  return <TradePage symbol={route.symbol} />;
}
