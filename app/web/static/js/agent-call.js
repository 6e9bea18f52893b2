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
  const inbound = pop.inbound;
  const name = [c.first_name, c.last_name].filter(Boolean).join(' ')
    || (inbound ? (inbound.withheld ? 'Withheld number' : 'Unknown caller') : 'Unknown contact');
  $('#contact-name').textContent = name;
  $('#contact-phone').textContent = c.phone || (inbound ? inbound.caller : pop.call?.to_number) || '';
  $('#pop-inbound').hidden = !inbound;
  $('#pop-inbound').textContent = inbound ? inbound.message : '';
  facts($('#contact-facts'), [['Phone', c.phone], ['Email', c.email], ['Time zone', c.timezone],
    ['Region', c.region], ['Postal code', c.postal_code], ['Attempts', c.attempts],
    ['Last outcome', c.last_outcome_words || (c.last_outcome ? 'Not recorded in words' : null)]]);
  facts($('#custom-fields'), Object.entries(c.custom_fields || {}).map(([k, v]) => [fieldLabel(k), v]));
  const rec = pop.recording || {};
  const notice = $('#recording-notice');
  notice.textContent = rec.announce ? rec.message : '';
  notice.hidden = !rec.announce;
  $('#campaign-name').textContent = pop.campaign?.name || '';
  renderScript($('#script'), pop.campaign?.script, scriptValues(c, pop.campaign));
  const cb = pop.callback;
  $('#pop-callback').hidden = !cb;
  $('#pop-callback').textContent = cb ? `A callback ${cb.agent_name ? `promised by ${cb.agent_name}` : 'promised'} for `
    + `${when(cb.due_at)}${cb.notes ? `: ${cb.notes}` : '.'}` : '';
  const earlier = pop.history || [];
  $('#pop-history-title').textContent = earlier.length ? `Earlier calls (${earlier.length})` : 'Earlier calls: none';
  renderHistory($('#pop-history-body'), { calls: earlier, callbacks: [] });
  $('#pop-history').open = Boolean(cb || inbound) && earlier.length > 0;
  showPanel('screen-pop');
}

// A field's name for people: "policy_no" -> "policy no".
export function fieldLabel(key) {
  return String(key).replace(/[_.-]+/g, ' ').trim();
}

const normal = (key) => fieldLabel(key).toLowerCase().replace(/\s+/g, ' ');

function scriptValues(contact, campaign) {
  const values = new Map();
  for (const [k, v] of Object.entries(contact.custom_fields || {})) values.set(normal(k), v);
  const own = { first_name: contact.first_name, last_name: contact.last_name, phone: contact.phone,
    email: contact.email, seller_name: campaign?.seller_name };
  for (const [k, v] of Object.entries(own)) values.set(normal(k), v);
  return values;
}

// The script with its {placeholders} filled in; one with no value shows, highlighted, what is
// missing ("[first name: not on file]"), never an empty gap or raw braces.
export function renderScript(target, script, values) {
  const text = script || 'No script for this campaign.';
  target.replaceChildren(...text.split(/\n{2,}/).map((para) => {
    const p = el('p');
    let at = 0;
    for (const m of para.matchAll(/\{\s*([A-Za-z0-9_ .-]+?)\s*\}/g)) {
      p.append(para.slice(at, m.index));
      const value = values.get(normal(m[1]));
      if (value !== undefined && value !== null && String(value).trim() !== '') {
        p.append(String(value));
      } else {
        p.append(el('mark', { class: 'placeholder-missing', title: 'Not on file for this contact',
          text: `[${fieldLabel(m[1])}: not on file]` }));
      }
      at = m.index + m[0].length;
    }
    p.append(para.slice(at));
    return p;
  }));
}

// A contact's earlier calls and callbacks, in words (GET /api/console/contacts/<id>/history).
export function renderHistory(target, history) {
  const calls = history.calls || [], callbacks = history.callbacks || [];
  if (!calls.length && !callbacks.length) {
    target.replaceChildren(el('p', { class: 'muted small', text: 'No earlier calls with this contact.' }));
    return;
  }
  const list = el('ul', { class: 'history-list' });
  for (const c of calls) {
    list.append(el('li', {},
      el('div', { class: 'history-head', text: `${when(c.at)} · ${c.disposition || c.outcome_words}` }),
      el('div', { class: 'muted small', text: [c.kind_words, c.agent_name ? `with ${c.agent_name}` : null,
        c.disposition ? c.outcome_words : null, c.talk_seconds ? `talked ${clock(c.talk_seconds)}` : null]
        .filter(Boolean).join(' · ') }),
      c.notes ? el('div', { class: 'history-notes', text: c.notes }) : null));
  }
  for (const b of callbacks) {
    list.append(el('li', {},
      el('div', { class: 'history-head', text: `Callback ${when(b.due_at)} · ${b.status_words}` }),
      el('div', { class: 'muted small', text: b.agent_name ? `Promised by ${b.agent_name}` : '' }),
      b.notes ? el('div', { class: 'history-notes', text: b.notes }) : null));
  }
  target.replaceChildren(list);
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

// The next contact to preview, or none: then Dial and Skip are disabled and the panel says when
// more may come (`nextDue`: when the list's next contact falls due; null: none left to call).
export function renderPreview(contact, nextDue = null) {
  const body = $('#preview-body');
  const none = !contact || !contact.id;
  $('#preview-dial').disabled = none;
  $('#preview-skip').disabled = none;
  if (none) {
    let more;
    if (!nextDue) more = 'This list has no contacts left to call; new ones appear here when contacts are added or recycled.';
    else if (new Date(nextDue) <= new Date(Date.now() + 60000)) more = 'More are due now and are being queued.';
    else more = `The next contact is due ${when(nextDue, { dateStyle: 'medium' })} (your time).`;
    body.replaceChildren(el('p', { class: 'empty-title', text: 'No contacts to preview right now' }),
      el('p', { class: 'muted', text: `${more} This checks again every 30 seconds.` }));
  } else {
    const dl = el('dl', { class: 'facts' });
    facts(dl, [['Name', [contact.first_name, contact.last_name].filter(Boolean).join(' ') || 'No name on file'],
      ['Phone', contact.phone_e164 || contact.phone], ['Time zone', contact.timezone], ['Attempts', contact.attempts],
      ...Object.entries(contact.custom_fields || {}).map(([k, v]) => [fieldLabel(k), v])]);
    body.replaceChildren(dl);
  }
  showPanel('preview');
}

// The agent's latest calls (GET /api/console/recent-calls): the disposition, in words.
export function renderRecent(items) {
  const tbody = $('#recent-calls tbody');
  tbody.replaceChildren(...items.map((c) => el('tr', {},
    el('td', { text: when(c.at, { dateStyle: undefined, timeStyle: 'short' }) }),
    el('td', {}, c.contact_name || c.person_number || c.to_number,
      c.contact_name ? el('div', { class: 'muted small', text: c.person_number || c.to_number }) : null,
      c.direction === 'inbound' ? el('div', { class: 'muted small', text: c.direction_words }) : null),
    el('td', {}, el('span', { class: 'tag', text: c.result })),
    el('td', { text: c.duration_seconds != null ? clock(c.duration_seconds) : '—' }))));
  if (!items.length) tbody.append(el('tr', {}, el('td', { colspan: 4, class: 'muted', text: 'No calls yet.' })));
}

export function renderCallbacks(items, onHistory) {
  const tbody = $('#my-callbacks tbody');
  tbody.replaceChildren(...items.map((c) => el('tr', { class: c.status === 'queued' ? 'due' : '' },
    el('td', { text: when(c.due_at, { dateStyle: 'short', timeStyle: 'short' }) }),
    el('td', {}, [c.first_name, c.last_name].filter(Boolean).join(' ') || c.phone, ' ',
      onHistory ? el('button', { class: 'btn btn-small', type: 'button', text: 'History',
        'aria-label': `Earlier calls with ${[c.first_name, c.last_name].filter(Boolean).join(' ') || c.phone}`,
        onclick: () => onHistory(c) }) : null),
    el('td', { text: c.status === 'queued' ? `Due now. ${c.notes}` : c.notes }))));
  if (!items.length) tbody.append(el('tr', {}, el('td', { colspan: 3, class: 'muted', text: 'No callbacks promised.' })));
}

export function reportError(e, fallback) {
  toast(e?.message || fallback, 'error');
}
