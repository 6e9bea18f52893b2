// Webhooks out: endpoints, their state, recent deliveries, test and redeliver.
import { get, post, patch, del } from './api.js';
import { $, el, toast, showFieldErrors, when } from './ui.js';

const form = $('#hook-form');
let eventWords = {};
let shown = null; // the endpoint whose deliveries are listed

function secondsWords(ms) {
  if (ms === null || ms === undefined) return '—';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

async function load() {
  const { items, event_types: types } = await get('/api/webhooks');
  if (!Object.keys(eventWords).length) {
    eventWords = types;
    $('#hook-events').append(...Object.entries(types).map(([value, words]) => el('label', {},
      el('input', { type: 'checkbox', name: 'events', value }), words)));
  }
  const off = items.filter((e) => e.state === 'switched_off_failing');
  $('#hooks-switched-off').hidden = !off.length;
  $('#hooks-switched-off').textContent = off.length
    ? `${off.length === 1 ? 'One endpoint was' : `${off.length} endpoints were`} switched off after a day of failed deliveries: ${off.map((e) => e.url).join(', ')}. Fix the receiver, then switch it on again.`
    : '';
  $('#hooks tbody').replaceChildren(...items.map((e) => el('tr', { dataset: { id: e.id } },
    el('td', {}, el('div', { text: e.url }), e.description ? el('span', { class: 'muted small', text: e.description }) : null),
    el('td', { text: e.event_words.join(', ') }),
    el('td', {}, el('span', { class: 'hook-state', dataset: { state: e.state }, text: e.state_words }),
      e.disabled_reason ? el('span', { class: 'hook-reason muted', text: e.disabled_reason }) : null,
      e.failing_since && e.active ? el('span', { class: 'hook-reason muted', text: `Failing since ${when(e.failing_since)}` }) : null),
    el('td', { text: `…${e.secret_hint}` }),
    el('td', {},
      el('button', { class: 'btn btn-small', type: 'button', text: 'Deliveries', onclick: () => showDeliveries(e) }),
      el('button', { class: 'btn btn-small', type: 'button', text: 'Send a test', onclick: () => sendTest(e) }),
      el('button', { class: 'btn btn-small', type: 'button', text: e.active ? 'Switch off' : 'Switch on', onclick: () => toggle(e) }),
      el('button', { class: 'btn btn-small', type: 'button', text: 'Delete', onclick: () => remove(e) })))));
  if (!items.length) $('#hooks tbody').append(el('tr', {}, el('td', { colspan: 5, class: 'muted', text: 'No endpoints yet.' })));
  if (shown) showDeliveries(items.find((e) => e.id === shown.id) || null);
}

async function showDeliveries(endpoint) {
  shown = endpoint;
  $('#hook-deliveries').hidden = !endpoint;
  if (!endpoint) return;
  $('#hook-deliveries-title').textContent = `Recent deliveries to ${endpoint.url}`;
  const { items } = await get(`/api/webhooks/${endpoint.id}/deliveries`, { per_page: 25 });
  $('#hook-deliveries tbody').replaceChildren(...items.map((d) => el('tr', {},
    el('td', { text: when(d.last_attempt_at || d.created_at) }),
    el('td', { text: d.event_words + (d.redelivery_of_id ? ' (sent again)' : '') }),
    el('td', {}, el('span', { text: d.status_words }), d.last_error ? el('span', { class: 'hook-reason muted', text: d.last_error }) : null,
      d.status === 'pending' && d.next_attempt_at ? el('span', { class: 'hook-reason muted', text: `Next try ${when(d.next_attempt_at)}` }) : null),
    el('td', { text: d.last_status_code ?? 'No answer' }),
    el('td', { text: secondsWords(d.last_duration_ms) }),
    el('td', { text: d.attempts }),
    el('td', {}, el('button', { class: 'btn btn-small', type: 'button', text: 'Send again', onclick: () => redeliver(endpoint, d) })))));
  if (!items.length) $('#hook-deliveries tbody').append(el('tr', {}, el('td', { colspan: 7, class: 'muted', text: 'Nothing sent yet.' })));
}

// A test or a redelivery is sent by a worker: follow it until it has an answer.
async function follow(endpoint, delivery) {
  for (let i = 0; i < 20 && delivery.status === 'pending'; i += 1) {
    await new Promise((r) => setTimeout(r, 750));
    const { items } = await get(`/api/webhooks/${endpoint.id}/deliveries`, { per_page: 25 });
    delivery = items.find((d) => d.id === delivery.id) || delivery;
  }
  if (delivery.status === 'succeeded') toast(`Delivered: answered ${delivery.last_status_code}`, 'ok');
  else if (delivery.status === 'failed') toast(`Not delivered: ${delivery.last_error || `answered ${delivery.last_status_code}`}`, 'error');
  else toast('Still waiting to be sent; the list shows the result when it comes.');
  load();
}

async function sendTest(endpoint) {
  try { follow(endpoint, await post(`/api/webhooks/${endpoint.id}/test`)); shown = endpoint; } catch (e) { toast(e.message, 'error'); }
}

async function redeliver(endpoint, delivery) {
  try { follow(endpoint, await post(`/api/webhooks/${endpoint.id}/deliveries/${delivery.id}/redeliver`)); } catch (e) { toast(e.message, 'error'); }
}

async function toggle(endpoint) {
  try { await patch(`/api/webhooks/${endpoint.id}`, { active: !endpoint.active }); load(); } catch (e) { toast(e.message, 'error'); }
}

async function remove(endpoint) {
  if (!window.confirm(`Delete the endpoint ${endpoint.url} and its delivery log? Nothing more is sent to it.`)) return;
  try { await del(`/api/webhooks/${endpoint.id}`); if (shown && shown.id === endpoint.id) shown = null; load(); } catch (e) { toast(e.message, 'error'); }
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const events = [...form.querySelectorAll('input[name="events"]:checked')].map((i) => i.value);
  try {
    const created = await post('/api/webhooks', { url: form.url.value, description: form.description.value, events });
    form.reset(); showFieldErrors(form, { fields: {} });
    $('#secret-value').textContent = created.secret;
    $('#secret-dialog').showModal();
    load();
  } catch (e) { showFieldErrors(form, e); toast(e.message, 'error'); }
});

load().catch((e) => toast(e.message, 'error'));
