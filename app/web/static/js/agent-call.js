// The call panels of the agent console: screen pop, wrap-up (with callback slots), preview.
import * as ep from './endpoints.js';
import { $, el, clock, when, toast } from './ui.js';

const panels = ['call-idle', 'preview', 'screen-pop', 'wrap-up'];

export function showPanel(id) {
  for (const p of panels) $(`#${p}`).hidden = p !== id;
}

export function setIdle(title, text) {
  $('#idle-title').textContent = title;
  $('#idle-text').textContent = text;
  showPanel('call-idle');
}

function facts(target, pairs) {
  target.replaceChildren(...pairs.filter(([, v]) => v !== null && v !== undefined && v !== '')
    .flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: String(v) })]));
  if (!target.children.length) target.append(el('dd', { class: 'muted', text: 'None' }));
}

export function renderScreenPop(pop) {
  const c = pop.contact || {};
  const name = [c.first_name, c.last_name].filter(Boolean).join(' ') || 'Unknown contact';
  $('#contact-name').textContent = name;
  $('#contact-phone').textContent = c.phone || pop.call?.to_number || '';
  facts($('#contact-facts'), [['Phone', c.phone], ['Email', c.email], ['Time zone', c.timezone],
    ['Region', c.region], ['Postal code', c.postal_code], ['Attempts', c.attempts], ['Last outcome', c.last_outcome]]);
  facts($('#custom-fields'), Object.entries(c.custom_fields || {}));
  const rec = pop.recording || {};
  const notice = $('#recording-notice');
  notice.textContent = rec.announce ? rec.message : '';
  notice.hidden = !rec.announce;
  $('#campaign-name').textContent = pop.campaign?.name || '';
  const script = (pop.campaign?.script || 'No script for this campaign.')
    .replaceAll('{first_name}', c.first_name || '').replaceAll('{last_name}', c.last_name || '')
    .replaceAll('{seller_name}', pop.campaign?.seller_name || '');
  $('#script').replaceChildren(...script.split(/\n{2,}/).map((para) => el('p', { text: para })));
  showPanel('screen-pop');
}

export function renderDispositions(codes) {
  const box = $('#dispositions');
  box.replaceChildren(el('legend', { text: 'Outcome' }), ...codes.map((code) => el('label', { class: 'dispo' },
    el('input', { type: 'radio', name: 'code', value: code.code, required: true,
      dataset: { callback: code.is_callback ? '1' : '', dnc: code.is_dnc ? '1' : '' } }),
    el('span', { text: code.label }), code.is_dnc ? el('span', { class: 'tag tag-danger', text: 'DNC' }) : null,
    code.is_callback ? el('span', { class: 'tag', text: 'callback' }) : null)));
}

export async function loadCallbackSlots(interactionId) {
  const select = $('#callback-at');
  select.replaceChildren(el('option', { value: '', text: 'Loading times…' }));
  try {
    const data = await ep.callbackSlots(interactionId);
    const tz = data.timezone;
    select.replaceChildren(el('option', { value: '', text: 'Choose a time' }), ...data.slots.map((iso) => el('option', {
      value: iso,
      text: `${when(iso, { dateStyle: 'medium' })}${tz ? ` · ${new Date(iso).toLocaleTimeString([], { timeZone: tz, timeStyle: 'short' })} contact time` : ''}`,
    })));
    $('#callback-hint').textContent = `Calling hours ${data.window_start}–${data.window_end} in the contact's time (${tz || 'unknown'}).`;
  } catch (e) {
    select.replaceChildren(el('option', { value: '', text: 'No callback times available' }));
  }
}

export function renderPreview(contact) {
  const body = $('#preview-body');
  if (!contact) {
    body.replaceChildren(el('p', { class: 'muted', text: 'No contact is due in this campaign right now.' }));
  } else {
    const dl = el('dl', { class: 'facts' });
    facts(dl, [['Name', [contact.first_name, contact.last_name].filter(Boolean).join(' ')], ['Phone', contact.phone_e164 || contact.phone],
      ['Time zone', contact.timezone], ['Attempts', contact.attempts], ...Object.entries(contact.custom_fields || {})]);
    body.replaceChildren(dl);
  }
  showPanel('preview');
}

export function renderRecent(items) {
  const tbody = $('#recent-calls tbody');
  tbody.replaceChildren(...items.map((c) => el('tr', {},
    el('td', { text: when(c.created_at, { dateStyle: undefined, timeStyle: 'short' }) }),
    el('td', { text: c.to_number }),
    el('td', {}, el('span', { class: `tag outcome-${c.outcome || c.status}`, text: c.outcome || c.status })),
    el('td', { text: c.duration_seconds != null ? clock(c.duration_seconds) : '—' }))));
  if (!items.length) tbody.append(el('tr', {}, el('td', { colspan: 4, class: 'muted', text: 'No calls yet today.' })));
}

export function renderCallbacks(items) {
  const tbody = $('#my-callbacks tbody');
  tbody.replaceChildren(...items.map((c) => el('tr', { class: c.status === 'queued' ? 'due' : '' },
    el('td', { text: when(c.due_at, { dateStyle: 'short', timeStyle: 'short' }) }),
    el('td', { text: [c.first_name, c.last_name].filter(Boolean).join(' ') || c.phone }),
    el('td', { text: c.status === 'queued' ? `Due now. ${c.notes}` : c.notes }))));
  if (!items.length) tbody.append(el('tr', {}, el('td', { colspan: 3, class: 'muted', text: 'No callbacks promised.' })));
}

export function reportError(e, fallback) {
  toast(e?.message || fallback, 'error');
}
