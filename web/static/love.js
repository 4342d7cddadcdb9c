// The watch page's heart button (issue 5, seed 002): every tap is stamped with the broadcast's
// media time of what the viewer sees, buffered, and sent as one batch
// (POST /api/v1/broadcasts/{id}/love) every 2 s or every 50 taps, whichever comes first. A
// batch keeps its batch_id until the server answered it, so a retry (network error, 503) is
// never counted twice. The total comes from the chat room's {"type":"love"} events (the server
// pushes it at most once a second), from each answer, and from GET .../love as a fallback; the
// top viewers from GET .../love/ranking every 5 s.
//
// Sending needs the viewer's guest token (the chat panel's: "Join chat" with a name); without
// one the button says so. For tests: #love carries data-state (idle|sending|error|no-user);
// #love-total holds the number; #love-ranking lists li.love-viewer[data-user].

const SEND_EVERY_MS = 2000;
const SEND_AT_TAPS = 50;
const RETRY_MS = 1000;
const RANKING_EVERY_MS = 5000;
const RANKING_SIZE = 5;

function batchId() {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  return `w-${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
}

export class LovePanel {
  /**
   * @param {object} o
   * @param {string} o.broadcastId
   * @param {() => ({token: string} | null)} o.guest the viewer's guest token, if any
   * @param {() => number | null} o.mediaTime the broadcast's media time of what is shown now
   */
  constructor({broadcastId, guest, mediaTime}) {
    this.id = broadcastId;
    this.guest = guest;
    this.mediaTime = mediaTime;
    this.taps = [];          // not yet in a batch
    this.inflight = null;    // {batch_id, taps} being sent (kept until answered)
    this.timer = 0;
    this.total = 0;
    this.live = false;
    this.el = {
      panel: document.getElementById('love'),
      button: document.getElementById('love-button'),
      total: document.getElementById('love-total'),
      ranking: document.getElementById('love-ranking'),
      note: document.getElementById('love-note'),
    };
    this.el.button.addEventListener('click', () => this.tap());
    this.rankingTimer = setInterval(() => this.refresh(), RANKING_EVERY_MS);
    this.refresh();
  }

  get base() { return `/api/v1/broadcasts/${encodeURIComponent(this.id)}/love`; }

  /** Follows the page: the button works only while the broadcast is live. */
  update(status) {
    this.live = status === 'live';
    this.el.panel.hidden = status === 'not_found' || status === 'loading';
    this.el.button.disabled = !this.live;
    this.setState(this.guest() ? (this.el.panel.dataset.state || 'idle') : 'no-user');
  }

  setState(state) {
    this.el.panel.dataset.state = state;
    this.el.note.hidden = state !== 'no-user';
    if (state === 'no-user') this.el.note.textContent = 'Join the chat with a name to send hearts.';
  }

  tap() {
    if (!this.live) return;
    if (!this.guest()) {
      this.setState('no-user');
      return;
    }
    const t = this.mediaTime();
    this.taps.push(Math.max(0, Math.round((t ?? 0) * 100) / 100));
    this.setTotal(this.total + 1); // shown at once; the server's answer corrects it
    this.el.button.classList.remove('love-pop');
    void this.el.button.offsetWidth; // restart the animation
    this.el.button.classList.add('love-pop');
    if (this.taps.length >= SEND_AT_TAPS) {
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), SEND_EVERY_MS);
    }
  }

  async flush() {
    clearTimeout(this.timer);
    this.timer = 0;
    if (this.inflight || !this.taps.length) return;
    const g = this.guest();
    if (!g) {
      this.setState('no-user');
      return;
    }
    this.inflight = {batch_id: batchId(), taps: this.taps.splice(0, this.taps.length)};
    this.setState('sending');
    for (;;) {
      let r;
      try {
        r = await fetch(this.base, {
          method: 'POST',
          headers: {'Content-Type': 'application/json', Authorization: `Bearer ${g.token}`},
          body: JSON.stringify(this.inflight),
        });
      } catch {
        r = null; // offline or the server restarting: the same batch again
      }
      if (r && r.ok) {
        const body = await r.json();
        this.setTotal(body.total + this.taps.length); // + the taps gathered meanwhile
        this.setState('idle');
        break;
      }
      if (r && r.status !== 503 && r.status < 500) {
        // 400/401/404/409: this batch can never count; drop it.
        this.setState(r.status === 401 ? 'no-user' : 'error');
        break;
      }
      await new Promise((res) => setTimeout(res, RETRY_MS));
    }
    this.inflight = null;
    if (this.taps.length) this.timer = setTimeout(() => this.flush(), SEND_EVERY_MS);
  }

  /** A {"type":"love"} from the chat room. */
  onTotal(total) {
    if (typeof total === 'number') this.setTotal(total + this.taps.length +
                                                 (this.inflight ? this.inflight.taps.length : 0));
  }

  setTotal(n) {
    this.total = n;
    this.el.total.textContent = String(n);
  }

  async refresh() {
    try {
      const [t, rk] = await Promise.all(
          [fetch(this.base), fetch(`${this.base}/ranking?limit=${RANKING_SIZE}`)]);
      if (t.ok && !this.taps.length && !this.inflight) this.setTotal((await t.json()).total);
      if (rk.ok) this.showRanking((await rk.json()).ranking);
    } catch {
      // the next refresh will do
    }
  }

  showRanking(list) {
    const items = list.map((e) => {
      const li = document.createElement('li');
      li.className = 'love-viewer';
      li.dataset.user = e.user.id;
      const name = document.createElement('span');
      name.textContent = e.user.name;
      const n = document.createElement('span');
      n.className = 'love-count';
      n.textContent = String(e.taps);
      li.append(name, n);
      return li;
    });
    this.el.ranking.replaceChildren(...items);
  }
}
