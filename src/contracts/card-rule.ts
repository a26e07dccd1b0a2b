/**
 * What a loyalty card number looks like: only digits, starting with `prefix`, `minLength` to
 * `maxLength` digits long. Shared by the config schema (src/config/card-rule.ts), which builds it once
 * at load, and the machines (machines/scan.ts), which check scans against it without a RegExp.
 */
export interface CardRule {
  prefix: string;
  minLength: number;
  maxLength: number;
}
