// Log in and register: one form, the server's error shown next to the field it names. In demo
// mode the page names the demo's shared logins and what a new account starts with.

import { useEffect, useState } from 'preact/hooks';
import { type ApiError, api, type Welcome } from '../api.js';
import { useApp } from '../context.js';
import { formatDecimal, fractionDigits } from '../decimal.js';

type DemoWelcome = NonNullable<Welcome['demo']>;

function DemoNote({
  demo,
  registering,
  onPick,
}: {
  demo: DemoWelcome;
  registering: boolean;
  onPick(username: string, password: string): void;
}) {
  const starting = demo.startingBalances
    .map((balance) => `${formatDecimal(balance.amount, fractionDigits(balance.amount))} ${balance.asset}`)
    .join(', ');
  const names = demo.logins.map((login) => login.username).join(' and ');
  return (
    <aside class="demo-note" aria-label="Demo accounts" data-testid="demo-note">
      <p>
        <strong>Demo exchange.</strong>{' '}
        {registering ? (
          <>
            A new account starts with {starting}. Or <a href="#/login">log in</a> as {names} (password{' '}
            <code>{demo.logins[0]?.password}</code>).
          </>
        ) : (
          <>
            Log in with a demo account (password <code>{demo.logins[0]?.password}</code>):
          </>
        )}
      </p>
      {!registering && (
        <>
          <p class="demo-logins">
            {demo.logins.map((login) => (
              <button
                key={login.username}
                type="button"
                class="small"
                onClick={() => onPick(login.username, login.password)}
              >
                {login.username}
              </button>
            ))}
          </p>
          {starting && (
            <p class="muted">
              Or <a href="#/register">create an account</a>: it starts with {starting}.
            </p>
          )}
        </>
      )}
    </aside>
  );
}

export function AuthPage({ mode }: { mode: 'login' | 'register' }) {
  const { loggedIn } = useApp();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [demo, setDemo] = useState<DemoWelcome | null>(null);
  const registering = mode === 'register';

  useEffect(() => {
    let active = true;
    void api.welcome().then((welcome) => {
      if (active && welcome.ok) setDemo(welcome.value.demo);
    });
    return () => {
      active = false;
    };
  }, []);

  const pick = (name: string, secret: string) => {
    setUsername(name);
    setPassword(secret);
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    if (registering) {
      const created = await api.register(username, password);
      if (!created.ok) {
        setBusy(false);
        setError(created.error);
        return;
      }
    }
    const session = await api.login(username, password);
    setBusy(false);
    if (!session.ok) {
      setError(session.error);
      return;
    }
    const me = await api.me();
    if (me.ok) loggedIn(me.value);
    else setError(me.error);
  };

  const fieldError = (field: string) =>
    error?.field === field ? (
      <p class="field-error" id={`${field}-error`} role="alert">
        {error.message}
      </p>
    ) : null;

  return (
    <section class="auth card" aria-labelledby="auth-title">
      <h1 id="auth-title">{registering ? 'Create your account' : 'Log in'}</h1>
      {demo && <DemoNote demo={demo} registering={registering} onPick={pick} />}
      <form onSubmit={submit} noValidate>
        <label for="auth-username">Username</label>
        <input
          id="auth-username"
          name="username"
          autoComplete="username"
          value={username}
          required
          aria-invalid={error?.field === 'username'}
          aria-describedby="username-error"
          onInput={(event) => setUsername(event.currentTarget.value)}
        />
        {fieldError('username')}
        <label for="auth-password">Password</label>
        <input
          id="auth-password"
          name="password"
          type="password"
          autoComplete={registering ? 'new-password' : 'current-password'}
          value={password}
          required
          aria-invalid={error?.field === 'password'}
          aria-describedby="password-error"
          onInput={(event) => setPassword(event.currentTarget.value)}
        />
        {fieldError('password')}
        {error && !error.field && (
          <p class="form-error" role="alert">
            {error.message}
          </p>
        )}
        <button type="submit" class="primary wide" disabled={busy}>
          {busy ? 'Please wait…' : registering ? 'Create account' : 'Log in'}
        </button>
      </form>
      <p class="muted">
        {registering ? (
          <>
            Already have an account? <a href="#/login">Log in</a>
          </>
        ) : (
          <>
            New here? <a href="#/register">Create an account</a>
          </>
        )}
      </p>
    </section>
  );
}
