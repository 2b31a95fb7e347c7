// Holdfast dashboard: reads the JSON API (/api/v1/...) every second and draws it. Every value from
// the server is written with textContent, never as HTML. No libraries, nothing from the network.
'use strict';

const state = {
  token: sessionStorage.getItem('holdfast.token'),
  prefix: '',
  locksAfter: null, locksNext: null,
  sessionsAfter: null, sessionsNext: null,
  admin: false,
  leader: true,
  leaderKnown: true,    // a revoke is possible: this node leads, or forwards to the leader it knows
  armed: null,          // the lock name whose revoke button waits for a confirming click
  busy: false,
  again: false,         // a redraw was asked for while one was in flight: run one more after it
};

const $ = (id) => document.getElementById(id);

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (state.token) headers['Authorization'] = 'Bearer ' + state.token;
  const response = await fetch('/api/v1/' + path, Object.assign({}, options, { headers, cache: 'no-store' }));
  let body = null;
  let text = '';
  try { text = await response.text(); body = JSON.parse(text); } catch (e) { body = null; }
  // Fencing tokens are exact 64-bit integers; a JavaScript number is exact only up to 2^53.
  const token = path === 'status' ? /"lastToken":\s*(\d+)/.exec(text) : null;
  if (body && token) body.lastToken = token[1];
  if (!response.ok) {
    const err = new Error(body && body.error ? body.error.message : 'HTTP ' + response.status);
    err.status = response.status;
    err.code = body && body.error ? body.error.code : null;
    throw err;
  }
  return body;
}

function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return ms + ' ms';
  const s = ms / 1000;
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' min ' + Math.floor(s % 60) + ' s';
  return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
}

function cell(row, text, cls) {
  const td = document.createElement('td');
  if (cls) td.className = cls;
  if (text instanceof Node) td.appendChild(text); else td.textContent = text === null || text === undefined ? '—' : String(text);
  row.appendChild(td);
  return td;
}

function badge(role) {
  const b = document.createElement('span');
  b.className = 'badge ' + role;
  b.textContent = role;
  return b;
}

function shortId(id) { return id && id.length > 12 ? id.slice(0, 8) + '…' : id; }

// Requests this node refused as leader because a majority had not answered it within its lease:
// late followers or a starved machine. Marked when any.
function leaseRefusals(counts) {
  const span = document.createElement('span');
  span.id = 'lease-refusals';
  const parts = Object.keys(counts).map((k) => counts[k] + ' ' + k + (counts[k] === 1 ? '' : 's'));
  const total = Object.keys(counts).reduce((sum, k) => sum + counts[k], 0);
  span.textContent = 'lease check refused ' + (parts.length ? parts.join(', ') : 'none');
  span.title = 'requests refused as leader because a majority of the members had not answered within the lease';
  if (total > 0) span.className = 'late';
  return span;
}

function renderStatus(status) {
  const node = $('node');
  node.textContent = '';
  node.append('node ' + status.id + ' ', badge(status.role),
    ' leader ' + (status.leader || 'unknown') + ' · term ' + status.term +
    ' · commit ' + status.commitIndex + ' · applied ' + status.appliedIndex +
    ' · protocol v' + status.clusterVersion + ' · last fencing token ' + status.lastToken + ' · ',
    leaseRefusals(status.leaseCheckRefusals || {}));
  state.leader = status.role === 'leader';
  // A follower forwards a revoke to the leader (ADR 0003): the buttons work wherever a leader is known.
  state.leaderKnown = !!status.leader;
  const banner = $('banner');
  if (!status.leader) {
    banner.textContent = 'No leader is known: the cluster cannot grant locks until a majority of members can talk.';
    banner.className = 'banner bad';
  } else if (!state.leader) {
    const leader = status.members.find((m) => m.id === status.leader);
    banner.textContent = 'This node (' + status.id + ') is a follower: what you see is its replica, which may lag by a few milliseconds. ' +
      'A revoke here is sent to the leader ' + status.leader + (leader ? ' (clients at ' + leader.clientAddress + ')' : '') + '.';
    banner.className = 'banner';
  } else {
    banner.className = 'banner hidden';
  }
  const body = $('members').tBodies[0];
  body.textContent = '';
  for (const m of status.members) {
    const tr = body.insertRow();
    cell(tr, m.id + (m.self ? ' (this node)' : ''));
    cell(tr, badge(m.role));
    cell(tr, m.raftAddress, 'mono');
    cell(tr, m.clientAddress, 'mono');
    const late = m.lastContactMillis !== null && m.lastContactMillis > 2000;
    cell(tr, m.self ? '—' : m.lastContactMillis === null ? 'unknown' : duration(m.lastContactMillis) + ' ago', late ? 'late' : '');
  }
}

function revokeButton(name) {
  const button = document.createElement('button');
  button.type = 'button';
  button.dataset.lock = name;
  if (state.armed === name) {
    button.textContent = 'confirm revoke';
    button.className = 'confirm';
  } else {
    button.textContent = 'revoke';
    button.className = 'danger';
  }
  button.disabled = !state.leaderKnown;
  button.title = !state.leaderKnown ? 'no leader is known: nothing can be revoked until one is elected'
    : 'take every grant of ' + name + ' away from its holders' + (state.leader ? '' : ' (sent to the leader by this node)');
  button.addEventListener('click', () => onRevoke(name));
  return button;
}

async function onRevoke(name) {
  if (state.armed !== name) {
    state.armed = name;
    await refresh();
    return;
  }
  state.armed = null;
  try {
    const r = await api('revoke', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name }) });
    $('action-result').textContent = 'Revoked ' + r.revoked + ' grant(s) of ' + name + '.';
    $('action-result').className = 'muted';
  } catch (e) {
    $('action-result').textContent = 'Revoke of ' + name + ' refused: ' + e.message;
    $('action-result').className = 'error';
  }
  await refresh();
}

function renderLocks(page) {
  const body = $('locks').tBodies[0];
  body.textContent = '';
  for (const lock of page.locks) {
    const holders = lock.holders.length ? lock.holders : [null];
    holders.forEach((h, i) => {
      const tr = body.insertRow();
      tr.dataset.lock = lock.name;
      cell(tr, i === 0 ? lock.name + (lock.semaphore ? ' (semaphore of ' + lock.maxPermits + ')' : '') : '', 'name');
      if (h) {
        const who = document.createElement('span');
        who.textContent = h.clientName + ' ';
        const sid = document.createElement('span');
        sid.className = 'muted mono';
        sid.textContent = shortId(h.sessionId);
        sid.title = h.sessionId;
        who.appendChild(sid);
        cell(tr, who, 'holder');
        cell(tr, h.mode + (lock.semaphore ? ' ×' + h.permits : ''));
        cell(tr, h.token, 'mono token');
        cell(tr, duration(h.heldForMillis));
        cell(tr, h.leaseLeftMillis === null ? 'no lease' : duration(h.leaseLeftMillis));
      } else {
        cell(tr, 'free (lock-delay or waiters only)', 'muted');
        cell(tr, ''); cell(tr, ''); cell(tr, ''); cell(tr, '');
      }
      if (i === 0) {
        const list = document.createElement('ol');
        list.className = 'waiters';
        for (const w of lock.waiters) {
          const li = document.createElement('li');
          li.textContent = w.clientName + ' (' + w.mode + ', waiting ' + duration(w.waitingForMillis) + ', ' + duration(w.timeLeftMillis) + ' left)';
          li.title = w.sessionId;
          list.appendChild(li);
        }
        cell(tr, lock.waiters.length ? list : 'none', 'waiters');
        cell(tr, lock.holders.length && state.admin ? revokeButton(lock.name) : '');
      } else {
        cell(tr, ''); cell(tr, '');
      }
    });
  }
  if (!page.locks.length) {
    const tr = body.insertRow();
    cell(tr, state.prefix ? 'No lock starts with ' + state.prefix + '.' : 'No lock is held or waited for.', 'muted').colSpan = 8;
  }
  state.locksNext = page.next;
  $('locks-next').disabled = !page.next;
  $('locks-first').disabled = !state.locksAfter;
  $('locks-count').textContent = page.locks.length + ' shown' + (page.linearizable ? '' : ' · from this replica');
}

// An election is a lock whose register of the same name proclaims its holder's token as the epoch.
function renderElections(page) {
  const body = $('elections').tBodies[0];
  body.textContent = '';
  for (const e of page.elections) {
    const tr = body.insertRow();
    tr.dataset.election = e.name;
    cell(tr, e.name, 'name');
    const who = document.createElement('span');
    who.textContent = e.clientName + ' ';
    const sid = document.createElement('span');
    sid.className = 'muted mono';
    sid.textContent = shortId(e.sessionId);
    sid.title = e.sessionId;
    who.appendChild(sid);
    cell(tr, who, 'holder');
    cell(tr, e.value, 'mono value');
    cell(tr, e.epoch, 'mono epoch');
    cell(tr, duration(e.leadingForMillis));
    cell(tr, e.candidates);
  }
  if (!page.elections.length) {
    const tr = body.insertRow();
    cell(tr, state.prefix ? 'No election starts with ' + state.prefix + '.' : 'Nobody leads an election.', 'muted').colSpan = 6;
  }
}

// A key's value as text when it is printable UTF-8, as a counter when it is 8 other bytes, else its size.
function keyValue(base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (!/[\u0000-\u001f\u007f]/.test(text)) return text;
  } catch (e) { /* not UTF-8 */ }
  if (bytes.length === 8) return 'counter ' + new DataView(bytes.buffer).getBigInt64(0).toString();
  return bytes.length + ' bytes';
}

// Keys are read at the leader only: a follower's page says so instead of failing the whole page.
function renderKeys(page, error) {
  const body = $('keys').tBodies[0];
  body.textContent = '';
  for (const k of page ? page.keys : []) {
    const tr = body.insertRow();
    tr.dataset.key = k.key;
    cell(tr, k.key, 'name');
    cell(tr, keyValue(k.value), 'mono value');
    cell(tr, k.version, 'mono');
    const owner = cell(tr, k.owner ? shortId(k.owner) : 'none', 'mono');
    if (k.owner) owner.title = k.owner;
  }
  if (!page || !page.keys.length) {
    const why = error ? (error.code === 'NOT_LEADER' ? 'Keys are read at the leader: open its dashboard.' : error.message)
      : state.prefix ? 'No key starts with ' + state.prefix + '.' : 'No key is written.';
    cell(body.insertRow(), why, 'muted').colSpan = 4;
  }
}

function renderSessions(page) {
  const body = $('sessions').tBodies[0];
  body.textContent = '';
  for (const s of page.sessions) {
    const tr = body.insertRow();
    const id = cell(tr, shortId(s.id), 'mono');
    id.title = s.id;
    cell(tr, s.clientName);
    cell(tr, s.host);
    cell(tr, s.identity);
    cell(tr, duration(s.ttlMillis));
    cell(tr, s.ttlLeftMillis === null ? (state.leader ? '—' : 'ask the leader') : duration(s.ttlLeftMillis));
    cell(tr, s.holds);
    cell(tr, s.waits);
    cell(tr, duration(s.openForMillis));
  }
  if (!page.sessions.length) {
    const tr = body.insertRow();
    cell(tr, 'No session is open.', 'muted').colSpan = 9;
  }
  state.sessionsNext = page.next;
  $('sessions-next').disabled = !page.next;
  $('sessions-first').disabled = !state.sessionsAfter;
}

function showLogin(message) {
  $('main').classList.add('hidden');
  $('login').classList.remove('hidden');
  $('login-error').textContent = message || '';
}

async function refresh() {
  if (state.busy) {
    // One more redraw as soon as this one ends: what the user just did (a click, a prefix) is drawn
    // then, not at the next tick of the 1 s poll.
    state.again = true;
    return;
  }
  state.busy = true;
  state.again = false;
  try {
    const who = await api('whoami');
    state.admin = who.admin;
    $('identity').textContent = who.identity ? 'signed in as ' + who.identity + (who.admin ? ' (admin)' : '') : '';
    $('login').classList.add('hidden');
    $('main').classList.remove('hidden');
    const q = (after) => 'limit=100' + (after ? '&after=' + encodeURIComponent(after) : '');
    const [status, locks, sessions, elections, keys] = await Promise.all([
      api('status'),
      api('locks?prefix=' + encodeURIComponent(state.prefix) + '&' + q(state.locksAfter)),
      api('sessions?' + q(state.sessionsAfter)),
      api('elections?prefix=' + encodeURIComponent(state.prefix) + '&' + q(state.locksAfter)),
      api('keys?prefix=' + encodeURIComponent(state.prefix) + '&limit=100').catch((e) => ({ error: e })),
    ]);
    renderStatus(status);
    renderLocks(locks);
    renderElections(elections);
    renderKeys(keys.error ? null : keys, keys.error);
    renderSessions(sessions);
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (e) {
    if (e.status === 401) {
      state.token = null;
      sessionStorage.removeItem('holdfast.token');
      showLogin(e.message);
    } else {
      $('banner').textContent = 'Cannot read the cluster state from this node: ' + e.message;
      $('banner').className = 'banner bad';
    }
  } finally {
    state.busy = false;
    if (state.again) refresh();
  }
}

function init() {
  $('login').addEventListener('submit', (ev) => {
    ev.preventDefault();
    state.token = $('token').value.trim();
    sessionStorage.setItem('holdfast.token', state.token);
    refresh();
  });
  $('prefix').addEventListener('input', () => {
    state.prefix = $('prefix').value;
    state.locksAfter = null;
    refresh();
  });
  $('locks-next').addEventListener('click', () => { state.locksAfter = state.locksNext; refresh(); });
  $('locks-first').addEventListener('click', () => { state.locksAfter = null; refresh(); });
  $('sessions-next').addEventListener('click', () => { state.sessionsAfter = state.sessionsNext; refresh(); });
  $('sessions-first').addEventListener('click', () => { state.sessionsAfter = null; refresh(); });
  setInterval(() => { if ($('live').checked) refresh(); }, 1000);
  refresh();
}

document.addEventListener('DOMContentLoaded', init);
