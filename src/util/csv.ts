/**
 * RFC 4180 CSV: fields with the separator, a quote, CR or LF are quoted and inner quotes doubled;
 * records end with CRLF. The separator is a parameter because German spreadsheets expect `;`
 * (the decimal comma makes `,` a poor field separator there). Used by the kiosk's `journal export`
 * and the dashboard's day CSV alike.
 *
 * Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab or CR first: CSV
 * injection) gets a leading `'`, so it shows as the text it is. Such text can reach an export from
 * outside (a transaction id as the payment API or a kiosk sent it), and these files are opened by
 * accountants in Excel. Numbers, and text that is only a number (`-0,20`), stay as they are: the
 * figures must read back to the cent.
 */
export function csvField(value: string | number | null | undefined, separator: string): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (typeof value === 'string' && FORMULA_START.test(text) && !PLAIN_NUMBER.test(text)) text = `'${text}`;
  return text.includes(separator) || /["\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?\d+(?:[.,]\d+)?$/;

export function csvRecord(
  values: ReadonlyArray<string | number | null | undefined>,
  separator: string,
): string {
  return `${values.map((v) => csvField(v, separator)).join(separator)}\r\n`;
}

/** Splits CSV text back into records (for tests and tools reading an export). */
export function parseCsv(text: string, separator: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === separator) {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || record.length) {
    record.push(field);
    records.push(record);
  }
  return records;
}
