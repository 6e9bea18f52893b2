// The campaign page's voicemail message (GET/PUT /api/campaigns/<id>/voicemail, .../audio): admins
// upload, listen to and remove the recording and set the spoken fallback; supervisors listen.
import { get, put, del, upload } from './api.js';
import { $, el, toast } from './ui.js';

const page = $('#campaign-page');
const campaignId = Number(page.dataset.campaignId);
const isAdmin = page.dataset.role === 'admin';
const base = `/api/campaigns/${campaignId}/voicemail`;

function size(bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

function render(v) {
  $('#voicemail-plays').textContent = v.plays === 'audio' ? 'Recording' : v.plays === 'speech' ? 'Computer voice' : 'Not set';
  $('#voicemail-waits').textContent = `${v.plays_words} ${v.waits_for_words}`;
  const box = $('#voicemail-audio');
  if (v.audio) {
    const a = v.audio;
    box.replaceChildren(
      el('p', { class: 'small', text: `${a.name}: ${a.seconds.toFixed(1)} seconds, ${size(a.bytes)}, uploaded ${new Date(a.uploaded_at).toLocaleString()}.` }),
      el('audio', { controls: true, preload: 'none', src: `${base}/audio?v=${encodeURIComponent(a.uploaded_at)}`, 'aria-label': 'Play the recording' }),
      isAdmin ? el('button', { class: 'btn btn-small', type: 'button', id: 'voicemail-remove', text: 'Remove recording', onclick: remove }) : '');
  } else {
    box.replaceChildren(el('p', { class: 'muted small', text: 'No recording uploaded.' }));
  }
  const text = $('#voicemail-text');
  if (document.activeElement !== text) text.value = v.text || '';
  text.readOnly = !isAdmin;
}

function showError(id, e) {
  const box = $(id);
  const said = e ? [...new Set([e.message, ...Object.values(e.fields || {}).flat()])] : [];
  box.textContent = said.join(' ');
  box.hidden = !e;
}

async function send(ev) {
  ev.preventDefault();
  const file = $('#voicemail-file').files[0];
  if (!file) { showError('#voicemail-upload-error', { message: 'Choose a WAV or MP3 file first.' }); return; }
  const form = new FormData();
  form.append('file', file);
  try {
    render(await upload(`${base}/audio`, form));
    showError('#voicemail-upload-error', null);
    ev.target.reset();
    toast('Recording uploaded: agents leave it from now on', 'ok');
  } catch (e) { showError('#voicemail-upload-error', e); }
}

async function remove() {
  try {
    render(await del(`${base}/audio`));
    toast('Recording removed', 'ok');
  } catch (e) { toast(e.message, 'error'); }
}

async function saveText(ev) {
  ev.preventDefault();
  try {
    render(await put(base, { text: $('#voicemail-text').value }));
    showError('#voicemail-text-error', null);
    toast('Voicemail text saved', 'ok');
  } catch (e) { showError('#voicemail-text-error', e); }
}

async function main() {
  $('#voicemail-upload').addEventListener('submit', send);
  $('#voicemail-text-form').addEventListener('submit', saveText);
  try { render(await get(base)); } catch (e) { $('#voicemail').hidden = true; }
}

main();
