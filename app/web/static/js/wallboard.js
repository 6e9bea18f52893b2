// Supervisor wallboard: one board per campaign, kept live by /live events; a full read
// every 20 s refreshes the figures no event carries (queue depth, charts).
import { get, post } from './api.js';
import { $, el, clock, pct, num, toast } from './ui.js';
import { connectLive, liveBadge } from './live.js';
import { makeCharts, updateCharts } from './wallboard-charts.js';
import { initMonitor, monitorCell, onMonitorState, onOwnAudio, refreshSessions } from './wallboard-monitor.js';

// Seconds in state past which a row turns amber, then red.
const THRESHOLDS = { ready: [300, 900], paused: [900, 1800], 'wrap-up': [60, 180], 'on-call': [600, 1200], reserved: [5, 15] };
const STAGES = ['dialling', 'ringing', 'connected', 'waiting'];
// Why contacts are held back from the queue (app/dialer/refill.py's counts), in words.
const HELD_WORDS = { outside_calling_window: 'outside calling hours', retry_not_due: 'waiting to retry',
  max_attempts_reached: 'all attempts made', do_not_call: 'on a do-not-call list',
  list_switched_off: 'in a switched-off list' };
const boards = new Map(); // campaign id -> { node, data, calls: Map, agents: Map, charts }

export function callStage(p) {
  if (p.status === 'queued' || p.status === 'initiated') return 'dialling';
  if (p.status === 'ringing') return 'ringing';
  if (p.status === 'in-progress') return p.agent_id ? 'connected' : (p.outcome && p.outcome !== 'human' ? null : 'waiting');
  return null;
}

function board(data) {
  let b = boards.get(data.id);
  if (!b) {
    const node = $('#board-template').content.firstElementChild.cloneNode(true);
    node.dataset.campaignId = data.id;
    node.querySelectorAll('[data-action]').forEach((btn) => btn.addEventListener('click', () => campaignAction(data.id, btn.dataset.action)));
    $('#boards').append(node);
    b = { node, calls: new Map(), agents: new Map(), charts: makeCharts(node) };
    boards.set(data.id, b);
  }
  b.data = data;
  b.calls = new Map(data.calls.map((c) => [c.call_id, c.stage]));
  b.agents = new Map(data.agents.map((a) => [a.agent_id, { ...a, sinceMs: a.since ? Date.parse(a.since) : null }]));
  return b;
}

function tile(b, name, value, note, level) {
  const t = b.node.querySelector(`[data-tile="${name}"]`);
  t.querySelector('.tile-value').textContent = value;
  const n = t.querySelector('.tile-note');
  if (n) n.textContent = note || '';
  t.dataset.level = level || '';
}

function stageCounts(b) {
  const counts = Object.fromEntries(STAGES.map((s) => [s, 0]));
  for (const stage of b.calls.values()) counts[stage] += 1;
  return counts;
}

// Lines working (dialling, ringing, waiting) per agent able to take the next call (ready or
// reserved): app/web/wallboard.py's dial_level, recomputed from the live calls and agents at
// every change of either, so it never waits for the next full read.
export function dialLevel(stages, agentStates) {
  const lines = stages.dialling + stages.ringing + stages.waiting;
  const agents = agentStates.filter((s) => s === 'ready' || s === 'reserved').length;
  if (agents) return lines / agents;
  return lines ? lines : null;
}

function renderDialLevel(b) {
  const states = [...b.agents.values()].map((a) => a.state);
  const level = dialLevel(stageCounts(b), states);
  const able = states.filter((s) => s === 'ready' || s === 'reserved').length;
  tile(b, 'dial-level', level === null ? '—' : num(level, 2),
    able ? `lines per agent ready or reserved (${able} now)` : 'lines; no agent ready or reserved now');
}

function renderCalls(b) {
  const counts = stageCounts(b);
  for (const s of STAGES) tile(b, s, counts[s]);
  renderDialLevel(b);
}

function render(b) {
  const d = b.data;
  b.node.querySelector('.board-name').textContent = d.name;
  b.node.querySelector('.board-steer').href = `/admin/campaigns/${d.id}`;
  const badge = b.node.querySelector('.status-badge');
  badge.textContent = d.status; badge.dataset.status = d.status;
  b.node.querySelector('.board-mode').textContent = `${d.dial_mode} dialing`;
  b.node.querySelector('[data-action="start"]').disabled = d.status === 'active';
  b.node.querySelector('[data-action="pause"]').disabled = d.status !== 'active';
  renderCalls(b);
  const held = Object.entries(d.queue.held_back || {}).filter(([, n]) => n)
    .map(([k, n]) => `${n} ${HELD_WORDS[k] || k.replaceAll('_', ' ')}`).join(', ');
  const note = b.node.querySelector('.board-notice');
  note.textContent = d.notice || '';
  note.hidden = !d.notice;
  renderPacing(b);
  tile(b, 'queue', d.queue.ready, held ? `held back: ${held}` : `${d.queue.leased} being dialled`);
  tile(b, 'inbound', d.inbound.waiting, `${d.inbound.kept} ready ${d.inbound.kept === 1 ? 'agent' : 'agents'} kept from dialling`);
  renderAbandon(b);
  renderKpis(b);
  renderAgents(b);
  updateCharts(b.charts, d);
}

// Why the dialer is holding back, when it is: the pacer's governor or a person's setting (the
// board's read, then each change the pacing tick publishes).
function renderPacing(b) {
  const line = b.node.querySelector('.board-pacing');
  line.textContent = b.data.pacing ? b.data.pacing.in_words : '';
  line.hidden = !b.data.pacing;
}

function renderAbandon(b) {
  const a = b.data.abandonment, cap = b.data.abandon_cap;
  const level = (r) => (r === null || r === undefined ? '' : r > cap ? 'bad' : r > cap * 0.8 ? 'warn' : 'ok');
  tile(b, 'abandon-today', pct(a.today, 2), `${a.today_abandoned} of ${a.today_human} · cap ${pct(cap, 1)}`, level(a.today));
  tile(b, 'abandon-30d', pct(a.rate_30d, 2), `${a.abandoned_30d} of ${a.human_30d} · cap ${pct(cap, 1)}`, level(a.rate_30d));
}

function renderKpis(b) {
  const k = b.data.kpis;
  const items = [['Calls placed', num(k.calls_placed)], ['Answered by a person', num(k.human_answered)], ['Handled', num(k.handled)],
    ['Avg handle', clock(k.avg_handle_seconds)], ['Occupancy', pct(k.occupancy, 0)], ['Talk min / agent h', num(k.talk_minutes_per_agent_hour, 1)],
    ['Sales', num(k.sales)], ['Conversion', pct(k.conversion, 0)]];
  b.node.querySelector('.kpis').replaceChildren(...items.map(([label, value]) => el('div', { class: 'kpi' },
    el('span', { class: 'kpi-value', text: value }), el('span', { class: 'kpi-label', text: label }))));
}

function renderAgents(b) {
  const rows = [...b.agents.values()].filter((a) => a.state !== 'offline')
    .sort((x, y) => (x.username || '').localeCompare(y.username || ''));
  const counts = {};
  for (const a of rows) counts[a.state] = (counts[a.state] || 0) + 1;
  b.node.querySelector('.agent-counts').textContent = Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(' · ');
  const tbody = b.node.querySelector('tbody');
  tbody.replaceChildren(...rows.map((a) => el('tr', { dataset: { agentId: a.agent_id }, 'data-testid': `agent-row-${a.agent_id}` },
    el('td', { text: a.username || `agent #${a.agent_id}` }),
    el('td', {}, el('span', { class: 'state-pill', dataset: { state: a.state }, text: a.state + (a.pause_code ? ` · ${a.pause_code}` : '') })),
    el('td', { class: 'tis', dataset: { since: a.sinceMs ?? '' } }),
    monitorCell(a),
    el('td', { class: 'row-actions' }, ['ready', 'wrap-up'].includes(a.state)
      ? el('button', { class: 'btn btn-small btn-warn', type: 'button', text: 'Force pause', onclick: () => forcePause(a.agent_id) }) : null))));
  if (!rows.length) tbody.append(el('tr', {}, el('td', { colspan: 5, class: 'muted', text: 'No agent signed in.' })));
  renderDialLevel(b);
  tickAgents();
}

function tickAgents() {
  const now = Date.now();
  for (const b of boards.values()) {
    for (const cell of b.node.querySelectorAll('td.tis')) {
      const since = Number(cell.dataset.since);
      const row = cell.closest('tr');
      const state = row.querySelector('.state-pill')?.dataset.state;
      if (!since) { cell.textContent = '—'; continue; }
      const secs = (now - since) / 1000;
      cell.textContent = clock(secs);
      const [warn, bad] = THRESHOLDS[state] || [Infinity, Infinity];
      row.dataset.level = secs >= bad ? 'bad' : secs >= warn ? 'warn' : '';
    }
  }
  $('#wall-clock').textContent = new Date().toLocaleTimeString();
}

async function forcePause(agentId) {
  try { await post(`/api/agents/${agentId}/force-pause`, {}); toast('Agent paused', 'ok'); } catch (e) { toast(e.message, 'error'); }
}

async function campaignAction(id, action) {
  try {
    const c = await post(`/api/campaigns/${id}/${action}`);
    const b = boards.get(id);
    b.data.status = c.status;
    render(b);
  } catch (e) { toast(e.message, 'error'); }
}

async function refresh() {
  const data = await get('/api/wallboard');
  for (const c of data.campaigns) render(board(c));
  if (!data.campaigns.length) $('#boards').replaceChildren(el('p', { class: 'card muted', text: 'You do not supervise any campaign yet.' }));
}

function onAgentState(p) {
  for (const b of boards.values()) {
    const known = b.agents.get(p.agent_id);
    const here = p.campaign_id === b.data.id;
    if (!known && !here) continue;
    const row = { ...(known || { agent_id: p.agent_id }), state: here || p.state === 'offline' ? p.state : 'elsewhere',
      pause_code: p.pause_code, sinceMs: p.since ? Date.parse(p.since) : Date.now() };
    b.agents.set(p.agent_id, row);
    renderAgents(b);
  }
}

function onCallState(p) {
  const b = boards.get(p.campaign_id);
  if (!b) return;
  const stage = callStage(p);
  if (stage) b.calls.set(p.call_id, stage); else b.calls.delete(p.call_id);
  renderCalls(b);
}

function onFigures(p) {
  const b = boards.get(p.campaign_id);
  if (!b) return;
  if ('pacing' in p) {
    b.data.pacing = p.pacing;
    renderPacing(b);
  }
  if (!p.today && !p.abandonment_30d) return;  // the pacing tick's news alone
  const t = p.today || {}, a30 = p.abandonment_30d || {};
  Object.assign(b.data.abandonment, { today: t.abandon_rate ?? null, today_abandoned: t.abandoned || 0,
    today_human: t.human_answered || 0, rate_30d: a30.rate ?? null, abandoned_30d: a30.abandoned || 0, human_30d: a30.human_answered || 0 });
  for (const k of Object.keys(b.data.kpis)) if (k in t) b.data.kpis[k] = t[k];
  if (p.status) b.data.status = p.status;
  renderAbandon(b);
  renderKpis(b);
}

function renderAllAgents() {
  for (const b of boards.values()) if (b.data) renderAgents(b);
}

async function main() {
  await refresh();
  await initMonitor({ onChange: renderAllAgents });
  const socket = connectLive({ 'agent.state': onAgentState, 'call.state': onCallState, 'campaign.figures': onFigures,
    'monitor.state': onMonitorState, 'agent.audio': onOwnAudio },
    { onStatus: liveBadge($('#live-badge')) });
  // Supervisors join their campaigns' rooms on connect; admins ask for the ones on the board.
  socket.on('connect', () => socket.emit('watch', { campaign_ids: [...boards.keys()] }));
  setInterval(tickAgents, 1000);
  setInterval(() => refresh().then(refreshSessions).catch(() => {}), 20000);
}

main().catch((e) => toast(e.message || 'The wallboard could not start', 'error'));
