import { get, post } from './api.js';
import { $, el, toast, showFieldErrors, formData, when } from './ui.js';

const form = $('#user-form');

async function load() {
  const { items } = await get('/api/users', { role: $('#role-filter').value, per_page: 100 });
  $('#users tbody').replaceChildren(...items.map((u) => el('tr', {},
    el('td', { text: u.username }), el('td', { text: u.full_name || '' }),
    el('td', {}, el('span', { class: 'tag', text: u.role })), el('td', { text: u.active ? 'yes' : 'no' }),
    el('td', { text: when(u.last_login_at) }))));
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const body = formData(form);
  if (!body.email) body.email = null;
  try {
    await post('/api/users', body);
    toast(`User ${body.username} added`, 'ok');
    form.reset();
    showFieldErrors(form, { fields: {} });
    load();
  } catch (e) { showFieldErrors(form, e); toast(e.message, 'error'); }
});
$('#role-filter').addEventListener('change', load);
load();
