// The supervisor's side of monitoring on the wallboard: their own audio leg (a phone Omnivox
// calls, or this browser where browser audio is set up), the live sessions of the campaigns
// they watch (`monitor.state`), and listen / whisper / barge / leave on an agent's call.
// Changing mode never reconnects: the server updates the leg in the agent's room.
import { get, post, patch, del } from './api.js';
import { $, $$, el, toast } from './ui.js';
import { connectAudio, disconnectAudio } from './voice.js';

const sessions = new Map(); // session id -> {id, supervisor_id, supervisor, agent_id, agent, mode, ...}
const me = { id: Number($('#monitor-panel').dataset.userId), audio: null };
let changed = () => {};
const MODE_WORDS = { listen: 'listening to', whisper: 'whispering to', barge: 'in the call with' };

export const sessionOf = (agentId) => [...sessions.values()].filter((s) => s.agent_id === agentId);
export const mySession = () => [...sessions.values()].find((s) => s.supervisor_id === me.id) || null;
export const audioConnected = () => Boolean(me.audio && me.audio.connected);

export async function initMonitor({ onChange }) {
  changed = onChange;
  $('#sup-audio-phone-form').addEventListener('submit', callPhone);
  $('#sup-audio-browser').addEventListener('click', useBrowser);
  $('#sup-audio-disconnect').addEventListener('click', hangUp);
  $$('#monitor-session [data-mode]').forEach((b) => b.addEventListener('click', () => setMode(b.dataset.mode)));
  $('#monitor-leave').addEventListener('click', leave);
  await Promise.all([refreshAudio(), refreshSessions()]);
}

export async function refreshSessions() {
  const { items } = await get('/api/monitoring');
  sessions.clear();
  for (const s of items) sessions.set(s.id, s);
  render();
}

async function refreshAudio() {
  try { me.audio = await get('/api/supervisors/me/audio'); } catch (e) { toast(e.message, 'error'); }
  render();
}

// Live: `monitor.state` (any session on the campaigns watched) and `agent.audio` (our own leg).
export function onMonitorState(p) {
  if (p.active) sessions.set(p.id, p); else sessions.delete(p.id);
  if (!p.active && p.supervisor_id === me.id && p.reason && p.reason !== 'The supervisor left.') toast(p.reason, 'info');
  render();
}

export function onOwnAudio(p) {
  if (p.agent_id !== me.id) return;
  if (!p.connected && p.reason) toast(p.reason, 'error');
  refreshAudio();
}

async function callPhone(event) {
  event.preventDefault();
  try {
    me.audio = await post('/api/supervisors/me/audio', { via: 'phone', phone: $('#sup-audio-phone').value || null });
    toast(`Calling ${me.audio.calling}: answer and press 1.`, 'info');
  } catch (e) { toast(e.message, 'error'); }
  render();
}

async function useBrowser() {
  try { await connectAudio(() => get('/api/supervisors/me/voice-token')); } catch (e) { toast(e.message || 'Browser audio failed', 'error'); }
}

async function hangUp() {
  try { disconnectAudio(); await del('/api/supervisors/me/audio'); } catch (e) { toast(e.message, 'error'); }
  refreshAudio();
}

export async function monitor(agentId, mode) {
  const mine = mySession();
  try {
    const s = mine && mine.agent_id === agentId
      ? await patch(`/api/monitoring/${mine.id}`, { mode })
      : await post('/api/monitoring', { agent_id: agentId, mode });
    sessions.set(s.id, s);
  } catch (e) { toast(e.message, 'error'); }
  render();
}

async function setMode(mode) {
  const mine = mySession();
  if (mine) await monitor(mine.agent_id, mode);
}

async function leave() {
  const mine = mySession();
  if (!mine) return;
  try { await del(`/api/monitoring/${mine.id}`); sessions.delete(mine.id); } catch (e) { toast(e.message, 'error'); }
  render();
}

// The Monitoring cell of an agent's row: who monitors them and how; buttons for an agent on a call.
export function monitorCell(agent) {
  const here = sessionOf(agent.agent_id);
  const cell = el('td', { class: 'monitor-cell', 'data-testid': `monitor-cell-${agent.agent_id}` },
    ...here.map((s) => el('span', { class: 'monitor-pill', dataset: { mode: s.mode }, text: `${s.supervisor || 'a supervisor'} · ${s.mode}` })));
  const mine = mySession();
  if (agent.state === 'on-call' && (!mine || mine.agent_id === agent.agent_id)) {
    for (const mode of ['listen', 'whisper', 'barge']) {
      if (mine && mine.mode === mode) continue;
      cell.append(el('button', { class: 'btn btn-small', type: 'button', text: mode[0].toUpperCase() + mode.slice(1),
        'data-testid': `monitor-${mode}-${agent.agent_id}`, disabled: !audioConnected(),
        title: audioConnected() ? '' : 'Connect your audio first', onclick: () => monitor(agent.agent_id, mode) }));
    }
  }
  return cell;
}

// `hidden` loses to the buttons' and forms' own display rules: say it inline.
function show(node, on) {
  node.hidden = !on;
  node.style.display = on ? '' : 'none';
}

function render() {
  const a = me.audio;
  const status = $('#sup-audio-status');
  if (a) {
    status.textContent = a.connected ? `Your audio is connected (${a.via}).`
      : 'Your audio is not connected: connect it to listen in on calls.';
    status.dataset.connected = a.connected ? 'yes' : 'no';
    show($('#sup-audio-browser'), !a.connected && a.browser_available);
    show($('#sup-audio-phone-form'), !a.connected);
    show($('#sup-audio-disconnect'), a.connected);
    const input = $('#sup-audio-phone');
    if (a.phone && !input.value) input.value = a.phone;
  }
  const mine = mySession();
  $('#monitor-session').hidden = !mine;
  if (mine) {
    $('#monitor-what').textContent = `You are ${MODE_WORDS[mine.mode]} ${mine.agent}.`;
    $$('#monitor-session [data-mode]').forEach((b) => { b.disabled = b.dataset.mode === mine.mode; b.setAttribute('aria-pressed', String(b.dataset.mode === mine.mode)); });
  }
  changed();
}
