// The watch page's chat panel (docs/API.md, "Chat protocol"). watch.js creates it and tells it
// what the page is doing (update(status, mode)); it runs in one of two modes:
//
//   live    a WebSocket to /ws/broadcasts/<id>: the history, then new messages. Sending needs a
//           guest token (POST /api/v1/auth/guest with the name typed in; kept in localStorage).
//           A lost connection is retried with a growing back-off (1 s .. 30 s) and
//           ?since=<last offset seen>: the server sends exactly what was missed, so nothing is
//           shown twice, and when it no longer has it ("history_gap") the panel says so.
//   replay  the broadcast ended and the recording plays: messages are fetched in windows of
//           media time ahead of the playhead (GET /api/v1/broadcasts/<id>/chat?from=&to=) and
//           each is shown when video.currentTime passes its position; seeking starts over.
//
// User text reaches the page only through textContent, never as HTML.
//
// For tests and styling: #chat carries data-mode (live|replay|""), data-state (connecting|
// connected|reconnecting|"") and data-auth (user|anonymous: the current connection's); each
// message is an li.chat-message with data-offset, data-position and data-user; the inline
// send error #chat-send-error carries data-code (the server's refusal code).

const GUEST_KEY = 'livehouse.guest';
const MIN_RECONNECT_MS = 1000;
const MAX_RECONNECT_MS = 30000;
const MAX_SHOWN = 300;          // messages kept in the list; older ones are dropped
const REPLAY_WINDOW_S = 60;     // media seconds per replay request
const REPLAY_LOOKAHEAD_S = 20;  // fetch the next window this far ahead of the playhead
const REPLAY_CONTEXT_S = 30;    // after a seek, also show the messages this long before it
const REPLAY_RETRY_MS = 3000;
const REPLAY_BACK_S = 0.25;     // the playhead this far behind a shown message: start over
const STICKY_SCROLL_PX = 40;    // "at the bottom" if within this of it: keep following

/** What a refusal ({"type":"error","code"}) tells the viewer; others show the server's text. */
const REFUSALS = {
  rate_limited: 'You are sending messages too fast — wait a moment and try again.',
  muted: 'A moderator muted you in this room.',
  banned_word: 'Your message contains a word that is not allowed here.',
  broadcast_ended: 'The broadcast has ended; the chat is closed.',
  auth_required: 'Enter a name to chat.',
  text_empty: 'Type a message first.',
  unavailable: 'The chat is unavailable right now — try again.',
};

const byId = (id) => document.getElementById(id);

/** "¥500", "$5.00" from an amount in the currency's smallest unit. */
function formatAmount({amount, currency}) {
  try {
    const format = new Intl.NumberFormat(undefined, {style: 'currency', currency});
    const digits = format.resolvedOptions().maximumFractionDigits;
    return format.format(amount / 10 ** digits);
  } catch {
    return `${amount} ${currency}`; // not a currency Intl knows
  }
}

/** "1:05" for 65 s of media. */
function formatPosition(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Seconds for the replay query: plain decimal (the server takes no exponents). */
function formatSeconds(s) {
  return String(Math.round(s * 1000) / 1000);
}

function loadGuest() {
  try {
    const g = JSON.parse(localStorage.getItem(GUEST_KEY) ?? 'null');
    if (g?.token && g.user?.id && Date.parse(g.expires_at) > Date.now() + 60000) return g;
  } catch {
    // unreadable or unavailable storage: sign in again
  }
  return null;
}

function saveGuest(g) {
  try {
    if (g) localStorage.setItem(GUEST_KEY, JSON.stringify(g));
    else localStorage.removeItem(GUEST_KEY);
  } catch {
    // storage unavailable (private mode): the token lives as long as the page
  }
}

export class ChatPanel {
  /**
   * @param {object} o
   * @param {string} o.broadcastId
   * @param {HTMLVideoElement} o.video the player, whose currentTime drives the replay
   */
  /** `onLove(total)`: the room's love total ({"type":"love"}), for the heart panel. */
  constructor({broadcastId, video, onLove = null}) {
    this.broadcastId = broadcastId;
    this.video = video;
    this.onLove = onLove;
    this.el = {
      panel: byId('chat'),
      list: byId('chat-messages'),
      notice: byId('chat-notice'),
      nameForm: byId('chat-name-form'),
      nameInput: byId('chat-name'),
      nameError: byId('chat-name-error'),
      sendForm: byId('chat-send-form'),
      who: byId('chat-who'),
      changeName: byId('chat-change-name'),
      textInput: byId('chat-text'),
      sendButton: byId('chat-send'),
      sendError: byId('chat-send-error'),
    };
    this.mode = '';
    this.guest = loadGuest();
    this.ended = false;  // the broadcast ended: the room takes no more messages
    this.muted = false;  // a moderator muted this viewer
    // live
    this.ws = null;
    this.lastOffset = null;  // newest log offset seen; null before the first history
    this.gapNotice = null;   // a "history_gap" waiting for the history that follows it
    this.reconnectDelay = MIN_RECONNECT_MS;
    this.reconnectTimer = 0;
    this.pending = new Map(); // ref -> text, until its ack or refusal
    this.refSeq = 0;
    // replay
    this.replay = null;

    this.el.nameForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.signIn(this.el.nameInput.value.trim());
    });
    this.el.changeName.addEventListener('click', () => this.showNameForm());
    this.el.sendForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.send();
    });
    this.el.textInput.addEventListener('input', () => this.showSendError(null));
    for (const type of ['timeupdate', 'playing', 'seeked']) {
      video.addEventListener(type, () => this.replayTick());
    }
    video.addEventListener('seeking', () => this.replaySeek());
    video.addEventListener('ended', () => this.replayTick(Infinity));
  }

  get apiPath() {
    return `/api/v1/broadcasts/${encodeURIComponent(this.broadcastId)}`;
  }

  /** Follows the page: `status` is the broadcast's, `playerMode` is live|vod|"". */
  update(status, playerMode) {
    if (playerMode === 'vod') {
      if (this.mode !== 'replay') this.startReplay();
    } else if (['idle', 'live', 'suspended', 'ended'].includes(status)) {
      if (this.mode !== 'live') this.startLive();
      this.setEnded(status === 'ended');
    } else if (status === 'not_found') {
      this.stopLive();
      this.setMode('');
    }
  }

  setMode(mode) {
    this.mode = mode;
    this.el.panel.dataset.mode = mode;
  }

  // --- the message list --------------------------------------------------------------------

  clearList() {
    this.el.list.replaceChildren();
  }

  /** Appends `li`, drops the oldest past MAX_SHOWN, follows the bottom if the viewer was there. */
  append(li) {
    const list = this.el.list;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < STICKY_SCROLL_PX;
    list.append(li);
    while (list.childElementCount > MAX_SHOWN) list.firstElementChild.remove();
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  addMessage(m) {
    const li = document.createElement('li');
    li.className = 'chat-message';
    li.dataset.offset = String(m.offset);
    li.dataset.position = String(m.position ?? 0);
    li.dataset.user = m.user?.id ?? '';
    if (this.guest && m.user?.id === this.guest.user.id) li.classList.add('chat-own');

    const when = document.createElement('span');
    when.className = 'chat-time';
    if (this.mode === 'replay') {
      when.textContent = formatPosition(m.position ?? 0);
    } else if (Number.isFinite(m.time)) {
      when.textContent = new Date(m.time).toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'});
    }
    const name = document.createElement('span');
    name.className = 'chat-user';
    name.textContent = m.user?.name ?? '?';
    li.append(when, name);
    if (m.paid && Number.isInteger(m.paid.amount) && typeof m.paid.currency === 'string') {
      li.classList.add('chat-paid');
      const amount = document.createElement('span');
      amount.className = 'chat-amount';
      amount.textContent = formatAmount(m.paid);
      li.append(amount);
    }
    const text = document.createElement('span');
    text.className = 'chat-text';
    text.textContent = m.text ?? '';
    li.append(text);
    this.append(li);
  }

  /** A line from the panel itself (skipped messages, gaps, mutes). */
  addSystem(message) {
    const li = document.createElement('li');
    li.className = 'chat-system';
    li.textContent = message;
    this.append(li);
  }

  removeMessage(offset) {
    this.el.list.querySelector(`li.chat-message[data-offset="${Number(offset)}"]`)?.remove();
  }

  showNotice(message) {
    this.el.notice.textContent = message ?? '';
    this.el.notice.hidden = !message;
  }

  // --- signing in and sending --------------------------------------------------------------

  showNameForm() {
    this.el.nameForm.hidden = false;
    this.el.sendForm.hidden = true;
    this.el.nameInput.value = this.guest?.user.name ?? '';
    this.el.nameInput.focus();
  }

  /** Shows the name box or the send box, for live mode. */
  showForms() {
    const live = this.mode === 'live';
    this.el.nameForm.hidden = !live || Boolean(this.guest);
    this.el.sendForm.hidden = !live || !this.guest;
    if (this.guest) this.el.who.textContent = this.guest.user.name;
  }

  async signIn(name) {
    if (!name) return;
    const button = this.el.nameForm.querySelector('button');
    button.disabled = true;
    this.el.nameError.hidden = true;
    let error = null;
    try {
      const r = await fetch('/api/v1/auth/guest', {
        method: 'POST',
        headers: {'Content-Type': 'application/json', Accept: 'application/json'},
        body: JSON.stringify({name}),
      });
      const body = await r.json().catch(() => ({}));
      if (r.status === 201 && body.token) {
        this.guest = body;
        saveGuest(body);
      } else if (r.status === 429) {
        error = `Too many new names right now — try again in ${r.headers.get('Retry-After') ?? 'a few'} s.`;
      } else {
        error = body.error ?? `The server refused the name (HTTP ${r.status}).`;
      }
    } catch {
      error = 'Cannot reach the server — try again.';
    } finally {
      button.disabled = false;
    }
    if (error) {
      this.el.nameError.textContent = error;
      this.el.nameError.hidden = false;
      return;
    }
    this.showForms();
    this.el.textInput.focus();
    if (this.mode === 'live') this.reconnectNow(); // the token goes in the WebSocket's query
  }

  /** Drops a token the server no longer takes (expired, secret changed). */
  async checkGuest() {
    const g = this.guest;
    if (!g) return;
    try {
      const r = await fetch('/api/v1/auth/me', {headers: {Authorization: `Bearer ${g.token}`}});
      if (r.status !== 401 || this.guest !== g) return;
    } catch {
      return; // the server is unreachable: the token may well be fine
    }
    this.guest = null;
    saveGuest(null);
    this.showForms();
  }

  send() {
    const text = this.el.textInput.value;
    if (!text.trim() || this.ended || this.muted) return;
    if (this.ws?.readyState !== WebSocket.OPEN || this.el.panel.dataset.state !== 'connected') {
      this.showSendError('offline', 'Not connected — reconnecting, try again in a moment.');
      return;
    }
    this.refSeq += 1;
    const ref = `c-${this.refSeq}`;
    this.pending.set(ref, text);
    this.ws.send(JSON.stringify({type: 'send', text, ref}));
    this.el.textInput.value = '';
    this.showSendError(null);
  }

  showSendError(code, message) {
    const e = this.el.sendError;
    e.hidden = !code;
    e.dataset.code = code ?? '';
    e.textContent = code ? message : '';
  }

  setEnded(ended) {
    this.ended = ended;
    this.updateSendBox();
  }

  setMuted() {
    this.muted = true;
    this.updateSendBox();
  }

  /** Sending is off once the broadcast ended or this viewer is muted; the placeholder says why. */
  updateSendBox() {
    const why = this.muted ? REFUSALS.muted : this.ended ? REFUSALS.broadcast_ended : null;
    this.el.textInput.disabled = Boolean(why);
    this.el.sendButton.disabled = Boolean(why);
    this.el.textInput.placeholder = why ?? 'Say something…';
  }

  // --- live ----------------------------------------------------------------------------------

  startLive() {
    this.stopReplay();
    this.setMode('live');
    this.showNotice(null);
    this.showForms();
    if (this.guest) this.checkGuest();
    this.connect();
  }

  stopLive() {
    clearTimeout(this.reconnectTimer);
    const ws = this.ws;
    this.ws = null; // its close event is then ignored
    ws?.close();
    this.pending.clear();
    this.el.panel.dataset.state = '';
  }

  reconnectNow() {
    this.stopLive();
    this.reconnectDelay = MIN_RECONNECT_MS;
    this.connect();
  }

  connect() {
    const q = new URLSearchParams();
    if (this.guest) q.set('token', this.guest.token);
    if (this.lastOffset !== null) q.set('since', String(this.lastOffset));
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const qs = q.toString();
    const url = `${scheme}://${location.host}/ws/broadcasts/${encodeURIComponent(this.broadcastId)}` +
        (qs ? `?${qs}` : '');
    const ws = new WebSocket(url);
    let opened = false;
    this.ws = ws;
    this.el.panel.dataset.state = this.lastOffset === null ? 'connecting' : 'reconnecting';
    this.el.panel.dataset.auth = this.guest ? 'user' : 'anonymous';
    ws.addEventListener('open', () => {
      opened = true;
    });
    ws.addEventListener('message', (e) => {
      if (this.ws === ws) this.onFrame(e.data);
    });
    ws.addEventListener('close', () => {
      if (this.ws !== ws) return; // replaced or stopped on purpose
      this.ws = null;
      this.pending.clear();
      // Refused before the upgrade: a token the server no longer takes is the likely cause.
      if (!opened && this.guest) this.checkGuest();
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    // Jitter (50..100 % of the delay) so a restarted server is not met by every viewer at once.
    const wait = this.reconnectDelay * (0.5 + Math.random() / 2);
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, MAX_RECONNECT_MS);
    this.el.panel.dataset.state = 'reconnecting';
    this.showNotice('Chat disconnected — reconnecting…');
    this.reconnectTimer = setTimeout(() => {
      if (this.mode === 'live' && !this.ws) this.connect();
    }, wait);
  }

  onFrame(data) {
    let m;
    try {
      m = JSON.parse(data);
    } catch {
      return;
    }
    switch (m?.type) {
      case 'history':
        this.onHistory(m);
        break;
      case 'message':
      case 'delete':
        this.applyEntry(m);
        break;
      case 'ack':
        this.pending.delete(m.ref);
        break;
      case 'error':
        this.onRefusal(m);
        break;
      case 'muted':
        this.onMuted(String(m.user ?? ''));
        break;
      case 'unmuted':
        this.onUnmuted(String(m.user ?? ''));
        break;
      case 'skipped':
        this.addSystem(`${m.count} message${m.count === 1 ? '' : 's'} skipped`);
        break;
      case 'status':
        this.setEnded(m.status === 'ended');
        break;
      case 'love':
        this.onLove?.(m.total);
        break;
      default:
        break; // a newer server's message: nothing to do with it
    }
  }

  onHistory(h) {
    if (!h.resumed) {
      if (this.gapNotice && this.lastOffset !== null) {
        // The missed messages are gone: keep what is shown, mark the gap, add the latest.
        // The latest are all newer than lastOffset (that is why there is a gap).
        this.addSystem(`Some messages were missed while disconnected (${this.gapNotice})`);
      } else {
        this.clearList();
        this.lastOffset = null;
      }
    }
    this.gapNotice = null;
    for (const e of h.messages ?? []) this.applyEntry(e);
    if (Number.isInteger(h.next_offset) && h.next_offset > 0) {
      this.lastOffset = Math.max(this.lastOffset ?? 0, h.next_offset - 1);
    }
    this.reconnectDelay = MIN_RECONNECT_MS;
    this.el.panel.dataset.state = 'connected';
    this.showNotice(null);
  }

  /** A log entry (message or delete), once: entries at or below lastOffset were seen. */
  applyEntry(e) {
    if (!Number.isInteger(e?.offset)) return;
    if (this.lastOffset !== null && e.offset <= this.lastOffset) return;
    this.lastOffset = e.offset;
    if (e.type === 'message') this.addMessage(e);
    else if (e.type === 'delete') this.removeMessage(e.target);
  }

  onRefusal(err) {
    if (err.code === 'history_gap') {
      this.gapNotice = err.message ?? 'history gap';
      return;
    }
    const text = this.pending.get(err.ref);
    this.pending.delete(err.ref);
    // Give the refused text back for editing, unless something new was typed meanwhile.
    if (text !== undefined && this.el.textInput.value === '') this.el.textInput.value = text;
    this.showSendError(err.code ?? 'error', REFUSALS[err.code] ?? `Not sent: ${err.message ?? err.code}`);
    if (err.code === 'muted') this.setMuted();
    if (err.code === 'broadcast_ended') this.setEnded(true);
    if (err.code === 'auth_required') this.checkGuest();
  }

  onMuted(userId) {
    if (this.guest && userId === this.guest.user.id) {
      this.setMuted();
      this.showSendError('muted', REFUSALS.muted);
      return;
    }
    const sel = `li.chat-message[data-user="${CSS.escape(userId)}"] .chat-user`;
    const name = this.el.list.querySelector(sel)?.textContent;
    this.addSystem(`${name ?? 'A viewer'} was muted by a moderator`);
  }

  onUnmuted(userId) {
    if (this.guest && userId === this.guest.user.id) {
      this.muted = false;
      this.updateSendBox();
      this.addSystem('A moderator lifted your mute');
    }
  }

  // --- replay --------------------------------------------------------------------------------

  startReplay() {
    this.stopLive();
    this.setMode('replay');
    this.showForms();
    this.showNotice('Replay — the chat in time with the recording');
    this.replayReset(this.video.currentTime || 0);
  }

  stopReplay() {
    this.replay = null;
    delete this.el.panel.dataset.fetchedTo;
  }

  /** Starts over at `t`: clears the list and fetches from a little before it. */
  replayReset(t) {
    this.clearList();
    this.replay = {
      generation: (this.replay?.generation ?? 0) + 1,
      queue: [],        // fetched messages not shown yet, by position
      seen: new Set(),  // offsets fetched since the reset (windows may overlap when truncated)
      fetchedTo: Math.max(0, t - REPLAY_CONTEXT_S),
      fetching: false,
      retryAt: 0,
      shownTo: -Infinity, // the latest position shown
    };
    this.el.panel.dataset.fetchedTo = formatSeconds(this.replay.fetchedTo);
    this.replayTick();
  }

  replaySeek() {
    const r = this.replay;
    if (!r) return;
    // Past the fetched range: start over there (the tick below handles a seek back, and a
    // seek forward within the range just shows the messages passed).
    if (this.video.currentTime > r.fetchedTo) this.replayReset(this.video.currentTime);
    else this.replayTick();
  }

  /** Shows what the playhead passed (`upTo` defaults to currentTime) and fetches ahead. */
  replayTick(upTo = this.video.currentTime) {
    const r = this.replay;
    if (!r) return;
    const t = this.video.currentTime;
    // The playhead is behind a message shown: it went back (a seek; the "timeupdate" of a
    // pause may already see the new time before "seeking" fires). Start over where it is.
    if (t + REPLAY_BACK_S < r.shownTo && !this.video.ended) {
      this.replayReset(t);
      return;
    }
    let shown = 0;
    while (shown < r.queue.length && r.queue[shown].position <= upTo) {
      this.addMessage(r.queue[shown]);
      r.shownTo = Math.max(r.shownTo, r.queue[shown].position);
      shown += 1;
    }
    if (shown) r.queue.splice(0, shown);
    const end = Number.isFinite(this.video.duration) ? this.video.duration : Infinity;
    if (!r.fetching && Date.now() >= r.retryAt &&
        r.fetchedTo < Math.min(t + REPLAY_LOOKAHEAD_S, end)) {
      this.fetchWindow(r);
    }
  }

  async fetchWindow(r) {
    const from = r.fetchedTo;
    const to = from + REPLAY_WINDOW_S;
    r.fetching = true;
    let body = null;
    try {
      const resp = await fetch(
          `${this.apiPath}/chat?from=${formatSeconds(from)}&to=${formatSeconds(to)}`,
          {headers: {Accept: 'application/json'}});
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      body = await resp.json();
    } catch (e) {
      console.warn(`livehouse: chat replay ${from}..${to}: ${e}`);
    }
    if (this.replay !== r) return; // a seek started over meanwhile
    r.fetching = false;
    if (!body) {
      r.retryAt = Date.now() + REPLAY_RETRY_MS;
      this.showNotice('Chat replay unavailable — retrying…');
      setTimeout(() => this.replayTick(), REPLAY_RETRY_MS);
      return;
    }
    this.showNotice('Replay — the chat in time with the recording');
    let last = from;
    for (const m of body.messages ?? []) {
      if (m?.type !== 'message' || !Number.isFinite(m.position) || r.seen.has(m.offset)) continue;
      r.seen.add(m.offset);
      r.queue.push(m);
      last = Math.max(last, m.position);
    }
    r.queue.sort((a, b) => a.position - b.position || a.offset - b.offset);
    // A truncated window continues from its last message (`seen` drops the repeats), unless
    // that would not move forward.
    r.fetchedTo = body.truncated && last > from ? last : to;
    this.el.panel.dataset.fetchedTo = formatSeconds(r.fetchedTo);
    this.replayTick();
  }
}
