// Devices logged in to this account: end one, or log out of every device at once.

import { useEffect, useState } from 'preact/hooks';
import { type ApiError, api, type SessionInfo } from '../api.js';
import { useApp } from '../context.js';
import { describeDevice } from '../device.js';
import { formatTime } from '../time.js';

export function SessionsPage() {
  const { loggedOut } = useApp();
  const [sessions, setSessions] = useState<SessionInfo[]>([]);
  const [error, setError] = useState<ApiError | null>(null);

  const reload = async () => {
    const listed = await api.sessions();
    if (listed.ok) setSessions(listed.value);
    else setError(listed.error);
  };

  useEffect(() => {
    void reload();
  }, []);

  const end = async (session: SessionInfo) => {
    const ended = await api.endSession(session.sessionId);
    if (!ended.ok) return setError(ended.error);
    if (session.current) loggedOut();
    else await reload();
  };

  const endAll = async () => {
    const ended = await api.logoutAll();
    if (!ended.ok) return setError(ended.error);
    loggedOut();
  };

  return (
    <section class="card sessions" aria-labelledby="sessions-title">
      <h1 id="sessions-title">Your sessions</h1>
      <p class="muted">Every device logged in to your account. End any you do not recognise.</p>
      {error && (
        <p class="form-error" role="alert">
          {error.message}
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col">IP</th>
            <th scope="col">Logged in</th>
            <th scope="col">Last seen</th>
            <th scope="col">
              <span class="visually-hidden">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {sessions.map((session) => (
            <tr key={session.sessionId}>
              <td title={session.device}>
                {describeDevice(session.device)}
                {session.current && <span class="badge">this device</span>}
              </td>
              <td>{session.ip}</td>
              <td>{formatTime(session.createdAtMs)}</td>
              <td>{formatTime(session.lastSeenAtMs)}</td>
              <td>
                <button type="button" class="ghost small" onClick={() => end(session)}>
                  End
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" class="danger" onClick={endAll}>
        Log out of every device
      </button>
    </section>
  );
}
