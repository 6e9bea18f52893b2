// Controls on the connected call: hold, mute, hang up, leave a voicemail on an answering machine
// (the message plays after the beep; the agent goes to wrap-up at once) and transfer (cold, or
// warm: consult the other party while the contact holds, then hand over or come back). A control
// whose endpoint this server does not offer yet (it is not in /api/openapi.json) stays disabled
// and says so.
import * as ep from './endpoints.js';
import { $, el, toast } from './ui.js';

const NOT_YET = 'not available on this server yet';
const STARTS = { now: 'it is playing now', after_beep: 'it plays after the beep',
  after_quiet: 'it plays once the greeting goes quiet' };
const FINAL = new Set(['completed', 'canceled', 'cancelled', 'failed', 'busy', 'no-answer', 'returned']);
const STATE_WORDS = { ready: 'ready', reserved: 'connecting a call', 'on-call': 'on a call', 'wrap-up': 'finishing a call',
  paused: 'paused', offline: 'signed off' };

const c = {
  callId: null, hold: false, muted: false, busy: false,
  recording: false, recPaused: false, // the call's recording: in progress, paused (card details)
  transfer: null, // {id, kind, status, label}
  features: { hold: true, mute: true, transfer: true, hangup: true, record: true, voicemail: true },
  // The disposition code the server suggests for a call a voicemail was left on (pre-filled in wrap-up).
  suggested: new Map(),
  agentId: null,
};

export async function initControls({ agentId }) {
  c.agentId = agentId;
  $('#hold').addEventListener('click', () => act('hold', () => ep.hold(c.callId, !c.hold), (r) => {
    c.hold = Boolean(r.hold);
    if (r.muted !== undefined) c.muted = Boolean(r.muted);
  }));
  $('#mute').addEventListener('click', () => act('mute', () => ep.mute(c.callId, !c.muted), (r) => {
    c.muted = Boolean(r.muted);
    if (r.hold !== undefined) c.hold = Boolean(r.hold);
  }));
  $('#hang-up').addEventListener('click', () => act('hangup', () => ep.hangUp(c.callId), () => {}));
  $('#leave-voicemail').addEventListener('click', () => {
    const callId = c.callId;
    act('voicemail', () => ep.leaveVoicemail(callId), (r) => {
      if (r.suggested_disposition) c.suggested.set(callId, r.suggested_disposition);
      prefillDisposition(callId); // the wrap-up may be on screen already
      toast(`Leaving the voicemail: ${STARTS[r.starts] || 'it plays once the greeting is over'}. You are free for the next call.`, 'ok');
    });
  });
  $('#record-pause').addEventListener('click', () => act('record', () => ep.pauseRecording(c.callId, !c.recPaused), (r) => {
    c.recording = Boolean(r.recording);
    c.recPaused = Boolean(r.paused);
  }));
  $('#transfer').addEventListener('click', openTransfer);
  $('#transfer-close').addEventListener('click', () => $('#transfer-dialog').close());
  $('#transfer-form').addEventListener('submit', startTransfer);
  for (const [name, field] of [['agent', '#transfer-agent'], ['campaign', '#transfer-campaign'], ['number', '#transfer-number']]) {
    $(field).addEventListener('focus', () => { $(`#transfer-form input[name="to"][value="${name}"]`).checked = true; });
  }
  $('#consult-complete').addEventListener('click', () => finishConsult('complete'));
  $('#consult-cancel').addEventListener('click', () => finishConsult('cancel'));
  render();
  await detectFeatures();
}

async function detectFeatures() {
  let paths;
  try {
    paths = Object.keys((await ep.openapi()).paths || {});
  } catch {
    return; // unknown: each control finds out when used
  }
  const has = (re) => paths.some((p) => re.test(p));
  c.features.hold = has(/\/console\/calls\/[^/]+\/hold$/);
  c.features.mute = has(/\/console\/calls\/[^/]+\/mute$/);
  c.features.transfer = has(/\/console\/calls\/[^/]+\/transfers$/) && has(/\/console\/transfer-targets$/);
  c.features.voicemail = has(/\/console\/calls\/[^/]+\/voicemail-drop$/);
  render();
}

// A new connected call (screen pop, or the console reloaded mid-call). The recording button
// shows what the server says of the call's recording (GET): in progress or paused, so a
// reload mid-call finds it as it was left.
export function startCall(callId, { recorded = false } = {}) {
  if (c.callId === callId) {
    if (recorded && !c.recording) refreshRecording(callId); // the screen pop after a reload
    return;
  }
  Object.assign(c, { callId, hold: false, muted: false, busy: false, transfer: null, recording: false, recPaused: false });
  render();
  refreshRecording(callId, recorded ? 10 : 1);
}

// The recording starts a moment after the call is connected (a worker asks the carrier), and
// the screen pop can come a moment before the call is stored as the agent's (a 404): ask until
// it is there, so the button appears once there is a recording to pause.
async function refreshRecording(callId, tries = 10) {
  let r = null;
  try { r = await ep.recording(callId); } catch (e) { if (missingRoute(e)) return; }
  if (c.callId !== callId || c.busy) return; // a click on the button answers for itself
  if (r) {
    c.recording = Boolean(r.recording);
    c.recPaused = Boolean(r.paused);
    render();
  }
  if (!(r && r.recording) && tries > 0) setTimeout(() => refreshRecording(callId, tries - 1), 700);
}

// The wrap-up of `callId` starts with the campaign's voicemail outcome chosen when a voicemail was
// left on it (the agent may choose another).
export function prefillDisposition(callId) {
  const code = c.suggested.get(callId);
  const radios = [...document.querySelectorAll('#dispositions input[name="code"]')];
  const pick = code && radios.find((i) => i.value === code);
  if (pick && !radios.some((i) => i.checked)) pick.checked = true;
}

export function endCall() {
  Object.assign(c, { callId: null, hold: false, muted: false, busy: false, transfer: null, recording: false, recPaused: false });
  const dialog = $('#transfer-dialog');
  if (dialog.open) dialog.close();
  render();
}

function missingRoute(e) {
  return e && (e.status === 405 || (e.status === 404 && /requested URL/i.test(e.message || '')));
}

// The API's sentence, then what its fields add (a hint on what to do), each said once.
export function problem(e, fallback) {
  if (!e || !e.message || e.status >= 500) return fallback;
  const said = [e.message];
  for (const text of Object.values(e.fields || {}).flat()) {
    if (typeof text === 'string' && text && !said.some((s) => s.includes(text) || text.includes(s))) said.push(text);
  }
  return said.map((s) => (/[.!?]$/.test(s) ? s : `${s}.`)).join(' ');
}

async function act(feature, call, done) {
  if (!c.callId || c.busy) return;
  c.busy = true;
  render();
  try {
    done((await call()) || {});
  } catch (e) {
    if (missingRoute(e)) {
      c.features[feature] = false;
      toast(`That control is ${NOT_YET}.`, 'error');
    } else {
      toast(problem(e, 'That did not work just now; try again.'), 'error');
    }
  } finally {
    c.busy = false;
    render();
  }
}

// --- transfer -------------------------------------------------------------------------------

async function openTransfer() {
  if (!c.callId || c.transfer) return;
  const form = $('#transfer-form');
  form.reset();
  showError('');
  const agents = $('#transfer-agent'), campaigns = $('#transfer-campaign');
  agents.replaceChildren(el('option', { value: '', text: 'Loading…' }));
  campaigns.replaceChildren(el('option', { value: '', text: 'Loading…' }));
  $('#transfer-dialog').showModal();
  try {
    const targets = await ep.transferTargets();
    const others = (targets.agents || []).filter((a) => a.id !== c.agentId);
    agents.replaceChildren(...(others.length ? others.map((a) => el('option', {
      value: a.id, text: `${a.username} (${STATE_WORDS[a.state] || 'state unknown'})` }))
      : [el('option', { value: '', text: 'No other agent is signed on' })]));
    const list = targets.campaigns || [];
    campaigns.replaceChildren(...(list.length ? list.map((k) => el('option', {
      value: k.id, text: `${k.name} (${k.ready_agents} ready agent${k.ready_agents === 1 ? '' : 's'} now)` }))
      : [el('option', { value: '', text: 'No campaign to transfer to' })]));
  } catch (e) {
    const none = el('option', { value: '', text: 'Could not load the list' });
    agents.replaceChildren(none);
    campaigns.replaceChildren(none.cloneNode(true));
    showError(missingRoute(e) ? `Transfers to agents and campaigns are ${NOT_YET}.`
      : problem(e, 'The agents and campaigns could not be loaded; you can still transfer to a number.'));
  }
}

function showError(text) {
  const box = $('#transfer-error');
  box.textContent = text;
  box.hidden = !text;
}

async function startTransfer(ev) {
  ev.preventDefault();
  const form = ev.target;
  const kind = form.elements.kind.value;
  const to = form.elements.to.value;
  const body = { kind };
  let label;
  if (to === 'agent') {
    body.to_agent_id = Number(form.elements.agent.value) || null;
    label = form.elements.agent.selectedOptions[0]?.textContent.replace(/ \(.*\)$/, '');
  } else if (to === 'campaign') {
    body.to_campaign_id = Number(form.elements.campaign.value) || null;
    label = `an agent of ${form.elements.campaign.selectedOptions[0]?.textContent.replace(/ \(.*\)$/, '')}`;
  } else {
    body.to_number = form.elements.number.value.trim();
    label = body.to_number;
  }
  if (!body.to_agent_id && !body.to_campaign_id && !body.to_number) {
    showError(to === 'number' ? 'Enter the number to transfer to.' : `Choose ${to === 'agent' ? 'an agent' : 'a campaign'}.`);
    return;
  }
  $('#transfer-start').disabled = true;
  try {
    const t = await ep.transfer(c.callId, body);
    $('#transfer-dialog').close();
    c.transfer = { id: t.id, kind: t.kind || kind, status: t.status || 'started', label,
      answered: t.answered !== undefined ? Boolean(t.answered) : to !== 'number' };
    if (c.transfer.kind === 'warm') c.hold = true;
    toast(kind === 'warm' ? `Calling ${label}; the contact is on hold.` : `Transferring the contact to ${label}…`, 'ok');
    if (FINAL.has(c.transfer.status)) c.transfer = null;
  } catch (e) {
    showError(missingRoute(e) ? `Transfer is ${NOT_YET}.` : problem(e, 'The transfer could not start; try again.'));
  } finally {
    $('#transfer-start').disabled = false;
    render();
  }
}

async function finishConsult(how) {
  const t = c.transfer;
  if (!t || c.busy) return;
  c.busy = true;
  render();
  try {
    const r = how === 'complete' ? await ep.completeTransfer(c.callId, t.id) : await ep.cancelTransfer(c.callId, t.id);
    c.transfer = null;
    if (how === 'cancel') {
      c.hold = r && r.hold !== undefined ? Boolean(r.hold) : false;
      toast('You are back with the contact.', 'ok');
    } else {
      toast(`The contact is now with ${t.label}.`, 'ok');
    }
  } catch (e) {
    toast(problem(e, 'That did not work just now; try again.'), 'error');
  } finally {
    c.busy = false;
    render();
  }
}

// Live: `call.transfer` (the transfer's progress, e.g. the other party answered or declined).
export function onTransferEvent(p) {
  if (!c.callId || p.call_id !== c.callId) return;
  const id = p.id ?? p.transfer_id;
  if (!c.transfer) {
    if (!p.kind || FINAL.has(p.status)) return;
    c.transfer = { id, kind: p.kind, status: p.status, label: p.to_label || p.to_number || 'the other party',
      answered: Boolean(p.answered) };
  }
  if (id !== undefined && c.transfer.id !== undefined && id !== c.transfer.id) return;
  c.transfer.status = p.status || c.transfer.status;
  if (p.answered !== undefined) c.transfer.answered = Boolean(p.answered);
  if (FINAL.has(c.transfer.status)) {
    const label = c.transfer.label;
    if (c.transfer.status === 'completed') {
      toast(`Transfer to ${label} complete.`, 'ok');
    } else {
      toast(p.reason || `The transfer to ${label} did not go through; you are back with the contact.`, 'error');
      if (c.transfer.kind === 'warm') c.hold = false;
    }
    c.transfer = null;
  }
  if (p.hold !== undefined) c.hold = Boolean(p.hold);
  render();
}

function consultText(t) {
  if (!t.answered || ['initiated', 'queued', 'ringing', 'started', 'dialing'].includes(t.status)) {
    return `Calling ${t.label}… The contact is on hold.`;
  }
  return `You are talking to ${t.label}; the contact is on hold and cannot hear you.`;
}

function setControl(button, feature, { label, pressed, disabled }) {
  const available = c.features[feature] !== false;
  button.textContent = label;
  if (pressed !== undefined) button.setAttribute('aria-pressed', String(pressed));
  button.disabled = !available || disabled;
  button.title = available ? '' : `${button.dataset.name || label} is ${NOT_YET}.`;
}

function render() {
  const none = !c.callId || c.busy;
  const consulting = Boolean(c.transfer && c.transfer.kind === 'warm');
  $('#hold').dataset.name = 'Hold';
  $('#mute').dataset.name = 'Mute';
  $('#transfer').dataset.name = 'Transfer';
  setControl($('#hold'), 'hold', { label: c.hold ? 'Resume' : 'Hold', pressed: c.hold, disabled: none || consulting });
  setControl($('#mute'), 'mute', { label: c.muted ? 'Unmute' : 'Mute', pressed: c.muted, disabled: none });
  setControl($('#transfer'), 'transfer', { label: 'Transfer…', disabled: none || Boolean(c.transfer) });
  $('#hang-up').disabled = none;
  $('#leave-voicemail').dataset.name = 'Leave voicemail';
  setControl($('#leave-voicemail'), 'voicemail', { label: 'Leave voicemail', disabled: none || Boolean(c.transfer) });
  const rec = $('#record-pause');
  rec.hidden = !c.recording;
  rec.dataset.name = 'Pause recording';
  setControl(rec, 'record', { label: c.recPaused ? 'Resume recording' : 'Pause recording', pressed: c.recPaused, disabled: none });
  const flags = [];
  if (c.recording && c.recPaused) flags.push('Recording paused');
  if (c.hold) flags.push('On hold: the contact hears hold music');
  if (c.muted) flags.push('Muted: the contact cannot hear you');
  if (c.transfer && c.transfer.kind === 'cold') flags.push(`Transferring to ${c.transfer.label}…`);
  $('#call-flags').textContent = flags.join(' · ');
  $('#consult').hidden = !consulting;
  if (consulting) {
    $('#consult-title').textContent = `Warm transfer to ${c.transfer.label}`;
    $('#consult-text').textContent = consultText(c.transfer);
    $('#consult-complete').disabled = c.busy;
    $('#consult-cancel').disabled = c.busy;
  }
}
