// The JSON API, as the pages call it: same-origin cookies, X-CSRFToken on every write,
// errors in the API's one shape ({error: {code, message, fields}}) raised as ApiError.

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `Request failed (${status})`);
    this.status = status;
    this.code = err.code || null;
    this.fields = err.fields || {};
  }
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : '';
}

export function setCsrfToken(token) {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && token) meta.content = token;
}

export async function request(method, path, { json, form, query } = {}) {
  const headers = { Accept: 'application/json' };
  let body;
  if (method !== 'GET') headers['X-CSRFToken'] = csrfToken();
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, v);
    const qs = params.toString();
    if (qs) url += (url.includes('?') ? '&' : '?') + qs;
  }
  const response = await fetch(url, { method, headers, body, credentials: 'same-origin' });
  if (response.status === 401) {
    window.location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
    throw new ApiError(401, { error: { message: 'Sign-in required' } });
  }
  const text = await response.text();
  const data = text ? safeJson(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function safeJson(text) {
  try { return JSON.parse(text); } catch { return { raw: text }; }
}

export const get = (path, query) => request('GET', path, { query });
export const post = (path, json) => request('POST', path, { json: json ?? {} });
export const patch = (path, json) => request('PATCH', path, { json });
export const put = (path, json) => request('PUT', path, { json });
export const del = (path) => request('DELETE', path);
export const upload = (path, form) => request('POST', path, { form });
