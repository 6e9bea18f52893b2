// The wallboard's three charts (Chart.js, served from /static/vendor).
const C = { blue: '#2563eb', red: '#dc2626', green: '#16a34a', amber: '#d97706', purple: '#7c3aed', grid: '#e5e7eb' };
const hhmm = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function base(extra = {}) {
  return {
    responsive: true, maintainAspectRatio: false, animation: false,
    plugins: { legend: { display: false } },
    scales: { x: { grid: { display: false }, ticks: { maxTicksLimit: 8 } }, y: { beginAtZero: true, grid: { color: C.grid } } },
    ...extra,
  };
}

export function makeCharts(section) {
  const Chart = window.Chart;
  if (!Chart) return null;
  const canvas = (name) => section.querySelector(`canvas[data-chart="${name}"]`);
  return {
    perMinute: new Chart(canvas('per-minute'), { type: 'bar', data: { labels: [], datasets: [{ label: 'Calls', data: [], backgroundColor: C.blue }] }, options: base() }),
    abandon: new Chart(canvas('abandon'), {
      type: 'line',
      data: { labels: [], datasets: [
        { label: 'Abandon rate', data: [], borderColor: C.red, backgroundColor: 'rgba(220,38,38,.12)', fill: true, tension: 0.25, spanGaps: true },
        { label: 'Cap', data: [], borderColor: '#111827', borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 },
      ] },
      options: base({ plugins: { legend: { display: true, position: 'bottom', labels: { boxWidth: 12 } } },
        scales: { x: { grid: { display: false } }, y: { beginAtZero: true, ticks: { callback: (v) => `${(v * 100).toFixed(1)}%` } } } }),
    }),
    states: new Chart(canvas('states'), {
      type: 'bar',
      data: { labels: [], datasets: [
        { label: 'On call / wrap-up', data: [], backgroundColor: C.blue },
        { label: 'Available', data: [], backgroundColor: C.green },
        { label: 'Paused', data: [], backgroundColor: C.amber },
      ] },
      options: base({ plugins: { legend: { display: true, position: 'bottom', labels: { boxWidth: 12 } } },
        scales: { x: { stacked: true, grid: { display: false } }, y: { stacked: true, beginAtZero: true, title: { display: true, text: 'agent minutes' } } } }),
    }),
  };
}

export function updateCharts(charts, board) {
  if (!charts) return;
  const pm = board.per_minute || [];
  charts.perMinute.data.labels = pm.map((p) => hhmm(p.at));
  charts.perMinute.data.datasets[0].data = pm.map((p) => p.calls);
  charts.perMinute.update('none');
  const hourly = board.hourly || [];
  const labels = hourly.map((h) => hhmm(h.at));
  charts.abandon.data.labels = labels;
  charts.abandon.data.datasets[0].data = hourly.map((h) => h.abandon_rate);
  charts.abandon.data.datasets[1].data = hourly.map(() => board.abandon_cap);
  charts.abandon.options.scales.y.suggestedMax = board.abandon_cap * 1.5;
  charts.abandon.update('none');
  charts.states.data.labels = labels;
  const min = (s) => Math.round(s / 60);
  charts.states.data.datasets[0].data = hourly.map((h) => min(h.occupied_seconds));
  charts.states.data.datasets[1].data = hourly.map((h) => min(h.available_seconds));
  charts.states.data.datasets[2].data = hourly.map((h) => min(h.paused_seconds));
  charts.states.update('none');
}
