// Times shown in the viewer's own locale and timezone.

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function formatTime(ms: number): string {
  return Number.isFinite(ms) && ms > 0 ? dateTime.format(ms) : '—';
}

export function formatClock(ms: number): string {
  return Number.isFinite(ms) && ms > 0 ? clock.format(ms) : '—';
}
