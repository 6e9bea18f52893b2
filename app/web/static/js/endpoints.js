// Dialer and telephony paths the console calls. Kept in one place: the dialer's preview and
// manual-dial paths are one-line changes here if the dialer names them differently.
import { del, get, post } from './api.js';

export const me = () => get('/api/agents/me');
export const setState = (body) => post('/api/agents/me/state', body);
export const heartbeat = () => post('/api/agents/me/heartbeat');
export const myCallbacks = () => get('/api/agents/me/callbacks');
export const campaigns = () => get('/api/campaigns', { per_page: 100 });
export const campaign = (id) => get(`/api/campaigns/${id}`);
export const pauseCodes = (campaignId) => get('/api/pause-codes', { campaign_id: campaignId, active: true, per_page: 100 });
export const openInteractions = () => get('/api/interactions', { open_only: true, per_page: 20 });
export const dispose = (id, body) => post(`/api/interactions/${id}/disposition`, body);
export const callbackSlots = (id) => get(`/api/console/interactions/${id}/callback-slots`);
export const hangUp = (callId) => post(`/api/console/calls/${callId}/hangup`);
export const leaveVoicemail = (callId) => post(`/api/console/calls/${callId}/voicemail-drop`);
export const recentCalls = () => get('/api/call-records', { per_page: 8 });
export const callRecord = (id) => get(`/api/call-records/${id}`);
export const voiceToken = () => get('/api/console/voice-token');
export const openapi = () => get('/api/openapi.json');

// The agent's audio leg: no audio, no ready.
export const audio = () => get('/api/agents/me/audio');
export const callMyPhone = (phone) => post('/api/agents/me/audio', { via: 'phone', phone: phone || null });
export const disconnectAudio = () => del('/api/agents/me/audio');

// Controls on the connected call, and transfers.
export const hold = (callId, on) => post(`/api/console/calls/${callId}/hold`, { hold: on });
export const pauseRecording = (callId, on) => post(`/api/console/calls/${callId}/recording`, { paused: on });
export const recording = (callId) => get(`/api/console/calls/${callId}/recording`);
export const mute = (callId, on) => post(`/api/console/calls/${callId}/mute`, { muted: on });
export const transferTargets = () => get('/api/console/transfer-targets');
export const transfer = (callId, body) => post(`/api/console/calls/${callId}/transfers`, body);
export const completeTransfer = (callId, id) => post(`/api/console/calls/${callId}/transfers/${id}/complete`);
export const cancelTransfer = (callId, id) => post(`/api/console/calls/${callId}/transfers/${id}/cancel`);

// Preview mode and manual dial (the dialer's paths).
export const previewNext = (campaignId) => post(`/api/campaigns/${campaignId}/preview/next`);
export const previewDial = (campaignId, contactId) => post(`/api/campaigns/${campaignId}/preview/${contactId}/dial`);
export const previewSkip = (campaignId, contactId) => post(`/api/campaigns/${campaignId}/preview/${contactId}/skip`);
export const manualDial = (campaignId, phone) => post(`/api/campaigns/${campaignId}/manual-dial`, { phone });
