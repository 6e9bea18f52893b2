// Browser audio through Twilio Voice JS, only when the server has Voice credentials.
// The agent's audio is one connection for the whole session: `connectAudio` calls the TwiML
// App (its voice URL is /twilio/agent/voice), which puts this browser into the agent's own
// conference room; each answered person is then joined into that room, so nothing rings per
// call. Without the credentials (the demo) the agent connects a phone instead.
import { voiceToken } from './endpoints.js';
import { toast } from './ui.js';

let device = null;
let connection = null;

// `fetchToken`: the agent's token by default; a supervisor's page passes its own.
export async function startVoice(fetchToken = voiceToken) {
  if (!window.Twilio || !window.Twilio.Device) throw new Error('voice library missing');
  const { token } = await fetchToken();
  device = new window.Twilio.Device(token, { codecPreferences: ['opus', 'pcmu'], closeProtection: true });
  device.on('error', (error) => toast(`Audio: ${error.message}`, 'error'));
  device.on('tokenWillExpire', async () => device.updateToken((await fetchToken()).token));
  return device;
}

export async function connectAudio(fetchToken = voiceToken) {
  if (!device) await startVoice(fetchToken);
  if (connection) return connection;
  connection = await device.connect({ params: {} });
  connection.on('disconnect', () => { connection = null; });
  return connection;
}

export function disconnectAudio() {
  if (connection) connection.disconnect();
  connection = null;
}

export function muteAudio(muted) {
  if (connection) connection.mute(Boolean(muted));
}
