// Every campaign setting, with the law's limit shown beside the field it governs.
export const SECTIONS = [
  ['Campaign', [
    { name: 'name', label: 'Name', required: true },
    { name: 'dial_mode', label: 'Dial mode', type: 'select', options: [['preview', 'Preview (agents choose each call)'],
      ['progressive', 'Progressive (one call per ready agent)'], ['predictive', 'Predictive (the pacer decides, within 3% abandonment)']] },
    { name: 'description', label: 'Description', type: 'textarea', wide: true },
    { name: 'timezone', label: 'Reporting time zone', placeholder: 'America/New_York' },
    { name: 'default_region', label: 'Default phone region', placeholder: 'US' },
  ]],
  ['Calling rules', [
    { name: 'window_start', label: 'Calling window starts (callee local time)', type: 'time', law: 'Not before 08:00 in the callee\'s local time (FTC TSR 310.4(c); FCC 64.1200(c)(1)).' },
    { name: 'window_end', label: 'Calling window ends (callee local time)', type: 'time', law: 'Not after 21:00 in the callee\'s local time.' },
    { name: 'ring_timeout_seconds', label: 'Ring timeout (seconds)', type: 'number', min: 15, max: 120, law: 'At least 15 seconds or 4 rings (FCC 64.1200(a)(6)).' },
    { name: 'max_abandon_rate', label: 'Maximum abandonment rate (%)', type: 'number', step: '0.1', min: 0.1, max: 3, percent: true,
      law: 'At most 3% of calls answered by a person, abandoned (not connected to an agent within 2 seconds), per campaign over each 30 days (FTC TSR 310.4(b)(4)(i)). Type 3 for 3%.' },
    { name: 'caller_id', label: 'Caller ID (E.164)', required: true, placeholder: '+12025550123', law: 'Transmitted on every call (FTC TSR 310.4(a)(8)).' },
    { name: 'max_attempts', label: 'Maximum attempts per contact', type: 'number', min: 1, max: 50 },
    { name: 'scrub_national_registry', label: 'Scrub against the National Do Not Call Registry', type: 'checkbox',
      law: 'No sales calls to numbers on the registry, checked against a copy at most 31 days old (FTC TSR 310.4(b)(1)(iii)(B); FCC 64.1200(c)(2)).' },
  ]],
  ['Retries (seconds)', [
    { name: 'retry_busy_seconds', label: 'After busy', type: 'number', min: 0 },
    { name: 'retry_no_answer_seconds', label: 'After no answer', type: 'number', min: 0 },
    { name: 'retry_machine_seconds', label: 'After answering machine', type: 'number', min: 0 },
    { name: 'retry_failed_seconds', label: 'After failure', type: 'number', min: 0 },
  ]],
  ['Seller and messages', [
    { name: 'seller_name', label: 'Seller name', required: true },
    { name: 'seller_phone', label: 'Seller phone (E.164)', required: true, placeholder: '+12025550123' },
    { name: 'safe_harbour_message', label: 'Safe-harbour message (abandoned calls)', type: 'textarea', wide: true, required: true,
      law: 'Must state the seller\'s name and phone number, played within 2 seconds, with a keypress opt-out (FTC TSR 310.4(b)(4)(iii)). Placeholders {seller_name} and {seller_phone} work.' },
    { name: 'amd_enabled', label: 'Answering-machine detection', type: 'checkbox' },
    { name: 'machine_action', label: 'On a machine', type: 'select', options: [['hangup', 'Hang up'], ['message', 'Leave the machine message']] },
    { name: 'machine_message', label: 'Machine message', type: 'textarea', wide: true, law: 'A prerecorded message must identify the seller and give a phone number (FCC 64.1200(b)); it is left only for contacts with written consent on record (64.1200(a)(2)-(3)), others are hung up on.' },
    { name: 'recording_enabled', label: 'Record calls (from the moment an agent is connected)', type: 'checkbox' },
    { name: 'recording_retention_days', label: 'Keep recordings for (days; empty: keep)', type: 'number', min: 1, max: 3650,
      law: 'Recordings older than this are deleted at the carrier; a call on legal hold keeps its recording. Call records are kept 5 years regardless.' },
    { name: 'script', label: 'Agent script', type: 'textarea', wide: true, rows: 6 },
  ]],
  ['Calls to our numbers', [
    { name: 'inbound_max_wait_seconds', label: 'Longest wait for an agent (seconds)', type: 'number', min: 10, max: 3600,
      note: 'Within the campaign\'s hours a caller waits this long in the queue; then they may leave a voicemail that becomes a callback.' },
    { name: 'inbound_keep_agents', label: 'Agents kept for calls to us', type: 'number', min: 0, max: 500,
      note: 'Ready agents the dialer does not dial for, so callers reach someone; one more is kept for each caller waiting.' },
    { name: 'inbound_hold_message', label: 'Hold message (callers waiting)', type: 'textarea', wide: true,
      note: 'Their place in the queue is said after it: "You are caller number 2."' },
  ]],
];

export const FIELD_NAMES = SECTIONS.flatMap(([, fields]) => fields.map((f) => f.name));

// Settings the page shows and takes as percentages while the API keeps fractions (3 means 3%).
export const PERCENT_FIELDS = new Set(SECTIONS.flatMap(([, fields]) => fields.filter((f) => f.percent).map((f) => f.name)));

// What people call each field, for the form's summary of what to correct.
export const FIELD_LABELS = Object.fromEntries(SECTIONS.flatMap(([, fields]) => fields.map((f) => [f.name, f.label])));

export const toPercent = (fraction) => (fraction === null || fraction === undefined || fraction === '' ? ''
  : String(Math.round(Number(fraction) * 100 * 100) / 100));
export const fromPercent = (percent) => Math.round(Number(percent) * 100) / 10000;

// "Please correct: Caller ID, Maximum abandonment rate (%)." from an API error's fields.
export function errorSummary(error, labels = FIELD_LABELS) {
  const names = Object.keys(error.fields || {});
  if (!names.length) return error.message;
  const known = names.map((n) => labels[n]).filter(Boolean);
  return known.length ? `Please correct: ${known.join(', ')}.` : 'Please correct the fields marked below.';
}
