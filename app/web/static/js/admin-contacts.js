// The contacts page: a campaign's lists (switch off or on, recycle chosen outcomes) and the
// contact browser (search, open a contact, edit their details, read their calls and callbacks).
import { get, patch, post } from './api.js';
import { $, el, toast, showFieldErrors, when, clock } from './ui.js';

const STATUSES = {
  new: 'Not called yet', retry: 'To call again', callback: 'Callback to make', dialing: 'Being dialled',
  done: 'Finished', dnc: 'Do not call', invalid: 'Invalid number',
};
const campaignSelect = $('#lists-campaign');
let lists = { items: [], recyclable_outcomes: [] };
let page = 1;
let current = null; // the contact open in the dialog

const campaignId = () => campaignSelect.value;

function counts(entries, key) {
  if (!entries.length) return el('span', { class: 'muted small', text: '—' });
  return el('div', { class: 'counts' }, entries.map((e) => el('span', {
    class: 'tag', dataset: { [key]: e[key] ?? 'none' }, text: `${e.words}: ${e.count}`,
  })));
}

async function loadCampaigns() {
  const { items } = await get('/api/campaigns', { per_page: 100 });
  campaignSelect.replaceChildren(...items.map((c) => el('option', { value: c.id, text: c.name })));
  if (!items.length) {
    $('#lists tbody').replaceChildren(el('tr', {}, el('td', { colspan: 7, class: 'muted', text: 'You have no campaigns yet.' })));
  }
}

async function loadLists() {
  if (!campaignId()) return;
  lists = await get(`/api/campaigns/${campaignId()}/lists`);
  const rows = lists.items.map((l) => {
    const recyclable = l.recyclable.reduce((n, r) => n + r.count, 0);
    return el('tr', { class: l.active ? '' : 'list-off', dataset: { list: l.id ?? 'hand', testid: 'list-row' } },
      el('td', {}, el('b', { text: l.name }), l.filename && l.filename !== l.name ? el('div', { class: 'muted small', text: l.filename }) : null,
        l.import_status && l.import_status !== 'done' ? el('span', { class: 'tag', text: 'importing' }) : null),
      el('td', { text: l.uploaded_at ? when(l.uploaded_at) : '—' }),
      el('td', { text: l.contacts }),
      el('td', {}, counts(l.by_status, 'status')),
      el('td', {}, counts(l.by_last_outcome, 'outcome')),
      el('td', {}, l.id === null ? el('span', { class: 'muted small', text: 'Always on' })
        : el('span', { class: l.active ? 'tag' : 'tag tag-danger', text: l.active ? 'On' : 'Switched off' })),
      el('td', {}, l.id === null ? null : [
        el('button', { class: 'btn btn-small', type: 'button', text: l.active ? 'Switch off' : 'Switch on',
          onclick: () => setActive(l, !l.active) }),
        el('button', { class: 'btn btn-small', type: 'button', text: 'Recycle…', disabled: !recyclable,
          title: recyclable ? `${recyclable} contacts could be dialled again` : 'No contact of this list can be recycled now',
          onclick: () => openRecycle(l) }),
        el('button', { class: 'btn btn-small', type: 'button', text: 'Rename', onclick: () => rename(l) }),
      ]));
  });
  if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 7, class: 'muted', text: 'No contacts in this campaign yet: upload a list above.' })));
  $('#lists tbody').replaceChildren(...rows);
  const filter = $('#search-list');
  const chosen = filter.value;
  filter.replaceChildren(el('option', { value: '', text: 'Every list' }),
    ...lists.items.map((l) => el('option', { value: l.id ?? 'hand', text: l.name })));
  filter.value = [...filter.options].some((o) => o.value === chosen) ? chosen : '';
}

async function setActive(list, active) {
  if (!active && !window.confirm(`Switch off "${list.name}"? Its contacts will not be dialled until you switch it on again.`)) return;
  try {
    await patch(`/api/campaigns/${campaignId()}/lists/${list.id}`, { active });
    toast(active ? `"${list.name}" is dialled again` : `"${list.name}" is switched off`, 'ok');
    await loadLists();
  } catch (e) { toast(e.message, 'error'); }
}

async function rename(list) {
  const name = window.prompt('New name for the list', list.name);
  if (name === null) return;
  try {
    await patch(`/api/campaigns/${campaignId()}/lists/${list.id}`, { name });
    await loadLists();
  } catch (e) { toast(e.fields?.name?.join(' ') || e.message, 'error'); }
}

let recycling = null;
function openRecycle(list) {
  recycling = list;
  $('#recycle-title').textContent = `Recycle "${list.name}"`;
  $('#recycle-error').hidden = true;
  const counted = new Map(list.recyclable.map((r) => [r.outcome, r.count]));
  $('#recycle-outcomes').replaceChildren(...lists.recyclable_outcomes.map((o) => {
    const n = counted.get(o.outcome) || 0;
    return el('label', { dataset: { outcome: o.outcome } },
      el('input', { type: 'checkbox', name: 'outcome', value: o.outcome, disabled: !n, checked: n > 0 && o.outcome === 'no-answer' }),
      el('span', { text: o.words }), el('span', { class: 'muted small', text: `${n} ${n === 1 ? 'contact' : 'contacts'} would be reset` }));
  }));
  $('#recycle-dialog').showModal();
}

$('#recycle-cancel').addEventListener('click', () => $('#recycle-dialog').close());
$('#recycle-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const outcomes = [...document.querySelectorAll('#recycle-outcomes input:checked')].map((i) => i.value);
  try {
    const result = await post(`/api/campaigns/${campaignId()}/lists/${recycling.id}/recycle`, { outcomes });
    $('#recycle-dialog').close();
    toast(`${result.reset} ${result.reset === 1 ? 'contact' : 'contacts'} of "${result.name}" will be dialled again`, 'ok');
    await Promise.all([loadLists(), search()]);
  } catch (e) {
    $('#recycle-error').hidden = false;
    $('#recycle-error').textContent = e.fields?.outcomes?.join(' ') || e.message;
  }
});

// --- the contact browser ------------------------------------------------------------------

const fullName = (c) => [c.first_name, c.last_name].filter(Boolean).join(' ') || '(no name)';

async function search() {
  if (!campaignId()) return;
  const query = { page, per_page: 25 };
  const q = $('#search-q').value.trim();
  if (q) query.q = q;
  if ($('#search-list').value) query.list = $('#search-list').value;
  if ($('#search-status').value) query.status = $('#search-status').value;
  const { items, meta } = await get(`/api/campaigns/${campaignId()}/contacts`, query);
  const rows = items.map((c) => el('tr', { tabindex: 0, dataset: { contact: c.id, testid: 'contact-row' },
    onclick: () => openContact(c.id), onkeydown: (e) => { if (e.key === 'Enter') openContact(c.id); } },
  el('td', { text: fullName(c) }), el('td', { text: c.phone_e164 }),
  el('td', {}, c.list_name, c.list_active ? null : el('span', { class: 'tag tag-danger', text: 'off' })),
  el('td', { text: c.status_words }), el('td', { text: c.last_outcome_words }), el('td', { text: c.attempts })));
  if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: 'No contact matches.' })));
  $('#contacts tbody').replaceChildren(...rows);
  $('#page-info').textContent = meta.total ? `Page ${meta.page} of ${meta.pages} · ${meta.total} contacts` : '';
  $('#prev').disabled = meta.page <= 1;
  $('#next').disabled = meta.page >= meta.pages;
}

function customRow(key = '', value = '') {
  return el('div', { class: 'custom-row' },
    el('input', { 'aria-label': 'Field name', class: 'custom-key', maxlength: 64, value: key }),
    el('input', { 'aria-label': 'Value', class: 'custom-value', maxlength: 1000, value }),
    el('button', { class: 'btn btn-small', type: 'button', text: 'Remove', onclick: (e) => e.target.closest('.custom-row').remove() }));
}

function showContact(c) {
  current = c;
  const form = $('#contact-form');
  showFieldErrors(form, { fields: {} });
  $('#contact-title').textContent = fullName(c);
  const pass = c.attempts - (c.attempts_before_pass || 0);
  $('#contact-summary').textContent = `${c.list_name} · ${c.status_words} · last call: ${c.last_outcome_words} · `
    + `${c.attempts} ${c.attempts === 1 ? 'call' : 'calls'} in all${c.attempts_before_pass ? `, ${pass} in this pass` : ''}`
    + (c.timezone ? ` · time zone ${c.timezone}` : '');
  form.first_name.value = c.first_name || ''; form.last_name.value = c.last_name || '';
  form.phone.value = c.phone_e164; form.email.value = c.email || '';
  form.region.value = c.region || ''; form.postal_code.value = c.postal_code || '';
  form.timezone.value = c.timezone || '';
  $('#custom-fields').replaceChildren(...Object.entries(c.custom_fields || {}).map(([k, v]) => customRow(k, String(v ?? ''))));
  const calls = c.history.calls.map((h) => el('tr', {},
    el('td', { text: when(h.at) }), el('td', { text: h.agent_name || '—' }),
    el('td', { text: `${h.outcome_words}${h.kind === 'auto' ? '' : ` (${h.kind_words.toLowerCase()})`}` }),
    el('td', { text: h.disposition || '—' }), el('td', { text: h.talk_seconds === null ? '—' : clock(h.talk_seconds) }),
    el('td', { text: h.notes || '' })));
  if (!calls.length) calls.push(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: 'Not called yet.' })));
  $('#history-calls tbody').replaceChildren(...calls);
  const callbacks = c.history.callbacks.map((b) => el('tr', {},
    el('td', { text: when(b.due_at) }), el('td', { text: b.agent_name || 'Any agent' }),
    el('td', { text: b.status_words }), el('td', { text: b.notes || '' })));
  if (!callbacks.length) callbacks.push(el('tr', {}, el('td', { colspan: 4, class: 'muted', text: 'No callbacks.' })));
  $('#history-callbacks tbody').replaceChildren(...callbacks);
}

async function openContact(id) {
  try {
    showContact(await get(`/api/campaigns/${campaignId()}/contacts/${id}`));
    if (!$('#contact-dialog').open) $('#contact-dialog').showModal();
  } catch (e) { toast(e.message, 'error'); }
}

$('#add-field').addEventListener('click', () => $('#custom-fields').append(customRow()));
$('#contact-close').addEventListener('click', () => $('#contact-dialog').close());
$('#contact-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  const custom = {};
  for (const row of document.querySelectorAll('#custom-fields .custom-row')) {
    const key = row.querySelector('.custom-key').value.trim();
    if (key) custom[key] = row.querySelector('.custom-value').value;
  }
  const body = {
    first_name: form.first_name.value, last_name: form.last_name.value, phone: form.phone.value,
    email: form.email.value.trim() || null, region: form.region.value, postal_code: form.postal_code.value,
    timezone: form.timezone.value, custom_fields: custom,
  };
  try {
    showContact(await patch(`/api/campaigns/${campaignId()}/contacts/${current.id}`, body));
    showFieldErrors(form, { fields: {} });
    toast('Contact saved', 'ok');
    search();
  } catch (e) {
    const fields = Object.fromEntries(Object.entries(e.fields || {}).map(([k, v]) => [k,
      Array.isArray(v) ? v : ['Check the custom fields: a name of at most 64 characters, a value of at most 1,000.']]));
    showFieldErrors(form, { fields });
    toast(e.message, 'error');
  }
});

$('#search-status').append(...Object.entries(STATUSES).map(([v, t]) => el('option', { value: v, text: t })));
$('#search-form').addEventListener('submit', (ev) => { ev.preventDefault(); page = 1; search().catch((e) => toast(e.message, 'error')); });
$('#prev').addEventListener('click', () => { page -= 1; search(); });
$('#next').addEventListener('click', () => { page += 1; search(); });
campaignSelect.addEventListener('change', () => { page = 1; $('#search-list').value = ''; Promise.all([loadLists(), search()]).catch((e) => toast(e.message, 'error')); });

// A list uploaded above (contacts-import.js) appears here once its import is done.
const importStatus = $('#import-status');
if (importStatus) {
  new MutationObserver(() => { if (importStatus.dataset.status === 'done') loadLists().catch(() => {}); })
    .observe(importStatus, { attributes: true, attributeFilter: ['data-status'] });
}

loadCampaigns().then(() => Promise.all([loadLists(), search()])).catch((e) => toast(e.message, 'error'));
