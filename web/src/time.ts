// Times shown in the viewer's own locale and timezone, always on the 24-hour clock: the chart's
// axis counts hours 00-23, and a tape reading "04:58:41 PM" next to an axis reading "16:58" makes
// the reader convert.

const dateTime = new Intl.DateTimeFormat(undefined, {
  dateStyle: 'medium',
  timeStyle: 'medium',
  hourCycle: 'h23',
});
const clock = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

export function formatTime(ms: number): string {
  return Number.isFinite(ms) && ms > 0 ? dateTime.format(ms) : '—';
}

export function formatClock(ms: number): string {
  return Number.isFinite(ms) && ms > 0 ? clock.format(ms) : '—';
}
