import { get, patch, put } from './api.js';
import { $, el, toast, showFieldErrors, when } from './ui.js';

let page = { items: [], pools: [] };

// "2 of 60 dials answered: 3.3 per 100 (pool: 50 per 100)": the counts the rate comes from, then
// the rate beside the pool's (a bare "3.3 of 60 dials" read as 3.3 answers).
const rate = (w) => {
  if (!w || !w.dials) return 'No dials yet';
  const pool = w.pool_dials ? `pool: ${w.pool_per_100} per 100` : 'no dials from the rest of the pool';
  return `${w.answers} of ${w.dials} dials answered: ${w.per_100} per 100 (${pool})`;
};

function capCell(n) {
  const input = el('input', { type: 'number', min: '1', max: '100000', value: n.daily_cap ?? '', placeholder: 'no cap',
    'aria-label': `Daily cap for ${n.phone_number}`, class: 'cap-input' });
  const form = el('form', { class: 'cap-form', novalidate: true }, input,
    el('button', { class: 'btn btn-small', type: 'submit', text: 'Set' }));
  input.name = 'daily_cap';
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await patch(`/api/numbers/${n.id}`, { daily_cap: input.value === '' ? null : Number(input.value) });
      showFieldErrors(form, { fields: {} });
      toast(`Daily cap of ${n.phone_number} saved`, 'ok');
    } catch (e) { showFieldErrors(form, e); toast(e.message, 'error'); }
  });
  return form;
}

function statusCell(n) {
  if (!n.in_account) return el('span', { class: 'tag', text: 'No longer in the account' });
  if (!n.rested) return el('span', { class: 'tag tag-ok', text: 'In service' });
  return el('div', {}, el('span', { class: 'tag tag-danger', text: `Resting until ${when(n.rested_until)}` }),
    el('p', { class: 'rest-reason', text: n.rest_reason || '' }),
    el('button', { class: 'btn btn-small', type: 'button', text: 'Back in service now', onclick: async () => {
      try { await patch(`/api/numbers/${n.id}`, { back_in_service: true }); toast(`${n.phone_number} is back in service`, 'ok'); load(); }
      catch (e) { toast(e.message, 'error'); }
    } }));
}

function renderNumbers() {
  $('#numbers tbody').replaceChildren(...page.items.map((n) => el('tr', { dataset: { number: n.phone_number } },
    el('td', { text: n.phone_number }), el('td', { text: n.friendly_name }), el('td', { text: n.state || '—' }),
    el('td', { text: n.campaigns.map((c) => c.name).join(', ') || 'none' }),
    el('td', { text: String(n.calls_today) }), el('td', {}, capCell(n)),
    el('td', { text: rate(n.health['24h']) }), el('td', { text: rate(n.health['7d']) }),
    el('td', { class: 'calls-go', text: n.calls_go }),
    el('td', {}, statusCell(n)))));
}

function renderPool() {
  const pool = page.pools.find((p) => String(p.campaign_id) === $('#pool-campaign').value);
  if (!pool) { $('#pool-choices').replaceChildren(el('legend', { text: 'No campaigns yet' })); return; }
  $('#pool-default').textContent = `When no pool number fits, calls show the campaign's own caller ID, ${pool.caller_id}.`;
  $('#pool-choices').replaceChildren(el('legend', { text: `Numbers in the pool of ${pool.campaign_name}` }),
    ...page.items.filter((n) => n.in_account).map((n) => el('label', { class: 'pool-choice' },
      el('input', { type: 'checkbox', value: n.phone_number, checked: pool.numbers.includes(n.phone_number) }),
      ` ${n.phone_number} ${n.friendly_name} (${n.state || 'no state'})${n.rested ? ', resting' : ''}`)));
}

async function load() {
  page = await get('/api/numbers');
  const warning = $('#carrier-warning');
  warning.hidden = !page.carrier_warning;
  warning.textContent = page.carrier_warning || '';
  const select = $('#pool-campaign');
  const chosen = select.value;
  select.replaceChildren(...page.pools.map((p) => el('option', { value: p.campaign_id, text: p.campaign_name })));
  if (chosen) select.value = chosen;
  renderNumbers();
  renderPool();
}

$('#pool-campaign').addEventListener('change', renderPool);
$('#pool-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  const numbers = [...form.querySelectorAll('input[type=checkbox]:checked')].map((i) => i.value);
  try {
    const saved = await put(`/api/numbers/pools/${$('#pool-campaign').value}`, { numbers });
    showFieldErrors(form, { fields: {} });
    toast(saved.carrier_warning || 'Pool saved', saved.carrier_warning ? 'error' : 'ok');
    load();
  } catch (e) { showFieldErrors(form, e); toast(e.message, 'error'); }
});
load().catch((e) => toast(e.message, 'error'));
