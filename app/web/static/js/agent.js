// Agent console: state, live events, the call and its wrap-up.
import * as ep from './endpoints.js';
import { $, el, clock, toast } from './ui.js';
import { connectLive, liveBadge } from './live.js';
import { get } from './api.js';
import * as call from './agent-call.js';
import * as audio from './agent-audio.js';
import * as controls from './agent-controls.js';
import { startVoice } from './voice.js';

const root = $('#console');
const agentId = Number(root.dataset.agentId);
const s = { state: 'offline', since: null, campaignId: null, callId: null, pop: null, interactionId: null,
  connectedAt: null, campaigns: new Map(), pauseCode: null, pending: null, pauseLabels: new Map(),
  dialledFromPause: null, previewTimer: null };

const LABEL = { offline: 'Signed off', ready: 'Ready', reserved: 'Connecting…', 'on-call': 'On call',
  'wrap-up': 'Wrap-up', paused: 'Paused' };
// Pauses Omnivox itself puts an agent in (not among the campaign's pause codes).
const NO_AUDIO = 'no-audio';
const ROUTABLE = ['ready', 'reserved', 'on-call'];

function applyStatus(status) {
  const prev = s.state;
  s.state = status.state;
  s.since = status.since ? new Date(status.since) : null;
  s.campaignId = status.campaign_id ?? s.campaignId;
  if (status.call_id) s.callId = status.call_id;
  s.pauseCode = s.state === 'paused' ? status.pause_code ?? null : null;
  if ('dialled_from_pause' in status) s.dialledFromPause = status.dialled_from_pause ?? null;
  else if (['ready', 'paused', 'offline'].includes(s.state)) s.dialledFromPause = null;
  if ('pending' in status) s.pending = status.pending;
  else if (s.pending && (s.state === s.pending.target || s.state === 'offline')) s.pending = null;
  const pill = $('#state-pill');
  pill.dataset.state = s.state;
  pill.textContent = LABEL[s.state] || 'Unknown';
  if (s.campaignId) $('#campaign-select').value = String(s.campaignId);
  $('#campaign-select').disabled = !['offline', 'paused'].includes(s.state);
  $('#go-pause').disabled = !['ready', 'offline'].includes(s.state) || !s.campaignId && s.state === 'offline';
  $('#go-offline').disabled = !['ready', 'paused'].includes(s.state);
  audio.setRoutable(ROUTABLE.includes(s.state));
  if ('audio' in status && audio.audioLoaded() && (status.audio != null) !== audio.audioConnected()) audio.refreshAudio();
  if (s.state === 'on-call' && s.callId) controls.startCall(s.callId);
  renderReadiness();
  renderPending();
  renderManualDial();
  if (s.state !== prev) onStateChanged(prev);
}

// Manual dial: while paused (the dialer sends you nothing), or ready in a preview campaign.
function renderManualDial() {
  const camp = s.campaigns.get(s.campaignId);
  const preview = camp && camp.dial_mode === 'preview';
  let hint = '';
  let can = false;
  if (s.state === 'paused') {
    can = s.pauseCode !== NO_AUDIO;
    hint = can ? 'While paused the dialer sends you no calls. After your call and its outcome you come back to this pause.'
      : 'Reconnect your audio to dial.';
  } else if (s.state === 'ready') {
    can = Boolean(preview);
    hint = preview ? 'Dial any number of this campaign by hand.'
      : 'Pause first to dial by hand: while you are ready, the dialer places calls for you.';
  } else if (s.state === 'offline') {
    hint = 'Choose a campaign and pause (or go ready) to dial by hand.';
  } else {
    hint = 'You can dial by hand once this call and its outcome are done (Save & pause).';
  }
  $('#manual-submit').disabled = !can;
  $('#manual-hint').textContent = hint;
}

// An API error in words: the message, and for bad input what each field needs. (A refusal's
// `fields.reason` holds the rule's code, for programs: never shown.)
function sayError(e, fallback) {
  if (e && e.status === 422) return controls.problem(e, fallback);
  return e && e.message && e.status < 500 ? e.message : fallback;
}

function showManualError(text) {
  $('#manual-error').textContent = text;
  $('#manual-error').hidden = !text;
  $('#manual-phone').classList.toggle('invalid', Boolean(text));
}

// Why the agent is paused, in words (the code of a system pause never shows).
function pauseDetail() {
  if (s.state !== 'paused') return '';
  if (s.pauseCode === NO_AUDIO) {
    return audio.audioConnected() ? 'Your audio is back: go ready when you are.'
      : 'Audio disconnected — reconnect to go ready';
  }
  if (!s.pauseCode) return 'Paused by your supervisor or the system.';
  return `Reason: ${s.pauseLabels.get(s.pauseCode) || 'a pause reason no longer listed'}`;
}

// "Go ready" is enabled only when it can work, and otherwise says why (no audio, no ready).
function renderReadiness() {
  $('#state-detail').textContent = pauseDetail();
  let why = '';
  if (['offline', 'paused'].includes(s.state)) {
    if (!audio.audioLoaded()) why = 'Checking your audio…';
    else if (!audio.audioConnected()) why = 'Connect your audio first (My audio, below): you cannot take calls without it.';
  }
  const button = $('#go-ready');
  button.disabled = !['offline', 'paused'].includes(s.state) || Boolean(why);
  button.title = why;
  $('#ready-reason').textContent = why;
  $('#ready-reason').hidden = !why;
  if (s.state === 'paused' && s.pauseCode === NO_AUDIO) {
    call.setIdle('Audio disconnected', audio.audioConnected() ? 'Your audio is back. Go ready when you are.'
      : 'Reconnect your audio (My audio, on the left) to go ready again.');
  }
}

// "Pause pending": calls placed for the agent still ring, so the pause (or sign-off) waits for
// them; if one reaches the agent first, it applies after that call's wrap-up.
function renderPending() {
  const p = s.pending && s.pending.target && s.state !== s.pending.target ? s.pending : null;
  $('#pending').hidden = !p;
  if (!p) return;
  const n = Number(p.calls_ringing) || 0;
  const what = p.target === 'offline' ? 'Sign-off pending' : 'Pause pending';
  let title, text;
  if (s.state === 'wrap-up') {
    title = `${what} — applies when you save this call's outcome`;
    text = '';
  } else if (['reserved', 'on-call'].includes(s.state)) {
    title = `${what} — applies after this call`;
    text = '';
  } else {
    title = n > 0 ? `${what} — waits for ${n} call${n === 1 ? '' : 's'} ringing`
      : `${what} — waits for the calls placed for you`;
    text = 'If one is answered, it comes to you.';
  }
  const label = p.pause_code ? s.pauseLabels.get(p.pause_code) : null;
  $('#pending-title').textContent = title;
  $('#pending-text').textContent = [label ? `Reason: ${label}.` : '', text].filter(Boolean).join(' ');
  $('#pending-cancel').hidden = !['ready', 'reserved', 'on-call'].includes(s.state);
}

function onPending(p) {
  if (p.agent_id !== agentId) return;
  s.pending = p.target ? p : null;
  renderPending();
}

async function onStateChanged(prev) {
  if (prev === 'on-call') controls.endCall();
  if (['wrap-up', 'on-call', 'reserved'].includes(prev)) refreshRecent(); // in every mode
  if (s.state !== 'ready') stopPreviewPoll();
  if (s.state === 'wrap-up') return startWrapUp();
  if (s.state === 'on-call') {
    if (!s.pop) await recoverCall();
    return;
  }
  if (s.state === 'ready') {
    s.pop = null; s.callId = null; s.interactionId = null;
    const camp = s.campaigns.get(s.campaignId);
    if (camp && camp.dial_mode === 'preview') return loadPreview();
    call.setIdle('Ready for the next call', `Calls from ${camp ? camp.name : 'your campaign'} connect here automatically.`);
  } else if (s.state === 'paused') {
    if (s.pauseCode === NO_AUDIO) renderReadiness();
    else call.setIdle('Paused', 'Go ready when you are back.');
  } else if (s.state === 'offline') {
    call.setIdle('You are signed off', s.campaigns.size ? 'Choose a campaign and go ready to take calls.' : NO_CAMPAIGN);
  } else if (s.state === 'reserved') {
    call.setIdle('Connecting a call…', 'The contact will appear in a moment.');
  }
}

async function recoverCall() {
  // After a reload mid-call: rebuild a minimal screen pop from the call record.
  await new Promise((r) => setTimeout(r, 1500)); // the screen pop usually follows the state
  if (!s.callId || s.pop || s.state !== 'on-call') return;
  try {
    const { call: rec } = await ep.callRecord(s.callId); // {call, events, recording, ...}
    s.connectedAt = rec.connected_at ? new Date(rec.connected_at) : new Date();
    call.renderScreenPop({ call: rec, contact: { phone: rec.to_number }, campaign: s.campaigns.get(rec.campaign_id) });
    controls.startCall(rec.id);
  } catch (e) { call.reportError(e, 'Could not load the call'); }
}

async function startWrapUp() {
  let codes = s.pop?.disposition_codes;
  if (!codes && s.campaignId) codes = (await ep.campaign(s.campaignId)).disposition_codes || [];
  call.renderDispositions(codes || []);
  controls.prefillDisposition(s.callId); // a voicemail was left: its outcome is chosen
  // Dialled by hand while paused: "Save & pause" (back to that pause) is the first choice.
  const fromPause = s.dialledFromPause !== null && s.dialledFromPause !== undefined;
  $('#save-pause').classList.toggle('btn-go', fromPause);
  $('#save-ready').classList.toggle('btn-go', !fromPause);
  $('#save-pause').textContent = fromPause ? 'Save & back to pause' : 'Save & pause';
  if (fromPause && s.dialledFromPause && s.pauseLabels.has(s.dialledFromPause)) $('#pause-code').value = s.dialledFromPause;
  $('#notes').value = '';
  $('#callback-box').hidden = true;
  $('#wrap-error').hidden = true;
  call.showPanel('wrap-up');
  const open = (await ep.openInteractions()).items;
  const mine = open.find((i) => i.call_id === s.callId) || open[0];
  s.interactionId = mine ? mine.id : null;
  if (!mine) {
    $('#wrap-error').textContent = 'No open interaction found for this call.';
    $('#wrap-error').hidden = false;
  }
}

async function loadPreview() {
  stopPreviewPoll();
  try {
    const next = await ep.previewNext(s.campaignId);
    s.preview = next && next.contact && next.contact.id ? next.contact : null;
    call.renderPreview(s.preview, next ? next.next_due_at : null);
    // Nothing to preview: look again every 30 seconds while still ready here.
    if (!s.preview) s.previewTimer = setTimeout(() => { if (s.state === 'ready') loadPreview(); }, 30000);
  } catch (e) {
    s.preview = null;
    call.renderPreview(null, null);
    toast(sayError(e, 'The next contact could not be loaded; try again in a moment.'), 'error');
  }
}

function stopPreviewPoll() {
  if (s.previewTimer) clearTimeout(s.previewTimer);
  s.previewTimer = null;
}

const NO_CAMPAIGN = 'You are not on any campaign yet: ask your admin to assign you to one, then reload this page.';

async function loadCampaigns() {
  const list = (await ep.campaigns()).items;
  const select = $('#campaign-select');
  select.replaceChildren(...list.map((c) => el('option', { value: c.id, text: `${c.name} (${c.dial_mode})` })));
  for (const c of list) s.campaigns.set(c.id, c);
  if (!list.length) {
    select.append(el('option', { value: '', text: 'No campaign yet: ask your admin' }));
    call.setIdle('You are signed off', NO_CAMPAIGN);
  }
  await loadPauseCodes();
}

async function loadPauseCodes() {
  const cid = Number($('#campaign-select').value) || null;
  const codes = cid ? (await ep.pauseCodes(cid)).items : [];
  for (const c of codes) s.pauseLabels.set(c.code, c.label);
  $('#pause-code').replaceChildren(...codes.map((c) => el('option', { value: c.code, text: c.label })));
}

async function change(body) {
  try { applyStatus(await ep.setState(body)); } catch (e) { call.reportError(e, 'Could not change state'); }
}

async function refreshRecent() {
  try { call.renderRecent((await get('/api/console/recent-calls')).items); } catch { /* the table keeps its rows */ }
  refreshCallbacks();
}

async function refreshCallbacks() {
  try { call.renderCallbacks((await ep.myCallbacks()).items, showCallbackHistory); } catch { /* the table keeps its rows */ }
}

// The callback pop-up: who is due, the promise's notes, and the contact's earlier calls.
async function showCallbackHistory(cb, due = false) {
  const who = [cb.first_name, cb.last_name].filter(Boolean).join(' ') || cb.phone;
  $('#callback-pop-title').textContent = due ? `Callback due: ${who}` : `Callback: ${who}`;
  $('#callback-pop-text').textContent = [due ? 'It is dialled next and comes to you if you are ready.' : '',
    cb.notes ? `Your note: ${cb.notes}` : ''].filter(Boolean).join(' ');
  $('#callback-pop-history').replaceChildren(el('p', { class: 'muted small', text: 'Loading earlier calls…' }));
  $('#callback-pop').hidden = false;
  try {
    call.renderHistory($('#callback-pop-history'), await get(`/api/console/contacts/${Number(cb.contact_id)}/history`));
  } catch (e) {
    $('#callback-pop-history').replaceChildren(el('p', { class: 'muted small',
      text: sayError(e, 'The earlier calls could not be loaded just now.') }));
  }
}

function tick() {
  const now = Date.now();
  $('#state-timer').textContent = s.since ? clock((now - s.since) / 1000) : '00:00';
  if (s.connectedAt) $('#call-timer').textContent = clock((now - s.connectedAt) / 1000);
  if (s.state === 'wrap-up' && s.since) $('#wrap-timer').textContent = clock((now - s.since) / 1000);
}

function wire() {
  $('#campaign-select').addEventListener('change', loadPauseCodes);
  $('#go-ready').addEventListener('click', () => change({ state: 'ready', campaign_id: Number($('#campaign-select').value) || null }));
  $('#go-pause').addEventListener('click', () => change({ state: 'paused', pause_code: $('#pause-code').value || null,
    campaign_id: Number($('#campaign-select').value) || null }));
  $('#go-offline').addEventListener('click', () => change({ state: 'offline' }));
  $('#pending-cancel').addEventListener('click', () => change({ state: 'ready' }));
  $('#dispositions').addEventListener('change', (ev) => {
    const isCallback = ev.target.dataset.callback === '1';
    $('#callback-box').hidden = !isCallback;
    if (isCallback && s.interactionId) call.loadCallbackSlots(s.interactionId);
  });
  $('#wrap-up').addEventListener('submit', submitWrapUp);
  $('#preview-dial').addEventListener('click', () => previewAct(ep.previewDial));
  $('#preview-skip').addEventListener('click', () => previewAct(ep.previewSkip, true));
  $('#callback-pop-close').addEventListener('click', () => { $('#callback-pop').hidden = true; });
  $('#manual-phone').addEventListener('input', () => showManualError(''));
  $('#manual-dial').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const phone = ev.target.phone.value.trim();
    if (!phone) { showManualError('Enter a phone number.'); return; }
    const campaignId = s.campaignId || Number($('#campaign-select').value);
    if (!campaignId) { showManualError('Choose a campaign first.'); return; }
    showManualError('');
    try {
      await ep.manualDial(campaignId, phone);
      toast(s.state === 'paused' ? `Dialling ${phone}… After the call you come back to your pause.` : `Dialling ${phone}…`, 'ok');
    } catch (e) {
      showManualError(sayError(e, 'The number could not be dialled just now; try again.'));
    }
  });
}

async function previewAct(action, next = false) {
  const contact = s.preview;
  if (!contact || !contact.id) return; // nothing on screen: never a request for no one
  $('#preview-dial').disabled = true;
  $('#preview-skip').disabled = true;
  try {
    await action(s.campaignId, contact.id);
    if (next) await loadPreview();
    // The answer may have come before this reply: then the call (or its wrap-up) is on screen.
    else if (['ready', 'reserved'].includes(s.state) && !s.pop) call.setIdle('Dialling…', 'The contact appears when they answer.');
  } catch (e) {
    toast(sayError(e, 'That did not work just now; try again.'), 'error');
    if (e.status === 404) await loadPreview(); // gone meanwhile: show the next one
    else call.renderPreview(contact);
  }
}

async function submitWrapUp(ev) {
  ev.preventDefault();
  const form = ev.target;
  const then = ev.submitter?.dataset.then || 'ready';
  const code = form.querySelector('input[name="code"]:checked');
  const err = $('#wrap-error');
  err.hidden = true;
  if (!code) { err.textContent = 'Choose an outcome.'; err.hidden = false; return; }
  const body = { code: code.value, notes: $('#notes').value, then };
  if (code.dataset.callback === '1') body.callback_at = $('#callback-at').value || null;
  if (then === 'paused') body.pause_code = $('#pause-code').value || null;
  try {
    await ep.dispose(s.interactionId, body);
    s.pop = null;
    applyStatus(await ep.me());
    refreshRecent();
    toast('Outcome saved', 'ok');
  } catch (e) {
    if (e.code === 'no_audio') { // saved, but the audio is gone: paused until it is back
      s.pop = null;
      applyStatus(await ep.me());
      toast(e.message, 'error');
      return;
    }
    err.textContent = sayError(e, 'The outcome could not be saved just now; try again.');
    err.hidden = false;
  }
}

async function main() {
  wire();
  controls.initControls({ agentId });
  await loadCampaigns();
  await audio.initAudio({ onChange: renderReadiness });
  applyStatus(await ep.me());
  refreshRecent();
  setInterval(tick, 500);
  connectLive({
    'agent.state': (p) => { if (p.agent_id === agentId) applyStatus(p); },
    'agent.audio': (p) => { if (p.agent_id === agentId) audio.onAudioEvent(p); },
    'agent.pending': onPending,
    'call.transfer': (p) => controls.onTransferEvent(p),
    'call.screen_pop': (p) => {
      s.pop = p; s.callId = p.call?.id; s.connectedAt = new Date();
      call.renderScreenPop(p);
      controls.startCall(s.callId, { recorded: Boolean(p.recording?.enabled) });
    },
    'call.state': (p) => { if (p.call_id === s.callId && ['completed', 'failed', 'canceled'].includes(p.status)) s.connectedAt = null; },
    'callback.due': (p) => {
      if (p.agent_id !== agentId) return;
      const who = [p.first_name, p.last_name].filter(Boolean).join(' ') || p.phone;
      toast(`Callback due: ${who}. It is dialled next and comes to you if you are ready.`, 'ok');
      showCallbackHistory(p, true);
      refreshCallbacks();
    },
  }, { onStatus: liveBadge($('#live-badge')) });
  setInterval(() => ep.heartbeat().catch(() => {}), 10000);
  if (root.dataset.voice === 'on') startVoice().catch((e) => toast(`Browser audio unavailable: ${e.message}`, 'error'));
}

main().catch((e) => call.reportError(e, 'The console could not start'));
