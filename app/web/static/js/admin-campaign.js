// One campaign's page: its team (admins assign agents and supervisors by name) and its dialer
// (the live dial level, and an override within the law's limits for admins and its supervisors).
import { get, put, del } from './api.js';
import { $, el, toast, showFieldErrors, formData, num } from './ui.js';
import { toPercent, fromPercent, errorSummary } from './campaign-fields.js';

const page = $('#campaign-page');
const campaignId = Number(page.dataset.campaignId);
const isAdmin = page.dataset.role === 'admin';
if (!isAdmin) page.dataset.readonly = '1';

const team = { agent: new Map(), supervisor: new Map() };
const choices = { agent: [], supervisor: [] };
const LIST = { agent: '#agents-list', supervisor: '#supervisors-list' };
const PICK = { agent: '#agent-pick', supervisor: '#supervisor-pick' };
const NOUN = { agent: ['agent', 'agents'], supervisor: ['supervisor', 'supervisors'] };

const nameOf = (p) => (p.full_name ? `${p.full_name} (${p.username})` : p.username);
const count = (n, [one, many]) => `${n} ${n === 1 ? one : many}`;

function markDirty(dirty) { $('#team-dirty').hidden = !dirty; }

function renderTeam() {
  for (const role of ['agent', 'supervisor']) {
    const people = [...team[role].values()].sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
    const items = people.map((p) => el('li', { dataset: { userId: p.id } },
      el('span', { class: 'who', text: nameOf(p) }),
      isAdmin ? el('button', { class: 'btn btn-small', type: 'button', text: 'Remove', 'aria-label': `Remove ${nameOf(p)}`,
        onclick: () => { team[role].delete(p.id); markDirty(true); renderTeam(); } }) : ''));
    $(LIST[role]).replaceChildren(...(items.length ? items
      : [el('li', { class: 'empty', text: `No ${NOUN[role][1]} yet.` })]));
    if (isAdmin) {
      const free = choices[role].filter((p) => !team[role].has(p.id));
      $(PICK[role]).replaceChildren(...(free.length
        ? [el('option', { value: '', text: `Choose ${role === 'agent' ? 'an agent' : 'a supervisor'}…` }),
          ...free.map((p) => el('option', { value: p.id, text: nameOf(p) }))]
        : [el('option', { value: '', text: `Every active ${NOUN[role][0]} is on the team` })]));
    }
  }
  $('#team-count').textContent = `${count(team.agent.size, NOUN.agent)}, ${count(team.supervisor.size, NOUN.supervisor)}`;
}

function add(role) {
  const id = Number($(PICK[role]).value);
  const person = choices[role].find((p) => p.id === id);
  if (!person) { toast(`Choose ${role === 'agent' ? 'an agent' : 'a supervisor'} to add`, 'error'); return; }
  team[role].set(person.id, person);
  markDirty(true);
  renderTeam();
}

function takeAssignments(body) {
  team.agent = new Map(body.agents.map((p) => [p.id, p]));
  team.supervisor = new Map(body.supervisors.map((p) => [p.id, p]));
}

async function saveTeam() {
  $('#team-error').hidden = true;
  try {
    const body = await put(`/api/campaigns/${campaignId}/assignments`,
      { agent_ids: [...team.agent.keys()], supervisor_ids: [...team.supervisor.keys()] });
    takeAssignments(body);
    markDirty(false);
    renderTeam();
    toast(`Team saved: ${count(team.agent.size, NOUN.agent)}, ${count(team.supervisor.size, NOUN.supervisor)}`, 'ok');
  } catch (e) {
    const messages = Object.values(e.fields || {}).flat();
    $('#team-error').textContent = messages.length ? messages.join(' ') : e.message;
    $('#team-error').hidden = false;
  }
}

async function loadTeam() {
  const [assigned, agents, supervisors] = await Promise.all([
    get(`/api/campaigns/${campaignId}/assignments`),
    isAdmin ? get('/api/users', { role: 'agent', active: true, per_page: 500 }) : { items: [] },
    isAdmin ? get('/api/users', { role: 'supervisor', active: true, per_page: 500 }) : { items: [] },
  ]);
  choices.agent = agents.items;
  choices.supervisor = supervisors.items;
  takeAssignments(assigned);
  renderTeam();
}

// --- the dialer -------------------------------------------------------------------------------

const PACING_LABELS = { max_dial_level: 'Dial-level ceiling', fixed_dial_level: 'Fixed dial level', abandon_target: 'Abandonment target (%)' };
const MODE_WORDS = { preview: 'Preview: agents choose each call; the dialer places none by itself',
  progressive: 'Progressive: one call per ready agent', predictive: 'Predictive: the pacer decides' };
let pacingFilled = false;

function figure(term, value, definition) {
  return [el('dt', { text: term, title: definition || '' }), el('dd', { text: value })];
}

function renderPacing(p) {
  $('#pacing-mode').textContent = MODE_WORDS[p.dial_mode] || p.dial_mode;
  const live = p.live;
  const d = p.definitions;
  const rows = [];
  if (!live) {
    let now = `The campaign is ${p.status}: the dialer places no calls.`;
    if (p.dial_mode === 'preview') now = 'Preview: agents place each call themselves; the dialer places none.';
    else if (p.status === 'active') now = 'No pacing tick in the last hour: the dialer is starting, or not running.';
    rows.push(...figure('Now', now));
  } else {
    rows.push(...figure('Pacing', `${live.how_in_words} (last tick ${Math.round(live.seconds_ago)} s ago)`));
    if (live.held_in_words) rows.push(...figure('Holding back', live.held_in_words));
    rows.push(...figure('Dial level now', live.dial_level === null ? '— (no agent ready)'
      : `${num(live.dial_level, 2)}: ${live.calls_dialing} calls dialling for ${live.ready_agents} ready agents`, d.dial_level));
    rows.push(...figure('Last minute', live.dial_level_last_minute === null ? `${live.placed_last_minute} calls placed; no agent ready`
      : `${num(live.dial_level_last_minute, 2)} calls placed per ready agent (${live.placed_last_minute} placed, ${num(live.ready_agents_last_minute, 1)} agents ready on average)`,
      d.dial_level_last_minute));
    rows.push(...figure('Last tick', `the pacer asked for ${live.pacer_wanted}, ${live.placed} placed`));
    rows.push(...figure('30-day abandonment', live.abandon_rate_30d === null ? 'no call answered by a person yet'
      : `${toPercent(live.abandon_rate_30d)}%`, d.abandon_rate_30d));
  }
  rows.push(...figure('Abandonment target', `${toPercent(p.abandon_target_in_use)}% (campaign limit ${toPercent(p.max_abandon_rate)}%)`, d.abandon_target));
  $('#pacing-live').replaceChildren(...rows);
  $('#pacing-definitions').replaceChildren(...[['Dial level', d.dial_level], ['Last minute', d.dial_level_last_minute],
    ['30-day abandonment', d.abandon_rate_30d], ['Abandonment target', d.abandon_target]]
    .map(([term, text]) => el('span', { class: 'definition' }, el('strong', { text: `${term}: ` }), text)));
  const form = $('#pacing-form');
  for (const name of ['max_dial_level', 'fixed_dial_level']) {
    const input = form.elements.namedItem(name);
    const predictive = p.dial_mode === 'predictive';
    input.disabled = !predictive && input.value === '';
    input.title = predictive ? '' : 'Only a predictive campaign dials more than one call per ready agent.';
  }
  const o = p.override;
  $('#override-by').textContent = o ? `Override set by ${o.set_by || 'someone no longer here'} at ${new Date(o.set_at).toLocaleString()}.`
    : 'Automatic pacing: no override.';
  if (!pacingFilled) fillPacing(o);
}

function fillPacing(o) {
  const form = $('#pacing-form');
  form.elements.max_dial_level.value = o?.max_dial_level ?? '';
  form.elements.fixed_dial_level.value = o?.fixed_dial_level ?? '';
  form.elements.abandon_target.value = o?.abandon_target == null ? '' : toPercent(o.abandon_target);
  pacingFilled = true;
}

async function refreshPacing() {
  try { renderPacing(await get(`/api/campaigns/${campaignId}/pacing`)); } catch { /* the figures keep their last values */ }
}

async function applyPacing(ev) {
  ev.preventDefault();
  const form = $('#pacing-form');
  const data = formData(form);
  if (data.abandon_target !== null) data.abandon_target = fromPercent(data.abandon_target);
  try {
    const body = await put(`/api/campaigns/${campaignId}/pacing`, data);
    showFieldErrors(form, { fields: {} });
    $('#pacing-error').hidden = true;
    fillPacing(body.override);
    renderPacing(body);
    toast(body.override ? 'Override applied: the next pacing tick uses it' : 'Automatic pacing restored', 'ok');
  } catch (e) {
    showFieldErrors(form, e);
    $('#pacing-error').textContent = errorSummary(e, PACING_LABELS);
    $('#pacing-error').hidden = false;
  }
}

async function clearPacing() {
  try {
    const body = await del(`/api/campaigns/${campaignId}/pacing`);
    fillPacing(null);
    showFieldErrors($('#pacing-form'), { fields: {} });
    $('#pacing-error').hidden = true;
    renderPacing(body);
    toast('Automatic pacing restored', 'ok');
  } catch (e) { toast(e.message, 'error'); }
}

async function main() {
  let campaign;
  try {
    campaign = await get(`/api/campaigns/${campaignId}`);
  } catch (e) {
    $('#campaign-sections').hidden = true;
    $('#page-error').textContent = e.status === 404 ? 'No such campaign among yours.' : e.message;
    $('#page-error').hidden = false;
    return;
  }
  $('#campaign-name').textContent = campaign.name;
  document.title = `${campaign.name} · Omnivox`;
  $('#campaign-status').textContent = campaign.status;
  $('#campaign-status').dataset.status = campaign.status;
  $('#agent-add').addEventListener('click', () => add('agent'));
  $('#supervisor-add').addEventListener('click', () => add('supervisor'));
  $('#team-save').addEventListener('click', saveTeam);
  $('#pacing-form').addEventListener('submit', applyPacing);
  $('#pacing-clear').addEventListener('click', clearPacing);
  await Promise.all([loadTeam(), refreshPacing()]);
  setInterval(refreshPacing, 5000);
}

main().catch((e) => toast(e.message, 'error'));
