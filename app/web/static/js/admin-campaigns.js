import { get, post, patch } from './api.js';
import { $, el, toast, showFieldErrors } from './ui.js';
import { SECTIONS, FIELD_NAMES, PERCENT_FIELDS, toPercent, fromPercent, errorSummary } from './campaign-fields.js';

const form = $('#campaign-form');
let current = null;

function input(f) {
  const common = { name: f.name, id: `f-${f.name}`, required: f.required, placeholder: f.placeholder };
  if (f.type === 'select') {
    return el('select', common, f.options.map((o) => (Array.isArray(o)
      ? el('option', { value: o[0], text: o[1] }) : el('option', { value: o, text: o }))));
  }
  if (f.type === 'textarea') return el('textarea', { ...common, rows: f.rows || 3 });
  return el('input', { ...common, type: f.type || 'text', min: f.min, max: f.max, step: f.step });
}

function build() {
  const box = $('#campaign-fields');
  for (const [title, fields] of SECTIONS) {
    box.append(el('div', { class: 'fieldset-title', text: title }));
    for (const f of fields) {
      const label = f.type === 'checkbox'
        ? el('label', { class: 'field' }, el('span', {}, input(f), f.label))
        : el('label', { class: `field${f.wide ? ' wide' : ''}` }, f.label, input(f));
      if (f.law) label.append(el('span', { class: 'law', text: `Law: ${f.law}` }));
      if (f.note) label.append(el('span', { class: 'law', text: f.note }));
      box.append(label);
    }
  }
}

function fill(c) {
  current = c;
  $('#form-title').textContent = c ? c.name : 'New campaign';
  $('#form-status').textContent = c ? c.status : '';
  $('#form-status').dataset.status = c ? c.status : '';
  const defaults = { dial_mode: 'progressive', window_start: '09:00', window_end: '20:00', ring_timeout_seconds: 20,
    max_abandon_rate: 0.03, max_attempts: 5, machine_action: 'hangup', scrub_national_registry: true };
  for (const name of FIELD_NAMES) {
    const node = form.elements.namedItem(name);
    const value = c ? c[name] : defaults[name];
    if (node.type === 'checkbox') node.checked = Boolean(value);
    else if (PERCENT_FIELDS.has(name)) node.value = toPercent(value);
    else if (node.type === 'time') node.value = value ? String(value).slice(0, 5) : '';
    else node.value = value ?? '';
  }
  showFieldErrors(form, { fields: {} });
  $('#form-error').hidden = true;
  const team = $('#open-campaign');
  team.hidden = !c;
  if (c) team.href = `/admin/campaigns/${c.id}`;
  document.querySelectorAll('#campaign-list li').forEach((li) => li.classList.toggle('selected', c && li.dataset.id == c.id));
}

// Number settings an admin may empty again (null: no limit).
const NULLABLE = new Set(['recording_retention_days']);

function values() {
  const out = {};
  for (const name of FIELD_NAMES) {
    const node = form.elements.namedItem(name);
    if (node.type === 'checkbox') out[name] = node.checked;
    else if (node.type === 'number') {
      if (node.value !== '') out[name] = PERCENT_FIELDS.has(name) ? fromPercent(node.value) : Number(node.value);
      else if (NULLABLE.has(name) && current) out[name] = null; // emptied: back to "no limit"
    }
    else if (node.type === 'time') { if (node.value) out[name] = `${node.value}:00`; }
    else if (node.value !== '' || current) out[name] = node.value;
  }
  return out;
}

async function loadList(selectId) {
  const { items } = await get('/api/campaigns', { per_page: 100 });
  $('#campaign-list').replaceChildren(...items.map((c) => el('li', { dataset: { id: c.id }, onclick: () => open(c.id) },
    el('span', { text: c.name }), el('span', { class: 'status-badge', dataset: { status: c.status }, text: c.status }),
    el('a', { class: 'btn btn-small', href: `/admin/campaigns/${c.id}`, text: 'Team and dialer', onclick: (ev) => ev.stopPropagation() }))));
  if (selectId) open(selectId);
}

// Only the admin's latest choice is shown: a campaign still loading when they click another,
// or "New campaign", must not land over it (their new campaign would be saved over that one).
let choice = 0;
async function open(id) {
  chosen = true;
  const mine = ++choice;
  const campaign = await get(`/api/campaigns/${id}`);
  if (mine === choice) fill(campaign);
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    const saved = current ? await patch(`/api/campaigns/${current.id}`, values()) : await post('/api/campaigns', values());
    toast('Campaign saved', 'ok');
    await loadList(saved.id);
  } catch (e) {
    showFieldErrors(form, e);
    $('#form-error').textContent = errorSummary(e);
    $('#form-error').hidden = false;
  }
});
// Chosen by the admin before the list arrived ("New" clicked): the first campaign must not be
// opened over what they are typing, or their new campaign would be saved over it.
let chosen = false;
$('#new-campaign').addEventListener('click', () => { chosen = true; choice += 1; fill(null); });

build();
fill(null);
loadList().then(() => { const first = $('#campaign-list li'); if (first && !chosen) open(first.dataset.id); });
