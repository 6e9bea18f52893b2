// Call records: the list, one call's details, its recording played through Omnivox (an <audio>
// element pointed at /api/call-records/<id>/recording: the server streams it with ranges, so
// seeking works and the browser never sees the carrier), and a legal hold for supervisors.
import { del, get, post } from './api.js';
import { $, el, clock, when, toast } from './ui.js';

const root = $('#calls-root');
let shown = null;

function row(call) {
  const tr = el('tr', { class: 'clickable', 'data-call-id': String(call.id), tabindex: '0' },
    el('td', { text: when(call.created_at) }), el('td', { text: call.to_number }),
    el('td', { text: call.status }), el('td', { text: call.outcome || '—' }),
    el('td', { text: call.duration_seconds != null ? clock(call.duration_seconds) : '—' }),
    el('td', { text: call.recording_url ? 'Yes' : '—' }));
  tr.addEventListener('click', () => open(call.id));
  tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') open(call.id); });
  return tr;
}

async function list() {
  const page = await get('/api/call-records', { per_page: 50 });
  $('#calls tbody').replaceChildren(...(page.items.length ? page.items.map(row)
    : [el('tr', {}, el('td', { colspan: '6', class: 'muted', text: 'No calls yet.' }))]));
}

function recordingText(rec) {
  if (!rec) return 'This call was not recorded.';
  if (rec.deleted_at) return `Deleted on ${when(rec.deleted_at, { dateStyle: 'medium' })}: ${rec.deleted_reason || ''}`;
  if (!rec.playable) return rec.status === 'absent' ? 'Nothing was recorded.' : 'The recording can be played once the call has ended.';
  const ch = rec.channels === 2 ? 'two channels: agent left, customer right' : 'one channel';
  return `${clock(rec.duration_seconds || 0)} · ${ch}`;
}

async function open(id) {
  const data = await get(`/api/call-records/${id}`);
  shown = data;
  const call = data.call;
  $('#detail-title').textContent = `Call to ${call.to_number}`;
  const facts = [['Status', call.status], ['Outcome', call.outcome], ['Agent', call.agent_id], ['Campaign', call.campaign_id],
    ['Answered', call.answered_at && when(call.answered_at)], ['Connected', call.connected_at && when(call.connected_at)],
    ['Ended', call.ended_at && when(call.ended_at)]];
  $('#detail-facts').replaceChildren(...facts.filter(([, v]) => v !== null && v !== undefined)
    .flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: String(v) })]));
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
}

function renderHold(hold) {
  const form = $('#hold-form');
  if (!form) return;
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

if ($('#hold-form')) $('#hold-form').addEventListener('submit', toggleHold);
list().then(() => {
  const wanted = Number(new URLSearchParams(location.search).get('call'));
  if (wanted) open(wanted).catch((e) => toast(e.message, 'error'));
}).catch((e) => toast(`Could not load the calls: ${e.message}`, 'error'));
void root;
