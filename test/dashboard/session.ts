/** Logging in to a dashboard from a test, the way the page does: the cookie it sets and the CSRF token. */
export interface TestSession {
  cookie: string;
  csrf: string;
  role: string;
}

export async function logIn(base: string, username: string, password: string): Promise<TestSession> {
  const res = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login ${username}: HTTP ${res.status}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const body = (await res.json()) as { csrf: string; role: string };
  return { cookie, csrf: body.csrf, role: body.role };
}

/** Headers of a logged-in request (with the CSRF token, as the page sends it). */
export function authed(s: TestSession, more: Record<string, string> = {}): Record<string, string> {
  return { Cookie: s.cookie, 'X-CSRF-Token': s.csrf, ...more };
}
