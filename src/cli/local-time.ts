/**
 * Device timestamps (UTC ms) as the merchant reads them: local date and time in a named time zone
 * (the Pi's own, Europe/Berlin in practice), `YYYY-MM-DD` and `HH:MM:SS`. The Pi has no real-time
 * clock, so a timestamp written before the clock was synchronised may be off (see docs/operations.md).
 */
export interface LocalDateTime {
  date: string;
  time: string;
}

export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Throws RangeError for an unknown zone name. */
export function localFormatter(timeZone: string): (ts: number) => LocalDateTime {
  // sv-SE writes ISO-like "2024-05-01 08:00:00".
  const fmt = new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
  return (ts) => {
    const [date = '', time = ''] = fmt.format(new Date(ts)).split(' ');
    return { date, time };
  };
}
