// The /live Socket.IO namespace (the client library is served from /static/vendor).
// The session cookie authenticates the handshake; the server decides the rooms.

export function connectLive(handlers, { onStatus } = {}) {
  if (!window.io) throw new Error('socket.io client missing: run `make setup`');
  const socket = window.io('/live', { transports: ['websocket'], withCredentials: true });
  for (const [event, handler] of Object.entries(handlers)) socket.on(event, handler);
  const report = (state) => onStatus && onStatus(state);
  socket.on('connect', () => report('live'));
  socket.on('disconnect', () => report('offline'));
  socket.on('connect_error', () => report('offline'));
  return socket;
}

export function liveBadge(node) {
  return (state) => {
    node.textContent = state === 'live' ? '● Live' : '○ Reconnecting…';
    node.className = `live-badge ${state}`;
    node.dataset.state = state;
  };
}
