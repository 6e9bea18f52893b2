// Contact list upload: the import runs on a worker; the page polls its job for progress and
// shows (and offers as CSV) the lines that were not imported and why. What goes wrong stays
// on the page until the next upload: a refused file, a failed import, each rejected line.
import { get, upload } from './api.js';
import { $, el } from './ui.js';

const form = $('#upload-form');
let expectedRows = null;
const STATUS_WORDS = { pending: 'Waiting to start', running: 'Importing…', done: 'Finished', failed: 'Failed' };
const READ_AS = {
  'UTF-8': 'Read as UTF-8.',
  'UTF-16': 'Read as UTF-16 (the file starts with a UTF-16 byte-order mark, as Excel\'s "Unicode text" does).',
  'Windows-1252': 'Read as Windows-1252: the file is not UTF-8, and Windows-1252 is how Excel on Windows saves "CSV". '
    + 'Accented letters read correctly; save as "CSV UTF-8" to be sure.',
};
const RAW_SHOWN = 240; // characters of a rejected line shown before "Show all"

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

function refusal(box, title, message) {
  box.replaceChildren(el('b', { text: title }), el('span', { text: message }));
  box.hidden = false;
}

function show(job) {
  $('#import-card').hidden = false;
  $('#import-title').textContent = `Import of ${job.filename}`;
  const status = $('#import-status');
  status.textContent = STATUS_WORDS[job.status] || job.status; status.dataset.status = job.status;
  const done = job.status === 'done' || job.status === 'failed';
  const pctDone = done ? 100 : expectedRows ? Math.min(99, Math.round((job.rows_read / expectedRows) * 100)) : 5;
  const bar = $('#progress-bar');
  bar.style.width = `${pctDone}%`;
  bar.setAttribute('aria-valuenow', String(pctDone));
  $('#st-read').textContent = job.rows_read; $('#st-imported').textContent = job.imported;
  $('#st-rejected').textContent = job.rejected; $('#st-duplicates').textContent = job.duplicates;
  $('#st-dnc').textContent = job.dnc_skipped;
  const encoding = $('#import-encoding');
  encoding.textContent = READ_AS[job.read_as] || `Read as ${job.read_as}.`;
  encoding.hidden = !job.read_as;
  if (job.error) refusal($('#import-error'), 'The import failed.', job.error);
  else $('#import-error').hidden = true;
  $('#rejections-csv').href = `/api/imports/${job.id}/rejections.csv`;
  return done;
}

function rawCell(raw) {
  const text = el('span', { class: 'raw-text', text: raw, title: raw });
  const cell = el('td', { class: 'raw' }, text);
  if (raw.length > RAW_SHOWN) {
    const toggle = el('button', { type: 'button', text: `Show all ${raw.length.toLocaleString()} characters` });
    toggle.addEventListener('click', () => {
      const open = cell.classList.toggle('open');
      toggle.textContent = open ? 'Show less' : `Show all ${raw.length.toLocaleString()} characters`;
    });
    cell.append(toggle);
  }
  return cell;
}

async function showRejections(jobId) {
  const { items, meta } = await get(`/api/imports/${jobId}/rejections`, { per_page: 50 });
  const rows = items.map((r) => el('tr', { dataset: { line: r.line } },
    el('td', { text: `Line ${r.line}` }),
    el('td', {}, el('span', { class: 'outcome', text: `${r.outcome}: ` }), r.reason),
    r.raw ? rawCell(r.raw) : el('td', { class: 'muted small', text: '—' })));
  if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 3, class: 'muted', text: 'Every line was imported.' })));
  if (meta && meta.total > items.length) rows.push(el('tr', {}, el('td', { colspan: 3, class: 'muted', text: `…and ${meta.total - items.length} more lines in the CSV.` })));
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
  const box = $('#upload-refusal');
  box.hidden = true;
  const file = $('#file').files[0];
  if (!file) { refusal(box, 'Choose a file first.', 'Pick the CSV file of the list, then upload it.'); return; }
  expectedRows = await countRows(file);
  const data = new FormData();
  data.append('file', file);
  let job;
  try {
    job = await upload(`/api/campaigns/${$('#campaign').value}/contacts/import`, data);
  } catch (e) {
    const detail = Object.values(e.fields || {}).flat().filter((m) => m !== e.message);
    refusal(box, `${file.name} was not imported.`, [e.message, ...detail].join(' '));
    return;
  }
  $('#rejections tbody').replaceChildren();
  $('#import-error').hidden = true;
  try {
    show(job);
    await follow(job.id);
  } catch (e) {
    refusal($('#import-error'), 'The import report could not be loaded.', `${e.message} The import itself goes on on the server.`);
  }
});

loadCampaigns();
