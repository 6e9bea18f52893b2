// Small DOM helpers shared by every page.

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clock(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(2, '0'), ss = String(r).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export const pct = (v, digits = 1) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(digits)}%`);
export const num = (v, digits = 0) => (v === null || v === undefined ? '—' : Number(v).toFixed(digits));

export function when(iso, opts = {}) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString([], { dateStyle: 'short', timeStyle: 'short', ...opts });
}

export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const item = el('div', { class: `toast toast-${kind}`, role: 'status', text: message });
  box.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 7000 : 4000);
}

// Field errors from an ApiError, shown next to the inputs of `form` (by name).
export function showFieldErrors(form, error) {
  $$('.field-error', form).forEach((n) => n.remove());
  $$('.invalid', form).forEach((n) => n.classList.remove('invalid'));
  for (const [name, messages] of Object.entries(error.fields || {})) {
    const input = form.elements.namedItem(name);
    const text = Array.isArray(messages) ? messages.join(' ') : String(messages);
    const note = el('div', { class: 'field-error', text });
    if (input && input.closest) {
      input.classList.add('invalid');
      (input.closest('label') || input).after(note);
    } else {
      form.prepend(note);
    }
  }
}

export function formData(form) {
  const out = {};
  for (const input of form.elements) {
    if (!input.name || input.disabled) continue;
    if (input.type === 'checkbox') out[input.name] = input.checked;
    else if (input.type === 'number') out[input.name] = input.value === '' ? null : Number(input.value);
    else out[input.name] = input.value;
  }
  return out;
}
