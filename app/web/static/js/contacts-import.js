// Contact list upload: the import runs on a worker; the page polls its job for progress and
// shows (and offers as CSV) the rows that were not imported and why.
import { get, upload } from './api.js';
import { $, el, toast } from './ui.js';

const form = $('#upload-form');
let expectedRows = null;

async function loadCampaigns() {
  const { items } = await get('/api/campaigns', { per_page: 100 });
  $('#campaign').replaceChildren(...items.map((c) => el('option', { value: c.id, text: c.name })));
}

async function countRows(file) {
  if (file.size > 20 * 1024 * 1024) return null; // a big file: the bar follows rows read only
  const text = await file.text();
  const lines = text.split(/\r\n|\n|\r/).filter((l) => l.trim()).length;
  return Math.max(0, lines - 1);
}

function show(job) {
  $('#import-card').hidden = false;
  $('#import-title').textContent = `Import #${job.id} · ${job.filename}`;
  const status = $('#import-status');
  status.textContent = job.status; status.dataset.status = job.status;
  const done = job.status === 'done' || job.status === 'failed';
  const pctDone = done ? 100 : expectedRows ? Math.min(99, Math.round((job.rows_read / expectedRows) * 100)) : 5;
  const bar = $('#progress-bar');
  bar.style.width = `${pctDone}%`;
  bar.setAttribute('aria-valuenow', String(pctDone));
  $('#st-read').textContent = job.rows_read; $('#st-imported').textContent = job.imported;
  $('#st-rejected').textContent = job.rejected; $('#st-duplicates').textContent = job.duplicates;
  $('#st-dnc').textContent = job.dnc_skipped;
  $('#import-error').hidden = !job.error; $('#import-error').textContent = job.error || '';
  $('#rejections-csv').href = `/api/imports/${job.id}/rejections.csv`;
  return done;
}

async function showRejections(jobId) {
  const { items, meta } = await get(`/api/imports/${jobId}/rejections`, { per_page: 50 });
  const rows = items.map((r) => el('tr', {}, el('td', { text: r.line }), el('td', {}, el('span', { class: 'tag', text: r.kind })),
    el('td', { text: r.reason }), el('td', { class: 'muted small', text: r.raw })));
  if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 4, class: 'muted', text: 'Every row was imported.' })));
  if (meta && meta.total > items.length) rows.push(el('tr', {}, el('td', { colspan: 4, class: 'muted', text: `…and ${meta.total - items.length} more in the CSV.` })));
  $('#rejections tbody').replaceChildren(...rows);
}

async function follow(jobId) {
  for (;;) {
    const job = await get(`/api/imports/${jobId}`);
    if (show(job)) break;
    await new Promise((r) => setTimeout(r, 700));
  }
  await showRejections(jobId);
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const file = $('#file').files[0];
  if (!file) return toast('Choose a CSV file', 'error');
  expectedRows = await countRows(file);
  const data = new FormData();
  data.append('file', file);
  try {
    const job = await upload(`/api/campaigns/${$('#campaign').value}/contacts/import`, data);
    $('#rejections tbody').replaceChildren();
    show(job);
    await follow(job.id);
  } catch (e) { toast(e.message, 'error'); }
});

loadCampaigns();
