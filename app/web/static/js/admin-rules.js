// Calling rules: the state rule table in words, and the blackout days admins declare.
import { get, post, del } from './api.js';
import { $, el, toast, showFieldErrors, formData, when } from './ui.js';

const canEdit = $('#blackouts-card').dataset.canEdit === 'yes';
const form = $('#blackout-form');

// A date-only ISO string is a calendar day: read it as that day here, not as midnight UTC
// (which west of Greenwich is the evening before).
function day(iso, style = { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }) {
  if (!iso) return '';
  const [y, m, d] = iso.split('-').map(Number);
  return new Date(y, m - 1, d).toLocaleDateString([], style);
}

function todayIso() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
}

function inForce(rule) {
  if (rule.in_force) {
    return `In force since ${day(rule.effective_from)}${rule.effective_until ? `, until ${day(rule.effective_until)}` : ''}`;
  }
  if (rule.effective_until && rule.effective_until < todayIso()) return `No longer in force: ended ${day(rule.effective_until)}`;
  return `Not yet in force: from ${day(rule.effective_from)}`;
}

function source(rule) {
  const { citation, url } = rule.source;
  return url ? el('a', { href: url, target: '_blank', rel: 'noopener noreferrer', text: citation }) : el('span', { text: citation });
}

function ruleItem(rule, year) {
  return el('li', { class: `rule${rule.in_force ? '' : ' rule-later'}` },
    el('div', { class: 'rule-summary' }, el('strong', { text: rule.summary }), el('span', { class: 'tag', text: rule.kind_name })),
    rule.holidays.length ? el('div', { class: 'holidays' }, el('div', { class: 'muted small', text: `Dates in ${year}:` }),
      el('ul', {}, rule.holidays.map((h) => el('li', {}, el('span', { class: 'holiday-date', text: day(h.date, { weekday: 'short', day: 'numeric', month: 'short' }) }), ` ${h.name}`)))) : null,
    el('div', { class: 'rule-meta muted small' }, `${inForce(rule)} · Source: `, source(rule)),
    rule.note ? el('p', { class: 'rule-note small', text: rule.note }) : null);
}

function renderRules(table) {
  $('#ruleset-version').textContent = `Rule set ${table.version}`;
  if (table.problems.length) {
    $('#rules-problem-list').replaceChildren(...table.problems.map((p) => el('li', { text: p })));
    $('#rules-problems').hidden = false;
  }
  const groups = new Map();
  for (const rule of table.rules) {
    if (!groups.has(rule.place)) groups.set(rule.place, []);
    groups.get(rule.place).push(rule);
  }
  $('#rules').replaceChildren(...[...groups].map(([place, rules]) => el('section', { class: 'rule-group', dataset: { place } },
    el('h3', { text: place }), el('ul', { class: 'rules' }, rules.map((r) => ruleItem(r, table.year))))));
  $('#rules-filter').append(...[...groups.keys()].map((place) => el('option', { value: place, text: place })));
  if (form) {
    form.jurisdiction.replaceChildren(el('option', { value: '', text: 'Choose a state…' }),
      ...table.places.map((p) => el('option', { value: p.jurisdiction, text: p.name })));
  }
}

$('#rules-filter').addEventListener('change', (ev) => {
  for (const group of document.querySelectorAll('.rule-group')) group.hidden = Boolean(ev.target.value) && group.dataset.place !== ev.target.value;
});

async function loadBlackouts() {
  const { items } = await get('/api/compliance/blackouts', { upcoming: true, per_page: 500 });
  $('#blackouts tbody').replaceChildren(...items.map((b) => el('tr', { dataset: { blackout: b.id } },
    el('td', { text: b.place }), el('td', { text: day(b.date_from) }), el('td', { text: day(b.date_to) }),
    el('td', { text: b.reason }), el('td', { class: 'muted small', text: `${when(b.created_at)}${b.created_by ? ` by ${b.created_by}` : ''}` }),
    el('td', {}, canEdit ? el('button', { class: 'btn btn-small', type: 'button', text: 'Remove', onclick: () => remove(b) }) : null))));
  if (!items.length) $('#blackouts tbody').append(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: 'No blackout days declared from today on.' })));
}

async function remove(blackout) {
  const span = blackout.date_from === blackout.date_to ? day(blackout.date_from) : `${day(blackout.date_from)} to ${day(blackout.date_to)}`;
  if (!window.confirm(`Lift the blackout for ${blackout.place}, ${span}? Calls there follow the other rules again at once.`)) return;
  try {
    await del(`/api/compliance/blackouts/${blackout.id}`);
    toast('Blackout lifted', 'ok');
    loadBlackouts();
  } catch (e) { toast(e.message, 'error'); }
}

if (form) {
  form.date_from.min = todayIso();
  form.date_to.min = todayIso();
  form.date_from.addEventListener('change', () => { if (!form.date_to.value) form.date_to.value = form.date_from.value; });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await post('/api/compliance/blackouts', formData(form));
      form.reset(); showFieldErrors(form, { fields: {} });
      toast('Blackout declared', 'ok');
      loadBlackouts();
    } catch (e) { showFieldErrors(form, e); toast(e.message, 'error'); }
  });
}

Promise.all([get('/api/compliance/rules').then(renderRules), loadBlackouts()]).catch((e) => toast(e.message, 'error'));
