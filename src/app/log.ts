/**
 * Structured JSON logs to stdout (journald picks them up), with levels. Whatever a module logs,
 * card numbers leave masked (`9276********2845`) and secrets never leave: redaction happens here,
 * once, rather than trusting every call site.
 */
import { pino, type DestinationStream } from 'pino';
import type { Logger } from '../util/logger.js';
import { maskCardsInText } from '../util/privacy.js';

const SECRET_KEYS =
  /^(authorization|token|access_?token|refresh_?token|client_?secret|password|secret|passcode)$/i;
const NAME_KEYS = /^(name|forename|surname|customer|contact|customerName)$/i;

/** Deep copy with card numbers masked, secrets and customer names removed. */
export function scrubForLog(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskCardsInText(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { type: value.name, message: maskCardsInText(value.message) };
  if (Array.isArray(value)) return value.map((v) => scrubForLog(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_KEYS.test(k)) out[k] = '[redacted]';
    else if (NAME_KEYS.test(k) && v !== null && typeof v !== 'number' && typeof v !== 'boolean')
      out[k] = '[redacted]';
    else out[k] = scrubForLog(v, depth + 1);
  }
  return out;
}

export interface LogOptions {
  level?: string;
  kioskId?: string;
  destination?: DestinationStream;
  /** Extra fields for every line, e.g. `clockSynced: false` while the Pi's clock is not set yet. */
  mixin?: () => object;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const base = pino(
    {
      level: opts.level ?? process.env.KIOSK_LOG_LEVEL ?? 'info',
      base: opts.kioskId ? { kiosk: opts.kioskId } : {},
      timestamp: pino.stdTimeFunctions.isoTime,
      ...(opts.mixin ? { mixin: opts.mixin } : {}),
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => scrubForLog(obj) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          // The message string may carry a card number too.
          const masked = args.map((a) => (typeof a === 'string' ? maskCardsInText(a) : a)) as Parameters<
            typeof method
          >;
          method.apply(this, masked);
        },
      },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
  return base as unknown as Logger;
}
