// Browser audio through Twilio Voice JS, only when the server has Voice credentials.
// For each call routed to this agent the server rings this browser into the call's conference
// (a participant leg to client:agent-<id>); it is accepted at once. Without the credentials (the
// demo) the carrier simulator's agent leg stands in and nothing loads here.
import { voiceToken } from './endpoints.js';
import { toast } from './ui.js';

export async function startVoice() {
  if (!window.Twilio || !window.Twilio.Device) throw new Error('voice library missing');
  const { token } = await voiceToken();
  const device = new window.Twilio.Device(token, { codecPreferences: ['opus', 'pcmu'], closeProtection: true });
  device.on('incoming', (connection) => connection.accept());
  device.on('error', (error) => toast(`Audio: ${error.message}`, 'error'));
  device.on('tokenWillExpire', async () => device.updateToken((await voiceToken()).token));
  await device.register();
  return device;
}
