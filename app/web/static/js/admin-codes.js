import { get, post, del } from './api.js';
import { $, el, toast, showFieldErrors, formData } from './ui.js';

const flags = (c) => ['is_contact', 'is_sale', 'is_callback', 'is_dnc', 'is_final'].filter((f) => c[f])
  .map((f) => el('span', { class: `tag${f === 'is_dnc' ? ' tag-danger' : ''}`, text: f.slice(3) }));

const retireButton = (path, after) => el('button', { class: 'btn btn-small', type: 'button', text: 'Retire',
  onclick: async () => { try { await del(path); after(); } catch (e) { toast(e.message, 'error'); } } });

// Retired pause codes are kept for the pauses that used them, and no longer offered to agents.
async function loadPause() {
  const { items } = await get('/api/pause-codes', { per_page: 100, active: true });
  $('#pause-codes tbody').replaceChildren(...items.map((c) => el('tr', { dataset: { code: c.code } }, el('td', { text: c.code }),
    el('td', { text: c.label }), el('td', { class: 'pause-scope', text: c.scope }),
    el('td', { text: c.paid ? 'yes' : 'no' }), el('td', { text: c.max_minutes ?? 'no limit' }),
    el('td', {}, retireButton(`/api/pause-codes/${c.id}`, loadPause)))));
}

async function loadDispo() {
  const cid = $('#code-campaign').value;
  if (!cid) return;
  const { items } = await get(`/api/campaigns/${cid}/disposition-codes`);
  $('#dispo-codes tbody').replaceChildren(...items.map((c) => el('tr', {}, el('td', { text: c.code }), el('td', { text: c.label }),
    el('td', {}, flags(c)), el('td', {}, retireButton(`/api/campaigns/${cid}/disposition-codes/${c.id}`, loadDispo)))));
}

function wireForm(form, path, after, shape = (data) => data) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await post(path(), shape(formData(form)));
      form.reset(); showFieldErrors(form, { fields: {} });
      toast('Code added', 'ok');
      after();
    } catch (e) { showFieldErrors(form, e); toast(e.message, 'error'); }
  });
}

async function main() {
  const { items } = await get('/api/campaigns', { per_page: 100 });
  $('#code-campaign').replaceChildren(...items.map((c) => el('option', { value: c.id, text: c.name })));
  $('#pause-scope').replaceChildren(el('option', { value: '', text: 'Every campaign' }),
    ...items.map((c) => el('option', { value: c.id, text: c.name })));
  $('#code-campaign').addEventListener('change', loadDispo);
  wireForm($('#pause-form'), () => '/api/pause-codes', loadPause,
    (data) => ({ ...data, campaign_id: data.campaign_id ? Number(data.campaign_id) : null }));
  wireForm($('#dispo-form'), () => `/api/campaigns/${$('#code-campaign').value}/disposition-codes`, loadDispo);
  await Promise.all([loadPause(), loadDispo()]);
}

main().catch((e) => toast(e.message, 'error'));
