// API keys for programs (docs/API.md "API keys"): list, create, revoke. A new key's secret is held
// only in this component's state until its dialog is closed: the server never shows it again, and
// nothing here stores it, so a reload cannot show it either.

import { useEffect, useRef, useState } from 'preact/hooks';
import { type ApiError, type ApiKeyInfo, type ApiKeyPermission, api, type CreatedApiKey } from '../api.js';
import { formatTime } from '../time.js';

/** Addresses may be separated by commas, spaces or new lines; the server checks each one. */
function parseAllowlist(text: string): string[] {
  return text.split(/[\s,]+/).filter((entry) => entry.length > 0);
}

const permissionHelp: Record<ApiKeyPermission, string> = {
  read: 'Read: balances, orders, trades and user data streams.',
  trade: 'Trade: place and cancel orders.',
};

export function ApiKeysPage() {
  const [keys, setKeys] = useState<ApiKeyInfo[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);

  const reload = async () => {
    const listed = await api.apiKeys();
    if (listed.ok) setKeys(listed.value);
    else setError(listed.error);
  };

  useEffect(() => {
    void reload();
  }, []);

  const revoke = async (key: ApiKeyInfo) => {
    if (!window.confirm(`Revoke the API key "${key.label}"? Programs using it stop working at once.`)) return;
    const revoked = await api.revokeApiKey(key.keyId);
    if (!revoked.ok) return setError(revoked.error);
    setError(null);
    await reload();
  };

  return (
    <section class="card api-keys" aria-labelledby="api-keys-title">
      <h1 id="api-keys-title">API keys</h1>
      <p class="muted">
        Programs trade with API keys instead of your password: they sign each request with the key's secret
        (Binance's HMAC-SHA256 scheme). A key works until you revoke it; logging out does not end it.
      </p>
      {error && (
        <p class="form-error" role="alert" data-testid="api-keys-error">
          {error.message}
        </p>
      )}
      {keys.length === 0 ? (
        <p class="muted empty">You have no API keys.</p>
      ) : (
        <table data-testid="api-keys">
          <thead>
            <tr>
              <th scope="col">Label</th>
              <th scope="col">Permissions</th>
              <th scope="col">Allowed addresses</th>
              <th scope="col">Created</th>
              <th scope="col">Key (X-MBX-APIKEY)</th>
              <th scope="col">
                <span class="visually-hidden">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.keyId}>
                <td>{key.label}</td>
                <td>{key.permissions.join(', ')}</td>
                <td>{key.ipAllowlist.length === 0 ? 'any' : key.ipAllowlist.join(', ')}</td>
                <td>{formatTime(key.createdAtMs)}</td>
                <td>
                  <code class="key-id" title={key.keyId}>
                    {key.keyId}
                  </code>
                </td>
                <td>
                  <button
                    type="button"
                    class="ghost small"
                    aria-label={`Revoke ${key.label}`}
                    onClick={() => revoke(key)}
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <CreateKeyForm
        onCreated={(key) => {
          setError(null);
          setCreated(key);
          void reload();
        }}
      />
      {created && <SecretDialog created={created} onClose={() => setCreated(null)} />}
    </section>
  );
}

function CreateKeyForm({ onCreated }: { onCreated: (key: CreatedApiKey) => void }) {
  const [label, setLabel] = useState('');
  const [read, setRead] = useState(true);
  const [trade, setTrade] = useState(false);
  const [allowlist, setAllowlist] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const permissions: ApiKeyPermission[] = [];
    if (read) permissions.push('read');
    if (trade) permissions.push('trade');
    if (permissions.length === 0)
      return setError({
        code: 'VALIDATION_FAILED',
        message: 'Choose at least one permission.',
        field: 'permissions',
      });
    const ipAllowlist = parseAllowlist(allowlist);
    setBusy(true);
    const reply = await api.createApiKey({
      label: label.trim(),
      permissions,
      ...(ipAllowlist.length > 0 ? { ipAllowlist } : {}),
    });
    setBusy(false);
    if (!reply.ok) return setError(reply.error);
    setError(null);
    setLabel('');
    setAllowlist('');
    onCreated(reply.value);
  };

  const fieldError = (field: string) =>
    error?.field === field ? (
      <p class="field-error" id={`api-key-${field}-error`} role="alert">
        {error.message}
      </p>
    ) : null;

  return (
    <form class="api-key-form" onSubmit={submit} aria-labelledby="api-key-create-title">
      <h2 id="api-key-create-title">Create a key</h2>
      <label for="api-key-label">Label</label>
      <input
        id="api-key-label"
        value={label}
        maxLength={64}
        required
        placeholder="e.g. my trading bot"
        aria-invalid={error?.field === 'label'}
        aria-describedby={error?.field === 'label' ? 'api-key-label-error' : undefined}
        onInput={(event) => setLabel(event.currentTarget.value)}
      />
      {fieldError('label')}
      <fieldset class="api-key-permissions">
        <legend>Permissions</legend>
        <label class="checkbox">
          <input
            type="checkbox"
            id="api-key-read"
            checked={read}
            onChange={(event) => setRead(event.currentTarget.checked)}
          />
          {permissionHelp.read}
        </label>
        <label class="checkbox">
          <input
            type="checkbox"
            id="api-key-trade"
            checked={trade}
            onChange={(event) => setTrade(event.currentTarget.checked)}
          />
          {permissionHelp.trade}
        </label>
      </fieldset>
      {fieldError('permissions')}
      <label for="api-key-allowlist">Allowed IP addresses (optional)</label>
      <textarea
        id="api-key-allowlist"
        rows={2}
        value={allowlist}
        placeholder="203.0.113.7, 198.51.100.0/24"
        aria-invalid={error?.field === 'ipAllowlist'}
        aria-describedby="api-key-allowlist-help"
        onInput={(event) => setAllowlist(event.currentTarget.value)}
      />
      <p class="muted small-print" id="api-key-allowlist-help">
        Addresses or CIDR ranges (IPv4 or IPv6), separated by commas or spaces, at most 30. Empty: the key
        works from any address.
      </p>
      {fieldError('ipAllowlist')}
      {error && !['label', 'permissions', 'ipAllowlist'].includes(error.field ?? '') && (
        <p class="form-error" role="alert" data-testid="api-key-create-error">
          {error.message}
        </p>
      )}
      <button type="submit" class="primary" disabled={busy}>
        Create key
      </button>
    </form>
  );
}

function SecretDialog({ created, onClose }: { created: CreatedApiKey; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [copied, setCopied] = useState<string | null>(null);

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
  }, []);

  const copy = async (what: string, text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(what);
    } catch {
      setCopied(null);
    }
  };

  return (
    <dialog
      ref={dialog}
      class="secret-dialog"
      aria-labelledby="secret-title"
      data-testid="api-key-secret-dialog"
      onClose={onClose}
    >
      <h2 id="secret-title">Key "{created.label}" created</h2>
      <p class="warning" role="alert">
        Copy the secret now: it will not be shown again. If you lose it, revoke the key and create another.
      </p>
      <dl class="secret-fields">
        <dt>Key (X-MBX-APIKEY)</dt>
        <dd>
          <code data-testid="api-key-id">{created.keyId}</code>
          <button type="button" class="ghost small" onClick={() => copy('key', created.keyId)}>
            Copy key
          </button>
        </dd>
        <dt>Secret</dt>
        <dd>
          <code data-testid="api-key-secret">{created.secret}</code>
          <button type="button" class="ghost small" onClick={() => copy('secret', created.secret)}>
            Copy secret
          </button>
        </dd>
      </dl>
      <output class="notice" aria-live="polite">
        {copied ? `The ${copied} is copied to the clipboard.` : ''}
      </output>
      <form method="dialog">
        <button type="submit" class="primary">
          I have saved the secret
        </button>
      </form>
    </dialog>
  );
}
