/**
 * Handles the retained `config/desired` document: the fleet-settable values the operator wants, with a
 * rising `version`. It is validated by the app's injected validator (the allow-list of
 * src/app/fleet-config-policy.ts: a forbidden or unknown field rejects it whole) and applied through
 * the KioskPort once no customer is being served; the outcome goes to `config/reported` (retained):
 * `applied`, or `rejected` with the reasons, the offending field names and the version still in effect.
 *
 * A broken document (not JSON, no version, fails the schema, the validator throws) is reported and
 * ignored, never a crash: it stays retained on the broker and arrives again at every connect, where it is
 * reported again. The same version as the one applied is only confirmed; an older one is rejected.
 * An empty retained payload (the operator cleared it) is ignored.
 *
 * `handle()` never rejects.
 */
import { silentLogger, type Logger } from '../util/logger.js';
import { ConfigDesiredSchema, type ConfigReportedBody } from './envelope.js';
import type { ConfigValidation, KioskPort, ValidateConfig } from './kiosk-port.js';

export interface DesiredConfigOptions {
  port: KioskPort;
  validateConfig: ValidateConfig;
  /** Publishes `config/reported` (retained). Never rejects. */
  report(r: ConfigReportedBody): Promise<void>;
  /** Default 256 KiB. */
  maxBytes?: number;
  /** How often to look whether the customer has finished before applying. Default 500 ms. */
  idlePollMs?: number;
  logger?: Logger;
}

export class DesiredConfigHandler {
  /** Bumped by every document: a newer one makes an older one waiting for idle give up. */
  private generation = 0;
  private readonly logger: Logger;

  constructor(private readonly opts: DesiredConfigOptions) {
    this.logger = opts.logger ?? silentLogger;
  }

  async handle(payload: Buffer): Promise<void> {
    const gen = ++this.generation;
    try {
      await this.handleUnsafe(payload, gen);
    } catch (err) {
      this.logger.error({ err }, 'config/desired: unexpected error');
      await this.rejected(null, [`internal error: ${err instanceof Error ? err.message : String(err)}`]);
    }
  }

  private async handleUnsafe(payload: Buffer, gen: number): Promise<void> {
    if (payload.length === 0) return;
    const max = this.opts.maxBytes ?? 256 * 1024;
    if (payload.length > max)
      return this.rejected(null, [`document of ${payload.length} bytes exceeds ${max}`]);
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return this.rejected(null, ['document is not JSON']);
    }
    const head = ConfigDesiredSchema.safeParse(json);
    if (!head.success) {
      const v = (json as { version?: unknown } | null)?.version;
      return this.rejected(Number.isSafeInteger(v) ? (v as number) : null, [
        'document needs an integer "version" >= 0',
      ]);
    }
    const doc = head.data;
    const port = this.opts.port;
    // Validated before anything else, even a version already applied: a document with a forbidden
    // field is reported rejected, never confirmed "applied" because its version number matched.
    let check: ConfigValidation;
    try {
      check = this.opts.validateConfig(json);
    } catch (err) {
      check = {
        ok: false as const,
        errors: [`validator failed: ${err instanceof Error ? err.message : String(err)}`],
      };
    }
    if (!check.ok) return this.rejected(doc.version, check.errors.slice(0, 20), check.fields);
    const applied = port.appliedConfigVersion();
    if (applied !== null && doc.version < applied) {
      return this.rejected(doc.version, [`older than the applied version ${applied}`]);
    }
    if (applied !== null && doc.version === applied) {
      return this.opts.report({ version: doc.version, status: 'applied', appliedVersion: applied });
    }

    // never change the config under a paying customer: wait for idle (a newer document supersedes this one)
    while (port.isServingCustomer()) {
      await new Promise((r) => setTimeout(r, this.opts.idlePollMs ?? 500));
      if (gen !== this.generation) return;
    }
    if (gen !== this.generation) return;
    try {
      const res = await port.applyConfig(doc);
      this.logger.info(
        { version: doc.version, restartRequired: res.restartRequired },
        'config/desired: applied',
      );
      await this.opts.report({
        version: doc.version,
        status: 'applied',
        appliedVersion: port.appliedConfigVersion() ?? doc.version,
        ...(res.restartRequired ? { restartRequired: true } : {}),
      });
    } catch (err) {
      await this.rejected(doc.version, [`apply failed: ${err instanceof Error ? err.message : String(err)}`]);
    }
  }

  private async rejected(version: number | null, errors: string[], fields?: string[]): Promise<void> {
    this.logger.warn({ version, errors }, 'config/desired: rejected');
    await this.opts.report({
      version,
      status: 'rejected',
      errors,
      ...(fields && fields.length > 0 ? { fields: fields.slice(0, 50) } : {}),
      appliedVersion: this.opts.port.appliedConfigVersion(),
    });
  }
}
