import { get, post, del } from './api.js';
import { $, el, toast, showFieldErrors, when } from './ui.js';

const form = $('#dnc-form');
const role = document.querySelector('.role-tag')?.textContent.trim();
const names = new Map();

async function loadCampaigns() {
  const { items } = await get('/api/campaigns', { per_page: 100 });
  for (const c of items) names.set(c.id, c.name);
  $('#dnc-list').append(...items.map((c) => el('option', { value: c.id, text: `Campaign: ${c.name}` })));
}

async function load() {
  const { items } = await get('/api/dnc', { phone: $('#dnc-search').value.trim(), per_page: 50 });
  $('#dnc tbody').replaceChildren(...items.map((d) => el('tr', {},
    el('td', { text: d.phone_e164 }), el('td', { text: d.campaign_id ? names.get(d.campaign_id) || `#${d.campaign_id}` : 'Internal' }),
    el('td', {}, el('span', { class: 'tag', text: d.source })), el('td', { text: d.reason || '' }), el('td', { text: when(d.created_at) }),
    el('td', {}, role === 'admin' ? el('button', { class: 'btn btn-small', type: 'button', text: 'Remove', onclick: () => remove(d) }) : null))));
  if (!items.length) $('#dnc tbody').append(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: 'No numbers.' })));
}

async function remove(entry) {
  if (!window.confirm(`Take ${entry.phone_e164} off the list? It may be dialled again.`)) return;
  try { await del(`/api/dnc/${entry.id}`); load(); } catch (e) { toast(e.message, 'error'); }
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const body = { phone: form.phone.value, reason: form.reason.value, campaign_id: form.campaign_id.value ? Number(form.campaign_id.value) : null };
  try {
    await post('/api/dnc', body);
    toast('Number added', 'ok');
    form.reset(); showFieldErrors(form, { fields: {} });
    load();
  } catch (e) { showFieldErrors(form, e); toast(e.message, 'error'); }
});
$('#dnc-search-btn').addEventListener('click', () => load().catch((e) => toast(e.message, 'error')));

loadCampaigns().then(load);
