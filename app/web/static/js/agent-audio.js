// The agent's audio panel. An agent's audio is one connection for the whole session (this
// browser, or a phone Omnivox calls and the agent accepts with 1); without it the agent cannot
// go ready ("no audio, no ready"). The server says what is connected (GET /api/agents/me/audio)
// and the live event `agent.audio` says when that changes, with the reason when it did not work.
import * as ep from './endpoints.js';
import { $, when } from './ui.js';
import { connectAudio, disconnectAudio as hangUpBrowser } from './voice.js';

// How long the console waits for the carrier before it asks the server again (a phone rings
// for 30 seconds before Omnivox gives up on it).
const WAIT_MS = { phone: 45000, browser: 20000, disconnecting: 10000 };

const a = {
  loaded: false, connected: false, via: null, since: null, browserAvailable: false, phone: null,
  busy: null,     // 'phone' | 'browser' | 'disconnecting' while the console waits for the carrier
  calling: null,  // the number being called
  reason: '',     // why the last attempt or the connection ended, in words for the agent
  routable: false, // ready, reserved or on a call: the leg may not be hung up now
};
let changed = () => {};
let waitTimer = null;

export const audioConnected = () => a.connected;
export const audioLoaded = () => a.loaded;

export function initAudio({ onChange }) {
  changed = onChange;
  $('#audio-browser').addEventListener('click', useBrowser);
  $('#audio-phone-form').addEventListener('submit', callPhone);
  $('#audio-disconnect').addEventListener('click', disconnect);
  return refreshAudio();
}

export async function refreshAudio() {
  try {
    take(await ep.audio());
    a.loaded = true;
  } catch (e) {
    a.reason = e.message || 'Your audio status could not be read; reload the page.';
  }
  render();
  changed();
}

// The agent's state decides whether the leg may be hung up (not while calls can reach them).
export function setRoutable(routable) {
  a.routable = routable;
  render();
}

// Live: `agent.audio` {agent_id, connected, via, reason}.
export function onAudioEvent(p) {
  if (p.connected) {
    Object.assign(a, { connected: true, via: p.via || a.via, since: a.since || new Date(), reason: '' });
  } else {
    Object.assign(a, { connected: false, via: null, since: null, reason: p.reason || a.reason });
  }
  settle();
  render();
  changed();
  refreshAudio(); // since when, the remembered phone, and the truth if two legs crossed
}

function take(st) {
  a.connected = Boolean(st.connected);
  a.via = st.via || null;
  a.since = st.since ? new Date(st.since) : null;
  a.browserAvailable = Boolean(st.browser_available);
  a.phone = st.phone || null;
  if (a.connected && a.busy !== 'disconnecting') settle();
  if (!a.connected && a.busy === 'disconnecting') settle();
  const input = $('#audio-phone');
  if (a.phone && !input.value && document.activeElement !== input) input.value = a.phone;
}

function wait(kind) {
  a.busy = kind;
  clearTimeout(waitTimer);
  waitTimer = setTimeout(() => {
    if (a.busy !== kind) return;
    if (kind === 'phone') a.reason = 'Your phone did not connect. Check the number and try again.';
    settle();
    refreshAudio();
  }, WAIT_MS[kind]);
}

function settle() {
  a.busy = null;
  a.calling = null;
  clearTimeout(waitTimer);
}

function sentence(text) {
  return /[.?!]$/.test(text) ? text : `${text}.`;
}

function problem(e, fallback) {
  if (!e || !e.message || e.status >= 500) return fallback;
  const fields = Object.values(e.fields || {}).flat().join(' ');
  return fields ? `${sentence(e.message)} ${fields}` : e.message;
}

async function useBrowser() {
  a.reason = '';
  wait('browser');
  render();
  try {
    await connectAudio(); // the carrier's join of this browser arrives as `agent.audio`
  } catch {
    settle();
    a.reason = 'This browser could not connect its audio. Allow the microphone for this site, '
      + 'or use a phone, and try again.';
  }
  render();
}

async function callPhone(ev) {
  ev.preventDefault();
  const number = $('#audio-phone').value.trim();
  a.reason = '';
  if (!number && !a.phone) {
    a.reason = 'Enter the phone number Omnivox should call, e.g. +1 202 555 0143.';
    render();
    return;
  }
  wait('phone');
  a.calling = number || a.phone;
  render();
  try {
    const st = await ep.callMyPhone(number);
    a.calling = st.calling || a.calling;
    a.phone = st.phone || a.phone;
  } catch (e) {
    settle();
    a.reason = problem(e, 'Omnivox could not call your phone just now; try again in a moment.');
    if (e.code === 'audio_connected') refreshAudio();
  }
  render();
}

async function disconnect() {
  if (a.routable) return;
  a.reason = '';
  const wasBrowser = a.via === 'browser';
  wait('disconnecting');
  render();
  try {
    await ep.disconnectAudio(); // its end arrives as `agent.audio`
    if (wasBrowser) hangUpBrowser();
  } catch (e) {
    settle();
    a.reason = problem(e, 'Your audio could not be disconnected just now; try again.');
  }
  render();
}

function describe() {
  if (!a.loaded) return ['unknown', 'Checking…', ''];
  if (a.busy === 'disconnecting') return ['connecting', 'Disconnecting…', 'Hanging up your audio.'];
  if (a.connected) {
    const at = a.since ? ` since ${when(a.since, { dateStyle: undefined, timeStyle: 'short' })}` : '';
    const how = a.via === 'phone' ? `Through your phone${a.phone ? ` (${a.phone})` : ''}` : 'Through this browser';
    return ['connected', 'Connected', `${how}${at}. Between calls you hear silence; calls join you here.`];
  }
  if (a.busy === 'phone') {
    return ['connecting', 'Calling your phone…', `Omnivox is calling ${a.calling}. Answer and press 1 to connect.`];
  }
  if (a.busy === 'browser') return ['connecting', 'Connecting…', 'Connecting this browser; allow the microphone if asked.'];
  return ['disconnected', 'Not connected', 'Connect your audio to take calls. It stays connected while you work.'];
}

function help() {
  if (a.browserAvailable) {
    return 'Use this browser with a headset, or have Omnivox call a phone: answer and press 1 to accept.';
  }
  if (a.phone) return 'Omnivox calls this number; answer and press 1 to accept. It is remembered for next time.';
  return 'Browser audio is not set up on this platform, and Omnivox has no phone number for you yet. '
    + 'Enter a mobile or desk phone number: Omnivox calls it, you press 1, and the call stays up while '
    + 'you work. No phone to use? Ask your supervisor.';
}

function render() {
  const [kind, label, detail] = describe();
  const pill = $('#audio-status');
  pill.dataset.audio = kind;
  pill.textContent = label;
  $('#audio-detail').textContent = detail;
  const reason = $('#audio-reason');
  reason.textContent = a.reason;
  reason.hidden = !a.reason;
  const offerConnect = a.loaded && !a.connected && a.busy !== 'disconnecting';
  $('#audio-connect').hidden = !offerConnect;
  const browser = $('#audio-browser');
  browser.hidden = !a.browserAvailable;
  browser.disabled = Boolean(a.busy);
  $('#audio-call').disabled = Boolean(a.busy);
  $('#audio-phone').disabled = Boolean(a.busy);
  $('#audio-help').textContent = offerConnect ? help() : '';
  const off = $('#audio-disconnect');
  off.hidden = !a.connected;
  off.disabled = a.routable || Boolean(a.busy);
  off.title = a.routable ? 'Pause first: calls can still reach you while you are ready or on a call.' : '';
}
