// Agent console: state, live events, the call and its wrap-up.
import * as ep from './endpoints.js';
import { $, el, clock, toast } from './ui.js';
import { connectLive, liveBadge } from './live.js';
import * as call from './agent-call.js';
import * as audio from './agent-audio.js';
import * as controls from './agent-controls.js';
import { startVoice } from './voice.js';

const root = $('#console');
const agentId = Number(root.dataset.agentId);
const s = { state: 'offline', since: null, campaignId: null, callId: null, pop: null, interactionId: null,
  connectedAt: null, campaigns: new Map(), pauseCode: null, pending: null, pauseLabels: new Map() };

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
  if (s.state !== prev) onStateChanged(prev);
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
  if (prev === 'wrap-up' || prev === 'on-call') refreshRecent();
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
  try {
    const next = await ep.previewNext(s.campaignId);
    s.preview = next?.contact || next;
    call.renderPreview(s.preview);
  } catch (e) {
    call.setIdle('Preview mode', e.status === 404 || e.status === 405
      ? 'Preview dialling is not available on this server yet.' : e.message);
  }
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
  try { call.renderRecent((await ep.recentCalls()).items); } catch { /* the table keeps its rows */ }
  refreshCallbacks();
}

async function refreshCallbacks() {
  try { call.renderCallbacks((await ep.myCallbacks()).items); } catch { /* the table keeps its rows */ }
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
  $('#manual-dial').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await ep.manualDial(s.campaignId || Number($('#campaign-select').value), ev.target.phone.value);
      toast('Dialling…');
    } catch (e) {
      call.reportError(e, 'Manual dial failed');
    }
  });
}

async function previewAct(action, next = false) {
  if (!s.preview) return;
  try {
    await action(s.campaignId, s.preview.id);
    if (next) await loadPreview(); else call.setIdle('Dialling…', 'The contact appears when they answer.');
  } catch (e) { call.reportError(e, 'Preview action failed'); }
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
    toast('Outcome saved', 'ok');
  } catch (e) {
    if (e.code === 'no_audio') { // saved, but the audio is gone: paused until it is back
      s.pop = null;
      applyStatus(await ep.me());
      toast(e.message, 'error');
      return;
    }
    const fields = Object.values(e.fields || {}).flat().join(' ');
    err.textContent = `${e.message}${fields ? `: ${fields}` : ''}`;
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
      refreshCallbacks();
    },
  }, { onStatus: liveBadge($('#live-badge')) });
  setInterval(() => ep.heartbeat().catch(() => {}), 10000);
  if (root.dataset.voice === 'on') startVoice().catch((e) => toast(`Browser audio unavailable: ${e.message}`, 'error'));
}

main().catch((e) => call.reportError(e, 'The console could not start'));
