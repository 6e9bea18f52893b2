// Call records: filters (dates, campaign, agent, outcome, disposition, abandoned, phone), pages,
// names in place of ids, one call's details (events in words, transfers), its recording played
// through Omnivox (an <audio> element pointed at /api/call-records/<id>/recording: the server
// streams it with ranges, so seeking works and the browser never sees the carrier), a legal hold
// for supervisors, and an export of exactly what the filters show.
import { del, get, post } from './api.js';
import { $, el, clock, when, toast } from './ui.js';

const PER_PAGE = 50;
const form = $('#call-filters');
let shown = null;
let page = 1;
let outcomeWords = {};
let asked = 0; // filters change quickly: only the latest request's answer is shown

function option(value, text) { return el('option', { value: String(value), text }); }

async function loadOptions() {
  const opts = await get('/api/call-records/filters');
  form.elements.campaign_id.append(...opts.campaigns.map((c) => option(c.id, c.name)));
  if (form.elements.agent_id) form.elements.agent_id.append(...opts.agents.map((a) => option(a.id, a.name)));
  form.elements.outcome.append(...opts.outcomes.map((o) => option(o.value, o.words)));
  form.elements.disposition.append(...opts.dispositions.map((d) => option(d, d)));
  outcomeWords = Object.fromEntries(opts.outcomes.map((o) => [o.value, o.words]));
}

// The date inputs are the browser's local days: [from 00:00, the day after `to` 00:00).
function localMidnight(value, plusDays = 0) {
  const [y, m, d] = value.split('-').map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
}

function filters() {
  const f = form.elements;
  const q = {
    campaign_id: f.campaign_id.value, agent_id: f.agent_id ? f.agent_id.value : '', outcome: f.outcome.value,
    disposition: f.disposition.value, abandoned: f.abandoned.value, phone: f.phone.value.trim(),
  };
  if (f.from_date.value) q.from = localMidnight(f.from_date.value);
  if (f.to_date.value) q.to = localMidnight(f.to_date.value, 1);
  return q;
}

function query(q) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') params.set(k, v);
  return params.toString();
}

function checkDates() {
  const f = form.elements;
  if (f.from_date.value && f.to_date.value && f.to_date.value < f.from_date.value) {
    return 'The "To" day must be on or after the "From" day.';
  }
  return '';
}

function row(call) {
  const tr = el('tr', { class: 'clickable', 'data-call-id': String(call.id), tabindex: '0' },
    el('td', { text: when(call.created_at) }), el('td', { text: call.campaign_name || '—' }),
    el('td', { text: call.agent_name || '—' }), el('td', { text: call.contact_name || '—' }),
    el('td', {}, call.person_number || call.to_number,
      call.direction === 'inbound' ? el('div', { class: 'muted small', text: call.direction_words }) : null),
    el('td', {}, el('span', { class: `tag ${call.abandoned ? 'tag-danger' : `outcome-${call.outcome || ''}`}`, text: call.outcome_words })),
    el('td', { text: call.disposition || '—' }), el('td', { class: 'notes-cell', text: call.notes || '', title: call.notes || '' }),
    el('td', { text: call.talk_seconds != null ? clock(call.talk_seconds) : '—' }),
    el('td', { text: call.recording_url ? 'Yes' : '—' }));
  tr.addEventListener('click', () => open(call.id).catch((e) => toast(e.message, 'error')));
  tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') open(call.id).catch((err) => toast(err.message, 'error')); });
  return tr;
}

async function list() {
  const q = filters();
  $('#export').href = `/api/call-records/export${query(q) ? `?${query(q)}` : ''}`;
  const mine = ++asked;
  const data = await get('/api/call-records', { ...q, page, per_page: PER_PAGE });
  if (mine !== asked) return;
  const { total, pages } = data.meta;
  $('#calls tbody').replaceChildren(...(data.items.length ? data.items.map(row)
    : [el('tr', {}, el('td', { colspan: '10', class: 'muted', text: 'No calls match these filters.' }))]));
  $('#calls-count').textContent = total === 1 ? '1 call' : `${total} calls`;
  $('#page-text').textContent = pages ? `Page ${page} of ${pages}` : '';
  $('#prev-page').disabled = page <= 1;
  $('#next-page').disabled = page >= pages;
}

function refresh() {
  const problem = checkDates();
  $('#filter-error').textContent = problem;
  $('#filter-error').hidden = !problem;
  if (problem) return;
  list().catch((e) => toast(`Could not load the calls: ${e.message}`, 'error'));
}

function recordingText(rec) {
  if (!rec) return 'This call was not recorded.';
  if (rec.deleted_at) return `Deleted on ${when(rec.deleted_at, { dateStyle: 'medium' })}: ${rec.deleted_reason || ''}`;
  if (!rec.playable) return rec.status === 'absent' ? 'Nothing was recorded.' : 'The recording can be played once the call has ended.';
  const ch = rec.channels === 2 ? 'two channels: agent left, customer right' : 'one channel';
  return `${clock(rec.duration_seconds || 0)} · ${ch}`;
}

function transferText(t) {
  const to = t.to_agent_name || (t.to_campaign_name && `any agent of ${t.to_campaign_name}`) || t.to_number || 'someone';
  const status = { consulting: 'consulting', completed: 'completed', cancelled: 'cancelled', failed: 'failed' }[t.status] || t.status;
  return `${when(t.started_at)}: ${t.kind === 'warm' ? 'Warm' : 'Cold'} transfer from ${t.from_agent_name || 'an agent'} to ${to} (${status})`;
}

async function open(id) {
  const data = await get(`/api/call-records/${id}`);
  shown = data;
  const call = data.call;
  const who = call.contact_name || call.person_number || call.to_number;
  $('#detail-title').textContent = call.direction === 'inbound' ? `Call from ${who}` : `Call to ${who}`;
  const facts = [['Direction', call.direction_words], ['Campaign', call.campaign_name], ['Agent', call.agent_name],
    ['Contact', call.contact_name], ['Number', call.person_number || call.to_number], ['Outcome', call.outcome_words || outcomeWords[call.outcome]],
    ['Disposition', call.disposition], ['Talk time', call.talk_seconds != null ? clock(call.talk_seconds) : null],
    ['Wait before an agent', call.wait_seconds != null ? `${call.wait_seconds.toFixed(1)} s` : null],
    ['Placed', when(call.created_at)], ['Answered', call.answered_at && when(call.answered_at)],
    ['Connected', call.connected_at && when(call.connected_at)], ['Ended', call.ended_at && when(call.ended_at)]];
  $('#detail-facts').replaceChildren(...facts.filter(([, v]) => v !== null && v !== undefined && v !== '')
    .flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: String(v) })]));
  $('#detail-notes').textContent = call.notes || 'No notes.';
  $('#detail-events').replaceChildren(...(data.events.length ? data.events.map((e) => el('li', { text: `${when(e.received_at, { timeStyle: 'medium' })}: ${e.words}` }))
    : [el('li', { class: 'muted', text: 'Nothing heard from the carrier yet.' })]));
  $('#transfers-box').hidden = !data.transfers.length;
  $('#detail-transfers').replaceChildren(...data.transfers.map((t) => el('li', { text: transferText(t) })));
  const rec = data.recording;
  $('#recording-text').textContent = recordingText(rec);
  const player = $('#player');
  if (rec && rec.playable) {
    player.src = rec.url;
    player.hidden = false;
  } else {
    player.removeAttribute('src');
    player.hidden = true;
  }
  $('#pauses').replaceChildren(...((rec && rec.pauses) || []).map((p) => el('li', {
    text: `Paused ${when(p.paused_at)} – ${p.resumed_at ? when(p.resumed_at) : 'still paused'}${p.resumed_reason === 'call-ended' ? ' (call ended)' : ''}` })));
  renderHold(data.legal_hold);
  $('#call-detail').hidden = false;
  $('#call-detail').scrollIntoView({ block: 'nearest' });
}

function renderHold(hold) {
  const holdForm = $('#hold-form');
  if (!holdForm) return;
  $('#hold-text').textContent = hold.on_hold
    ? `On legal hold since ${when(hold.at)}: ${hold.reason}. The recording is kept whatever the retention period.`
    : 'Not on hold: the recording is deleted when the campaign\'s retention period has passed.';
  $('#hold-toggle').textContent = hold.on_hold ? 'Release legal hold' : 'Place on legal hold';
  $('#hold-reason').required = !hold.on_hold;
}

async function toggleHold(ev) {
  ev.preventDefault();
  if (!shown) return;
  const id = shown.call.id;
  const box = $('#hold-error');
  box.hidden = true;
  try {
    const reason = $('#hold-reason').value.trim();
    const hold = shown.legal_hold.on_hold
      ? await del(`/api/call-records/${id}/legal-hold${reason ? `?reason=${encodeURIComponent(reason)}` : ''}`)
      : await post(`/api/call-records/${id}/legal-hold`, { reason });
    shown.legal_hold = hold;
    $('#hold-reason').value = '';
    renderHold(hold);
    toast(hold.on_hold ? 'The call is on legal hold.' : 'Legal hold released.', 'ok');
  } catch (e) {
    const fields = Object.values(e.fields || {}).flat().join(' ');
    box.textContent = fields ? `${e.message}: ${fields}` : e.message;
    box.hidden = false;
  }
}

form.addEventListener('submit', (ev) => { ev.preventDefault(); page = 1; refresh(); });
form.addEventListener('change', (ev) => { if (ev.target.name !== 'phone') { page = 1; refresh(); } });
$('#clear-filters').addEventListener('click', () => { form.reset(); page = 1; refresh(); });
$('#prev-page').addEventListener('click', () => { page = Math.max(1, page - 1); refresh(); });
$('#next-page').addEventListener('click', () => { page += 1; refresh(); });
$('#close-detail').addEventListener('click', () => { $('#call-detail').hidden = true; });
$('#export').addEventListener('click', (ev) => { if (checkDates()) { ev.preventDefault(); refresh(); } });
if ($('#hold-form')) $('#hold-form').addEventListener('submit', toggleHold);

loadOptions().catch((e) => toast(`Could not load the filters: ${e.message}`, 'error'))
  .then(list).then(() => {
    const wanted = Number(new URLSearchParams(location.search).get('call'));
    if (wanted) open(wanted).catch((e) => toast(e.message, 'error'));
  }).catch((e) => toast(`Could not load the calls: ${e.message}`, 'error'));
