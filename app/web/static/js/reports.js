// Reports: a campaign, a range of its local days, and one of four reports (agent performance,
// dispositions, hourly, daily), each with a chart (Chart.js, /static/vendor), a table, its CSV and
// the definition of every figure.
import { get } from './api.js';
import { $, $$, el, clock, pct, num, toast } from './ui.js';

const C = { blue: '#2563eb', green: '#16a34a', amber: '#d97706', red: '#dc2626', purple: '#7c3aed', grid: '#e5e7eb' };
const form = $('#report-form');
const TITLES = { 'agent-performance': 'Agent performance', dispositions: 'Dispositions', hourly: 'Hourly figures', daily: 'Daily figures' };
let current = (location.hash || '').slice(1) in TITLES ? location.hash.slice(1) : 'agent-performance';
let chart = null;
let asked = 0; // tabs and ranges change quickly: only the latest request's answer is shown

const n = (v) => el('td', { class: 'num', text: v === null || v === undefined ? '—' : String(v) });
const t = (v) => el('td', { class: 'num', text: clock(v) });
const p = (v) => el('td', { class: 'num', text: pct(v) });
const head = (...names) => el('tr', {}, names.map((name, i) => el('th', { class: i ? 'num' : '', text: name })));

function params() {
  const f = form.elements;
  const q = { campaign_id: f.campaign_id.value, range: f.range.value };
  if (q.range === 'custom') { q.from = f.from.value; q.to = f.to.value; }
  return q;
}

function qs(q) {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v) s.set(k, v);
  return s.toString();
}

function draw(config) {
  if (chart) chart.destroy();
  chart = null;
  if (!window.Chart) return;
  chart = new window.Chart($('#report-chart'), {
    ...config,
    options: { responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { display: true, position: 'bottom', labels: { boxWidth: 12 } } }, ...config.options },
  });
}

function pauses(list) {
  return list.length ? list.map((x) => `${x.label} ${clock(x.seconds)}`).join(' · ') : '';
}

function agentPerformance(r) {
  const cells = (name, a) => [el('td', { text: name }), n(a.handled), t(a.talk_seconds), t(a.wrap_seconds),
    el('td', { class: 'num', title: pauses(a.pause_by_code), text: clock(a.paused_seconds) },
      a.pause_by_code.length ? el('div', { class: 'muted small', text: pauses(a.pause_by_code) }) : null),
    t(a.signed_in_seconds), n(a.sales), p(a.conversion), p(a.occupancy)];
  const heads = ['Agent', 'Calls handled', 'Talk time', 'Wrap-up time', 'Pause time (by reason)', 'Signed-in time', 'Sales', 'Conversion', 'Occupancy'];
  const min = (s) => Math.round(s / 6) / 10;
  draw({ type: 'bar',
    data: { labels: r.agents.map((a) => a.agent_name), datasets: [
      { label: 'Talk (minutes)', data: r.agents.map((a) => min(a.talk_seconds)), backgroundColor: C.blue },
      { label: 'Wrap-up (minutes)', data: r.agents.map((a) => min(a.wrap_seconds)), backgroundColor: C.purple },
      { label: 'Paused (minutes)', data: r.agents.map((a) => min(a.paused_seconds)), backgroundColor: C.amber }] },
    options: { indexAxis: 'y', scales: { x: { stacked: true, beginAtZero: true, title: { display: true, text: 'minutes' } }, y: { stacked: true } } } });
  return { heads, rows: r.agents.map((a) => cells(a.agent_name, a)), foot: r.agents.length ? cells('All agents', r.total) : null,
    empty: 'No agent worked this campaign in these days.' };
}

function dispositions(r) {
  draw({ type: 'bar',
    data: { labels: r.dispositions.map((d) => d.label), datasets: [{ label: 'Calls', data: r.dispositions.map((d) => d.count), backgroundColor: C.blue }] },
    options: { plugins: { legend: { display: false }, tooltip: { callbacks: { label: (ctx) => `${ctx.raw} calls (${pct(r.dispositions[ctx.dataIndex].share)})` } } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
  return { heads: ['Disposition', 'Calls', 'Share of handled calls'],
    rows: r.dispositions.map((d) => [el('td', { text: d.label }), n(d.count), p(d.share)]),
    foot: r.handled ? [el('td', { text: 'All handled calls' }), n(r.handled), p(1)] : null,
    empty: 'No calls were handled in these days.' };
}

function activity(r) {
  const first = r.granularity === 'hour' ? `Hour (${r.timezone})` : 'Day';
  const cells = (label, x) => [el('td', { text: label }), n(x.calls_placed), n(x.human_answered), n(x.handled), n(x.abandoned),
    p(x.abandon_rate), n(x.talk_minutes_per_agent_hour === null ? null : num(x.talk_minutes_per_agent_hour, 1))];
  draw({ type: 'bar',
    data: { labels: r.points.map((x) => x.label), datasets: [
      { label: 'Calls placed', data: r.points.map((x) => x.calls_placed), backgroundColor: C.blue, yAxisID: 'y' },
      { label: 'Answered by a person', data: r.points.map((x) => x.human_answered), backgroundColor: C.green, yAxisID: 'y' },
      { label: 'Abandoned', data: r.points.map((x) => x.abandoned), backgroundColor: C.red, yAxisID: 'y' },
      { type: 'line', label: 'Abandonment rate', data: r.points.map((x) => x.abandon_rate), borderColor: '#111827', yAxisID: 'rate', spanGaps: true }] },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'calls' } },
      rate: { position: 'right', beginAtZero: true, grid: { display: false }, ticks: { callback: (v) => pct(v, 0) } } } } });
  return { heads: [first, 'Calls placed', 'Answered by a person', 'Calls handled', 'Abandoned', 'Abandonment rate', 'Talk minutes per agent hour'],
    rows: r.points.map((x) => cells(x.label, x)), foot: cells('Whole range', r.total),
    empty: 'Nothing in these days.' };
}

const RENDER = { 'agent-performance': agentPerformance, dispositions, hourly: activity, daily: activity };

function rangeText(r) {
  const days = r.first_day === r.last_day ? r.first_day : `${r.first_day} to ${r.last_day}`;
  return `${r.campaign_name} · ${days} (${r.timezone})`;
}

async function show() {
  $$('#report-tabs button').forEach((b) => b.setAttribute('aria-selected', String(b.dataset.report === current)));
  const q = params();
  if (!q.campaign_id) return;
  const box = $('#report-error');
  box.hidden = true;
  let r;
  const mine = ++asked;
  const shown = current;
  // What the page offers follows the click at once: the new report's title and CSV, and no
  // figures from the previous report while this one's are on their way.
  $('#report-title').textContent = TITLES[shown];
  $('#report-csv').href = `/api/reports/${shown}/export?${qs(q)}`;
  $('#report-table').setAttribute('aria-busy', 'true');
  $('#report-table thead').replaceChildren();
  $('#report-table tfoot').replaceChildren();
  $('#report-table tbody').replaceChildren(el('tr', {}, el('td', { class: 'muted', text: 'Loading…' })));
  try {
    r = await get(`/api/reports/${shown}`, q);
    if (mine !== asked) return;
  } catch (e) {
    if (mine !== asked) return;
    $('#report-table').removeAttribute('aria-busy');
    $('#report-table tbody').replaceChildren();
    const fields = Object.values(e.fields || {}).flat().join(' ');
    box.textContent = fields ? `${e.message}: ${fields}` : e.message;
    box.hidden = false;
    return;
  }
  const view = RENDER[shown](r);
  $('#report-title').textContent = TITLES[shown];
  $('#report-range-text').textContent = rangeText(r);
  $('#as-of').textContent = r.as_of ? `Figures as of ${new Date(r.as_of).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })} (brought up to date every minute)` : 'Figures are being prepared.';
  $('#report-csv').href = `/api/reports/${shown}/export?${qs(q)}`;
  $('#report-table').removeAttribute('aria-busy');
  $('#report-table thead').replaceChildren(head(...view.heads));
  $('#report-table tbody').replaceChildren(...(view.rows.length ? view.rows.map((cells) => el('tr', {}, cells))
    : [el('tr', {}, el('td', { colspan: String(view.heads.length), class: 'muted', text: view.empty }))]));
  $('#report-table tfoot').replaceChildren(...(view.foot && view.rows.length ? [el('tr', {}, view.foot)] : []));
  $('#report-definitions').replaceChildren(...r.definitions.flatMap((d) => [el('dt', { text: d.label }), el('dd', { text: d.definition })]));
  $('#report').hidden = false;
}

function refresh() { show().catch((e) => toast(`Could not load the report: ${e.message}`, 'error')); }

form.elements.range.addEventListener('change', () => {
  const custom = form.elements.range.value === 'custom';
  $$('.custom-days').forEach((label) => { label.hidden = !custom; });
  if (!custom) refresh();
});
form.elements.campaign_id.addEventListener('change', refresh);
form.addEventListener('submit', (ev) => { ev.preventDefault(); refresh(); });
$$('#report-tabs button').forEach((b) => b.addEventListener('click', () => {
  current = b.dataset.report;
  history.replaceState(null, '', `#${current}`);
  refresh();
}));

get('/api/reports/campaigns').then(({ campaigns }) => {
  form.elements.campaign_id.replaceChildren(...campaigns.map((c) => el('option', { value: String(c.id), text: c.name })));
  $('#no-campaigns').hidden = campaigns.length > 0;
  if (campaigns.length) refresh();
}).catch((e) => toast(`Could not load the campaigns: ${e.message}`, 'error'));
