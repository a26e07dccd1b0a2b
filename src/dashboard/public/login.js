/* global document, window, fetch, URLSearchParams */
'use strict';

// The session cookie is HttpOnly: this page only sends the form and follows the server's answer.
document.getElementById('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const error = document.getElementById('login-error');
  error.hidden = true;
  try {
    const res = await fetch('/api/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        username: document.getElementById('username').value,
        password: document.getElementById('password').value,
      }),
    });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
    const next = new URLSearchParams(window.location.search).get('next');
    // Only a path on this server, never another site.
    window.location.href = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
  }
});
