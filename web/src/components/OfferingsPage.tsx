// Limited offerings: every offering with a live units-left counter and progress bar, its window,
// price, per-user maximum and coupon terms, a claim form per offering, and (logged in) the user's
// claims and fee coupons. Units left arrive on the conflated `offerings.<id>` channels.

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { type ApiError, api, type ClaimReply, type Coupon, type MyClaim, type Offering } from '../api.js';
import { channelNames, readOfferingLive } from '../channels.js';
import { useApp } from '../context.js';
import { multiplyDecimal } from '../decimal.js';
import { formatTime } from '../time.js';

/** Offerings watched live at once; the socket allows 32 channels per page. */
export const liveOfferingsMax = 24;
/** How often the open/upcoming/ended label is re-evaluated. */
const clockTickMs = 1_000;

type Phase = 'upcoming' | 'open' | 'ended' | 'closed' | 'sold out';

function phaseOf(offering: Offering, nowMs: number): Phase {
  if (offering.closed) return 'closed';
  if (offering.left === 0) return 'sold out';
  if (nowMs < offering.startTime) return 'upcoming';
  if (nowMs >= offering.endTime) return 'ended';
  return 'open';
}

function useNow(intervalMs: number): number {
  const [nowMs, setNowMs] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNowMs(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return nowMs;
}

/** The offerings list from REST, kept current by the live channels of the first few. */
function useOfferings(): [Offering[], (reply: ClaimReply) => void, ApiError | null] {
  const { socket } = useApp();
  const [offerings, setOfferings] = useState<Offering[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [ids, setIds] = useState('');

  useEffect(() => {
    void api.offerings().then((listed) => {
      if (!listed.ok) return setError(listed.error);
      setOfferings(listed.value);
      setIds(
        listed.value
          .slice(0, liveOfferingsMax)
          .map((offering) => offering.id)
          .join(','),
      );
    });
  }, []);

  useEffect(() => {
    if (ids === '') return;
    const unsubscribes = ids.split(',').map((id) =>
      socket.subscribe(channelNames.offering(Number(id)), {
        onReset: () => undefined,
        onMessage: (message) => {
          const live = readOfferingLive(message.data);
          if (!live) return;
          setOfferings((current) =>
            current.map((offering) => (offering.id === live.id ? { ...offering, ...live } : offering)),
          );
        },
      }),
    );
    return () => {
      for (const unsubscribe of unsubscribes) unsubscribe();
    };
  }, [socket, ids]);

  // A claim's reply may overtake the channel's push: units left only ever go down.
  const claimed = useCallback((reply: ClaimReply) => {
    setOfferings((current) =>
      current.map((offering) =>
        offering.id === reply.offeringId
          ? { ...offering, left: Math.min(offering.left, reply.left) }
          : offering,
      ),
    );
  }, []);

  return [offerings, claimed, error];
}

export function OfferingsPage() {
  const { me, accountVersion, accountChanged } = useApp();
  const [offerings, claimed, error] = useOfferings();
  const [claims, setClaims] = useState<MyClaim[]>([]);
  const [coupons, setCoupons] = useState<Coupon[]>([]);
  const nowMs = useNow(clockTickMs);

  // accountVersion changes on private pushes and after each claim: reload what the user holds.
  useEffect(() => {
    if (!me) return;
    void api.myClaims().then((listed) => listed.ok && setClaims(listed.value));
    void api.myCoupons().then((listed) => listed.ok && setCoupons(listed.value));
  }, [me, accountVersion]);

  const onClaimed = (reply: ClaimReply) => {
    claimed(reply);
    accountChanged();
  };

  return (
    <div class="offerings-page">
      <section aria-labelledby="offerings-title">
        <h1 id="offerings-title">Offerings</h1>
        {error && (
          <p class="form-error" role="alert">
            {error.message}
          </p>
        )}
        {offerings.length === 0 && !error && <p class="muted">No offerings yet.</p>}
        <div class="offering-grid">
          {offerings.map((offering) => (
            <OfferingCard
              key={offering.id}
              offering={offering}
              phase={phaseOf(offering, nowMs)}
              loggedIn={me !== null}
              onClaimed={onClaimed}
            />
          ))}
        </div>
      </section>
      {me && <MyClaims claims={claims} offerings={offerings} />}
      {me && <MyCoupons coupons={coupons} offerings={offerings} nowMs={nowMs} />}
    </div>
  );
}

interface CardProps {
  offering: Offering;
  phase: Phase;
  loggedIn: boolean;
  onClaimed(reply: ClaimReply): void;
}

function OfferingCard({ offering, phase, loggedIn, onClaimed }: CardProps) {
  const titleId = `offering-${offering.id}-title`;
  const soldPercent =
    offering.units === 0 ? 100 : Math.floor(((offering.units - offering.left) * 100) / offering.units);
  return (
    <article
      class="panel offering"
      data-testid="offering"
      data-offering-id={offering.id}
      aria-labelledby={titleId}
    >
      <header class="offering-head">
        <h2 id={titleId}>
          {offering.asset} <span class="muted">#{offering.id}</span>
        </h2>
        <span class={`badge phase-${phase.replace(' ', '-')}`} data-testid="offering-phase">
          {phase}
        </span>
      </header>
      <p class="offering-left" aria-live="polite">
        <strong data-testid="units-left">{offering.left}</strong> of {offering.units} units left
      </p>
      <div
        class="progress"
        role="progressbar"
        aria-label={`${offering.asset} units sold`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={soldPercent}
      >
        <span style={{ width: `${soldPercent}%` }} />
      </div>
      <dl class="offering-terms">
        <dt>Price</dt>
        <dd data-testid="offering-price">
          {offering.price} {offering.quote} per unit of {offering.unitSize} {offering.asset}
        </dd>
        <dt>Per user</dt>
        <dd>at most {offering.perUserMax} units</dd>
        <dt>Window</dt>
        <dd>
          {formatTime(offering.startTime)} – {formatTime(offering.endTime)}
        </dd>
        <dt>Coupon</dt>
        <dd data-testid="offering-coupon">
          {offering.coupon
            ? `${offering.coupon.makerDiscountPct}% off maker and ${offering.coupon.takerDiscountPct}% off taker fees, ${offering.coupon.uses} uses, until ${formatTime(offering.coupon.expiresAt)}`
            : 'none'}
        </dd>
      </dl>
      {loggedIn ? (
        <ClaimForm offering={offering} onClaimed={onClaimed} />
      ) : (
        <p class="muted">
          <a href="#/login">Log in</a> to claim.
        </p>
      )}
    </article>
  );
}

/** What a refused claim means to the user; the server's own message for any other code. */
function claimErrorText(error: ApiError, offering: Offering): string {
  switch (error.code) {
    case 'SOLD_OUT':
      return 'Not that many units are left (a claim is all or nothing).';
    case 'PER_USER_LIMIT':
      return `That would take you past ${offering.perUserMax} units per user.`;
    case 'OFFERING_NOT_OPEN':
      return 'The offering is not open now.';
    case 'OFFERING_CLOSED':
      return 'The offering is closed.';
    case 'INSUFFICIENT_FUNDS':
      return `Not enough ${offering.quote} available.`;
    default:
      return error.message;
  }
}

function ClaimForm({ offering, onClaimed }: { offering: Offering; onClaimed(reply: ClaimReply): void }) {
  const [unitsText, setUnitsText] = useState('1');
  const [pending, setPending] = useState(false);
  /** Set synchronously, so a second click before the next render cannot send a second claim. */
  const inFlight = useRef(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<ClaimReply | null>(null);
  const inputId = `claim-units-${offering.id}`;
  const errorId = `claim-error-${offering.id}`;

  const submit = async (event: Event) => {
    event.preventDefault();
    if (inFlight.current) return;
    setDone(null);
    if (!/^[1-9]\d{0,8}$/.test(unitsText)) {
      setError({ code: 'INVALID_UNITS', message: 'Units must be a whole number of at least 1.' });
      return;
    }
    inFlight.current = true;
    setPending(true);
    setError(null);
    // A fresh key per claim; clicks while one is in flight are ignored, so a double click claims once.
    const reply = await api.claim(offering.id, {
      units: Number(unitsText),
      clientClaimId: crypto.randomUUID(),
    });
    inFlight.current = false;
    setPending(false);
    if (!reply.ok) return setError(reply.error);
    setDone(reply.value);
    onClaimed(reply.value);
  };

  return (
    <form class="claim-form" onSubmit={submit} noValidate>
      <label for={inputId}>Units</label>
      <input
        id={inputId}
        data-testid="claim-units"
        type="text"
        inputMode="numeric"
        value={unitsText}
        onInput={(event) => setUnitsText((event.currentTarget as HTMLInputElement).value.trim())}
        aria-invalid={error !== null}
        aria-describedby={error ? errorId : undefined}
      />
      <button type="submit" class="primary" data-testid="claim-button" disabled={pending}>
        {pending ? 'Claiming…' : 'Claim'}
      </button>
      {error && (
        <p id={errorId} class="field-error" role="alert" data-testid="claim-error" data-code={error.code}>
          <code>{error.code}</code> {claimErrorText(error, offering)}
        </p>
      )}
      {done && (
        <p class="claim-done" role="status" data-testid="claim-done">
          Claimed {done.units} {done.units === 1 ? 'unit' : 'units'} for {done.paid} {offering.quote}
          {done.couponIssued ? '; fee coupon issued' : ''}.
        </p>
      )}
    </form>
  );
}

function assetOf(offerings: Offering[], offeringId: number): string {
  return offerings.find((offering) => offering.id === offeringId)?.asset ?? `#${offeringId}`;
}

function MyClaims({ claims, offerings }: { claims: MyClaim[]; offerings: Offering[] }) {
  return (
    <section class="panel" aria-labelledby="my-claims-title">
      <h2 id="my-claims-title" class="panel-title">
        My claims
      </h2>
      {claims.length === 0 ? (
        <p class="muted">No claims yet.</p>
      ) : (
        <table data-testid="my-claims">
          <thead>
            <tr>
              <th scope="col">Offering</th>
              <th scope="col">Units</th>
              <th scope="col">Paid</th>
            </tr>
          </thead>
          <tbody>
            {claims.map((claim) => {
              const offering = offerings.find((candidate) => candidate.id === claim.offeringId);
              const paid = offering && multiplyDecimal(offering.price, String(claim.units));
              return (
                <tr key={claim.offeringId} data-offering-id={claim.offeringId}>
                  <td>{assetOf(offerings, claim.offeringId)}</td>
                  <td class="units">{claim.units}</td>
                  <td>{paid && offering ? `${paid} ${offering.quote}` : '—'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

function MyCoupons({
  coupons,
  offerings,
  nowMs,
}: {
  coupons: Coupon[];
  offerings: Offering[];
  nowMs: number;
}) {
  return (
    <section class="panel" aria-labelledby="my-coupons-title">
      <h2 id="my-coupons-title" class="panel-title">
        My coupons
      </h2>
      {coupons.length === 0 ? (
        <p class="muted">No coupons yet.</p>
      ) : (
        <table data-testid="my-coupons">
          <thead>
            <tr>
              <th scope="col">From</th>
              <th scope="col">Maker</th>
              <th scope="col">Taker</th>
              <th scope="col">Uses left</th>
              <th scope="col">Expires</th>
            </tr>
          </thead>
          <tbody>
            {coupons.map((coupon) => (
              <tr key={coupon.offeringId} data-offering-id={coupon.offeringId}>
                <td>{assetOf(offerings, coupon.offeringId)}</td>
                <td>{coupon.makerDiscountPct}% off</td>
                <td>{coupon.takerDiscountPct}% off</td>
                <td class="uses-left">
                  {coupon.usesLeft} of {coupon.uses}
                </td>
                <td>
                  {formatTime(coupon.expiresAt)}
                  {coupon.expiresAt <= nowMs && <span class="badge">expired</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
