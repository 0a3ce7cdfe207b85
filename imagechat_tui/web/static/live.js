// The room's live connection: join with a short-lived token, reconnect by itself with
// backoff and `since`, say when it is offline. Own ops are sent only while joined: a
// page that is not connected refuses them (the caller shows why) and never queues them.

const CLOSE_REASONS = {
  4001: 'Your access to this room is no longer valid; ask for a new link.',
  4003: 'Your access does not cover this room.',
  4029: 'You have too many sessions open; close one.',
  4030: 'This room cannot be opened on this server.',
};

export class Live {
  /** tokenUrl answers {token} for the page's cookie; onFrame(frame), onState(state, why). */
  constructor({ wsUrl, tokenUrl, room, since, onFrame, onState }) {
    Object.assign(this, { wsUrl, tokenUrl, room, since, onFrame, onState });
    this.ws = null;
    this.joined = false;
    this.attempt = 0;
    this.timer = null;
    this.stopped = false;
    this.state = 'connecting';
    addEventListener('online', () => this.retryNow());
    addEventListener('offline', () => {
      this.set('offline', 'You are offline.');
      if (this.ws) this.ws.close();
    });
  }

  set(state, why = '') {
    this.state = state;
    this.onState(state, why);
  }

  get connected() { return this.joined && navigator.onLine; }

  /** Why an op cannot be sent now, or null. */
  blocked() {
    if (this.stopped) return 'Your access has ended: nothing was sent.';
    if (!navigator.onLine) return 'You are offline: nothing was sent. Try again when you are back.';
    if (!this.joined) return 'Not connected: nothing was sent. The page is reconnecting.';
    return null;
  }

  send(frame) {
    if (this.blocked()) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  retryNow() {
    if (this.stopped || (this.ws && this.ws.readyState <= 1)) return;
    clearTimeout(this.timer);
    this.attempt = 0;
    this.open();
  }

  async token() {
    let res;
    try {
      res = await fetch(this.tokenUrl, { method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' }, body: '{}' });
    } catch {
      throw new Error('The server cannot be reached.');
    }
    if (res.status === 401 || res.status === 403) {
      const body = await res.json().catch(() => ({}));
      throw Object.assign(new Error(body.error || 'Your access has ended.'), { final: true });
    }
    if (!res.ok) throw new Error(`The server answered ${res.status}.`);
    return (await res.json()).token;
  }

  /** quiet: a rejoin the user need not hear of (a fresh token after 4002). */
  async open(quiet = false) {
    if (this.stopped) return;
    if (!navigator.onLine) { this.set('offline', 'You are offline.'); return; }
    if (!quiet) this.set(this.attempt ? 'reconnecting' : 'connecting');
    let token;
    try {
      token = await this.token();
    } catch (err) {
      if (err.final) { this.stop(err.message); return; }
      this.later(err.message);
      return;
    }
    const ws = new WebSocket(this.wsUrl);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ op: 'join', room: this.room, token, since: this.since() }));
    ws.onmessage = (m) => {
      const arrived = performance.now();
      if (typeof m.data !== 'string') return; // no subprotocol offered: events are JSON text
      const frame = JSON.parse(m.data);
      if (frame.type === 'joined') { this.joined = true; this.attempt = 0; this.set('live'); }
      this.onFrame(frame, arrived);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.joined = false;
      if (this.stopped) return;
      if (e.code === 4001) { this.ended(); return; }
      if (CLOSE_REASONS[e.code]) { this.stop(CLOSE_REASONS[e.code]); return; }
      if (e.code === 4002) { this.open(true); return; } // token expired: a fresh one, at once
      if (!navigator.onLine) { this.set('offline', 'You are offline.'); return; }
      this.later('The connection to the server was lost.');
    };
  }

  /** Closed for access no longer valid (4001): the token exchange says why in words
   * (its invite revoked, its time up), and is refused too, so nothing reconnects. */
  async ended() {
    let why = CLOSE_REASONS[4001];
    try {
      await this.token();
    } catch (err) {
      if (err.final) why = err.message;
    }
    this.stop(why);
  }

  later(why) {
    // 0.25 s, 0.5 s, 1 s, ... up to 10 s, with jitter so many pages do not come at once.
    const delay = Math.min(10000, 250 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.attempt += 1;
    this.set('reconnecting', why);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.open(), delay);
  }

  /** A gap in seq: rejoin with since (the server fills in the rest). */
  resync() { if (this.ws) this.ws.close(4000, 'resync'); }

  stop(why) {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close();
    this.set('ended', why);
  }
}
