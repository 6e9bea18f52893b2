import { get, post } from './api.js';
import { $, el, toast, showFieldErrors, formData, when } from './ui.js';

const form = $('#user-form');

// Each person's campaigns (from the campaigns' own teams), linked to the page that staffs them.
function campaignsOf(user, campaigns) {
  if (user.role === 'admin') return el('span', { class: 'muted', text: 'Every campaign' });
  const key = user.role === 'agent' ? 'agent_ids' : 'supervisor_ids';
  const mine = campaigns.filter((c) => (c[key] || []).includes(user.id));
  if (!mine.length) return el('span', { class: 'muted', text: 'None yet: add them from a campaign\'s Team' });
  return el('span', {}, ...mine.flatMap((c, i) => [i ? ', ' : '', el('a', { href: `/admin/campaigns/${c.id}`, text: c.name })]));
}

async function load() {
  const [{ items }, campaigns] = await Promise.all([
    get('/api/users', { role: $('#role-filter').value, per_page: 100 }),
    get('/api/campaigns', { per_page: 500 }).then((r) => r.items).catch(() => []),
  ]);
  $('#users tbody').replaceChildren(...items.map((u) => el('tr', { dataset: { userId: u.id } },
    el('td', { text: u.username }), el('td', { text: u.full_name || '' }),
    el('td', {}, el('span', { class: 'tag', text: u.role })), el('td', { text: u.active ? 'yes' : 'no' }),
    el('td', { class: 'user-campaigns' }, campaignsOf(u, campaigns)),
    el('td', { text: when(u.last_login_at) }))));
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const body = formData(form);
  if (!body.email) body.email = null;
  try {
    await post('/api/users', body);
    toast(body.role === 'admin' ? `User ${body.username} added`
      : `User ${body.username} added: put them on a campaign from its page (Campaigns, then Team and dialer)`, 'ok');
    form.reset();
    showFieldErrors(form, { fields: {} });
    load();
  } catch (e) { showFieldErrors(form, e); toast(e.message, 'error'); }
});
$('#role-filter').addEventListener('change', load);
load();
