// Log in and register: one form, the server's error shown next to the field it names.

import { useState } from 'preact/hooks';
import { type ApiError, api } from '../api.js';
import { useApp } from '../context.js';

export function AuthPage({ mode }: { mode: 'login' | 'register' }) {
  const { loggedIn } = useApp();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const registering = mode === 'register';

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
