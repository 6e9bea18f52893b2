import { get, post, del, upload } from './api.js';
import { $, el, toast, showFieldErrors, when } from './ui.js';

const form = $('#dnc-form');
const role = document.querySelector('.role-tag')?.textContent.trim();
const names = new Map();

// Where a number came from, in words (the entry's source).
const SOURCES = { manual: 'Added by hand', 'opt-out': 'Pressed the opt-out key', disposition: "Agent's outcome",
  'consent-revoked': 'Consent revoked' };
const sourceWords = (s) => SOURCES[s] || (s && s.startsWith('import:') ? 'Uploaded file' : s || '—');

async function loadCampaigns() {
  const { items } = await get('/api/campaigns', { per_page: 100 });
  for (const c of items) names.set(c.id, c.name);
  for (const select of [$('#dnc-list'), $('#dnc-upload-list')]) {
    select.append(...items.map((c) => el('option', { value: c.id, text: `Campaign: ${c.name}` })));
  }
}

async function load() {
  const { items } = await get('/api/dnc', { phone: $('#dnc-search').value.trim(), per_page: 50 });
  $('#dnc tbody').replaceChildren(...items.map((d) => el('tr', {},
    el('td', { text: d.phone_e164 }), el('td', { text: d.campaign_id ? names.get(d.campaign_id) || 'A campaign' : 'Internal' }),
    el('td', {}, el('span', { class: 'tag', text: sourceWords(d.source) })), el('td', { text: d.reason || '' }), el('td', { text: when(d.created_at) }),
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

// --- bulk upload: the import runs on a worker; the page follows it, then shows the bad lines.
const uploadForm = $('#dnc-upload-form');

function showJob(job) {
  $('#dnc-result').hidden = false;
  $('#dnc-result-title').textContent = `Upload of ${job.filename}`;
  const finished = job.status === 'done' || job.status === 'failed';
  const status = $('#dnc-result-status');
  status.textContent = { pending: 'Waiting', running: 'Reading the file', done: 'Done', failed: 'Failed' }[job.status] || job.status;
  status.dataset.status = job.status;
  $('#dnc-added').textContent = job.imported;
  $('#dnc-already').textContent = job.duplicates;
  $('#dnc-bad').textContent = job.rejected;
  $('#dnc-result-error').hidden = !job.error;
  $('#dnc-result-error').textContent = job.error || '';
  $('#dnc-bad-csv').href = `/api/imports/${job.id}/rejections.csv?kind=invalid`;
  return finished;
}

async function showBadLines(jobId) {
  const { items, meta } = await get(`/api/imports/${jobId}/rejections`, { kind: 'invalid', per_page: 100 });
  const rows = items.map((r) => el('tr', { dataset: { line: r.line } }, el('td', { text: r.line }),
    el('td', { text: r.reason }), el('td', { class: 'muted small', text: r.raw })));
  if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 3, class: 'muted', text: 'No bad lines: every line was read.' })));
  if (meta.total > items.length) {
    rows.push(el('tr', {}, el('td', { colspan: 3, class: 'muted', text: `…and ${meta.total - items.length} more in the CSV.` })));
  }
  $('#dnc-bad-lines tbody').replaceChildren(...rows);
}

async function follow(jobId) {
  for (;;) {
    const job = await get(`/api/imports/${jobId}`);
    if (showJob(job)) return job;
    await new Promise((r) => setTimeout(r, 700));
  }
}

uploadForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const file = $('#dnc-file').files[0];
  showFieldErrors(uploadForm, { fields: {} });
  if (!file) { showFieldErrors(uploadForm, { fields: { file: ['Choose a CSV file.'] } }); return; }
  const data = new FormData();
  data.append('file', file);
  if (uploadForm.campaign_id.value) data.append('campaign_id', uploadForm.campaign_id.value);
  const button = uploadForm.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    const job = await upload('/api/dnc/import', data);
    $('#dnc-bad-lines tbody').replaceChildren();
    showJob(job);
    const done = await follow(job.id);
    await showBadLines(job.id);
    if (done.status === 'done') { toast(`${done.imported} numbers added`, 'ok'); load(); }
  } catch (e) {
    showFieldErrors(uploadForm, e);
    // A file refused before any line was read: say why where the result would be.
    $('#dnc-result').hidden = false;
    $('#dnc-result-title').textContent = `Upload of ${file.name}`;
    $('#dnc-result-status').textContent = 'Not read';
    $('#dnc-result-error').hidden = false;
    $('#dnc-result-error').textContent = e.message;
  } finally { button.disabled = false; }
});

loadCampaigns().then(load);
