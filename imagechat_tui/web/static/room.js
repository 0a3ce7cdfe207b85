// The page's copy of one room: what the server confirmed plus own ops in flight.
// Pure (no DOM, no socket): folds events as imagechat_tui/replica.py does.
// receive() and propose() return the ids of the markers whose view changed, so the
// page patches only those (keyed DOM patching), or all = true after a snapshot.

// Who may do what is not stated here: it is the server's table (static/rules.json, made
// from model.allowed; imagechat_tui/web/rules.py says how a case is numbered). The
// limits' values come in `joined`.
// @ then a user id, where GitHub starts a mention: not after an ASCII letter, digit or _
// (é@bob mentions bob); ids are letters of any script, digits and _ . + - @. The rule is
// imagechat_tui/mention_syntax.py; tests/web/test_mention_rule.py checks this copy of it.
const ID = String.raw`[\p{L}\p{N}_]`;
const ID_INSIDE = String.raw`[\p{L}\p{N}_.+\-@]`;
export const MENTION = new RegExp(
  String.raw`(?<![A-Za-z0-9_])@(${ID}${ID_INSIDE}*${ID}|${ID})`, 'gu');
export const TYPING = new RegExp(String.raw`(?<![A-Za-z0-9_])@(${ID_INSIDE}*)$`, 'u');

export function mentions(text) {
  return new Set([...text.matchAll(MENTION)].map((m) => m[1].toLowerCase()));
}

/** A reason the text may not be sent, or null. Lengths count code points. */
// Blank as the model's str.strip() sees it (not String.trim: U+FEFF is text to Python,
// U+001C-U+001F and U+0085 are space); tests/web/test_rules.py checks it against the model.
const BLANK = /^[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/u;

export function textProblem(text, limits) {
  if (BLANK.test(text)) return 'Write something first.';
  const n = [...text].length;
  if (n > limits.maxText) return `At most ${limits.maxText} characters (this is ${n}).`;
  return null;
}

export function regionProblem(x, y, w, h) {
  if (w == null && h == null) return null;
  if (w == null || h == null || !(w > 0) || !(h > 0)) return 'A region needs a width and a height.';
  if (x + w > 100 + 1e-9 || y + h > 100 + 1e-9) return 'A region stays inside the image.';
  return null;
}

function applyChange(chat, change) {
  const c = { ...chat };
  switch (change.kind) {
    case 'comment': {
      // A restored comment goes back to its place (position); a new one at the end.
      const at = change.position ?? chat.comments.length;
      c.comments = [...chat.comments.slice(0, at), change.comment, ...chat.comments.slice(at)];
      break;
    }
    case 'edit-comment':
      c.comments = chat.comments.map((m) => (m.id === change.commentId
        ? { ...m, text: change.text, editedAt: change.editedAt } : m));
      break;
    case 'delete-comment': c.comments = chat.comments.filter((m) => m.id !== change.commentId); break;
    case 'resolve': c.resolved = true; break;
    case 'reopen': c.resolved = false; break;
    case 'move': c.x = change.x; c.y = change.y; break;
    default: return chat;
  }
  return c;
}

/** Apply one event to a Map of chats; the id it touched. */
function applyEvent(chats, event) {
  if (event.type === 'new-image-chat') {
    chats.set(event.chat.id, event.chat);
    // A restored marker keeps its old number: put it back in number order.
    const sorted = [...chats.values()].sort((a, b) => a.number - b.number);
    chats.clear();
    for (const chat of sorted) chats.set(chat.id, chat);
  }
  else if (event.type === 'deleted-image-chat') chats.delete(event.chatId);
  else if (event.type === 'image-chat-updated') {
    const chat = chats.get(event.chatId);
    if (chat) chats.set(event.chatId, applyChange(chat, event.change));
  }
  return event.type === 'new-image-chat' ? event.chat.id : event.chatId;
}

function opChatId(op) { return op.op === 'create' ? op.chat.id : op.chatId; }

export class Room {
  constructor() {
    this.chats = new Map(); // confirmed, in number order
    this.pending = new Map(); // broadcastId -> {op, now}
    this.seq = null; // the `since` for the next join; null before the first sync
    this.user = null;
    this.role = 'viewer';
    this.limits = null; // from `joined`
    this.rules = null; // rules.json: role -> action -> 16 answers (null: allowed)
    this.image = null;
    this.viewers = [];
    this.viewerCount = 0;
    this.parts = [];
  }

  mine(user) { return !!this.user && user.id === this.user.id; }

  /** The model's refusal of `action` (create, reply, edit, delete-comment, resolve,
   * reopen, move, delete) on `chat` and `comment`, in words, or null when allowed. */
  why(action, chat = null, comment = null) {
    const answers = this.rules?.[this.role]?.[action] ?? this.rules?.viewer?.[action];
    if (!answers) return 'The page has not loaded the room\'s rules; reload it.';
    let c = 0; // the case's bits, as rules.py numbers them
    if (chat && !this.mine(chat.createdBy)) c |= 8;
    if (chat?.resolved) c |= 4;
    if (comment && !this.mine(comment.author)) c |= 2;
    if (comment && comment.id !== chat.comments[0]?.id) c |= 1;
    return answers[c];
  }

  may(action, chat = null, comment = null) { return this.why(action, chat, comment) === null; }

  /** The chat as shown: confirmed plus own pending ops on it. */
  view(id) {
    let chat = this.chats.get(id);
    for (const { op, now } of this.pending.values()) {
      if (opChatId(op) !== id) continue;
      const event = this.optimistic(op, now, chat);
      if (event === undefined) continue;
      chat = event;
    }
    return chat;
  }

  /** Ids in list order: confirmed by number, then own markers not yet numbered. */
  ids() {
    const ids = [...this.chats.keys()];
    for (const { op } of this.pending.values()) {
      if (op.op === 'create' && !this.chats.has(op.chat.id)) ids.push(op.chat.id);
    }
    return ids.filter((id) => this.view(id) != null);
  }

  optimistic(op, now, chat) {
    const me = this.user;
    if (op.op === 'create') {
      if (chat) return undefined;
      const { id, x, y, w, h, text } = op.chat;
      const c = { id, number: null, x, y, createdBy: me, createdAt: now,
        comments: [{ id: `${id}:first`, author: me, text, createdAt: now }] };
      if (w != null) { c.w = w; c.h = h; }
      return c;
    }
    if (!chat) return undefined;
    if (op.op === 'delete') return null;
    const ch = op.change;
    if (ch.kind === 'comment') {
      return applyChange(chat, { kind: 'comment',
        comment: { id: ch.comment.id, author: me, text: ch.comment.text, createdAt: now } });
    }
    if (ch.kind === 'edit-comment') return applyChange(chat, { ...ch, editedAt: now });
    return applyChange(chat, ch);
  }

  /** Why this user may not make this op now, or null (the server checks again). */
  refusal(op) {
    const id = opChatId(op);
    const chat = this.view(id);
    if (op.op === 'create') {
      const { x, y, w, h } = op.chat;
      return this.why('create')
        ?? (this.ids().length >= this.limits.maxMarkers ? `This room has its ${this.limits.maxMarkers} markers.` : null)
        ?? regionProblem(x, y, w, h) ?? textProblem(op.chat.text, this.limits);
    }
    if (!chat) return 'That marker is gone.';
    if (op.op === 'delete') return this.why('delete', chat);
    const ch = op.change;
    switch (ch.kind) {
      case 'comment':
        return this.why('reply', chat)
          ?? (chat.comments.length >= this.limits.maxComments ? `A marker holds at most ${this.limits.maxComments} comments.` : null)
          ?? textProblem(ch.comment.text, this.limits);
      case 'edit-comment':
      case 'delete-comment': {
        const c = chat.comments.find((m) => m.id === ch.commentId);
        if (!c) return 'That comment is gone.';
        const action = ch.kind === 'edit-comment' ? 'edit' : 'delete-comment';
        return this.why(action, chat, c) ?? (action === 'edit' ? textProblem(ch.text, this.limits) : null);
      }
      case 'resolve': case 'reopen': return this.why(ch.kind, chat);
      case 'move': return this.why('move', chat) ?? regionProblem(ch.x, ch.y, chat.w, chat.h);
      default: return 'Unknown change.';
    }
  }

  /** Show an own op at once; the caller sends it. Returns the refusal or null. */
  propose(op, now = Date.now()) {
    const refused = this.refusal(op);
    if (refused) return { refused, dirty: new Set() };
    this.pending.set(op.broadcastId, { op, now });
    return { refused: null, dirty: new Set([opChatId(op)]) };
  }

  /** Own ops sent but not yet confirmed: re-sent after a reconnect (the server acks
   * one it already applied, so a re-send never applies twice). */
  inFlight() { return [...this.pending.values()].map((p) => p.op); }

  abandon(broadcastId) {
    const p = this.pending.get(broadcastId);
    this.pending.delete(broadcastId);
    return p ? new Set([opChatId(p.op)]) : new Set();
  }

  /** One server frame. Returns what changed for the page to patch. */
  receive(frame) {
    const out = { dirty: new Set(), all: false, remote: [], failed: [], resync: false,
      joined: null, presence: false, confirmed: [] };
    switch (frame.type) {
      case 'joined':
        this.user = frame.user; this.role = frame.role ?? 'member';
        this.limits = frame.limits; this.image = frame.image ?? null;
        this.parts = []; out.joined = frame; out.all = true;
        break;
      case 'snapshot': {
        this.parts.push(frame);
        if (frame.more) break;
        const chats = new Map();
        for (const part of this.parts) {
          for (const chat of part.chats) {
            const had = chats.get(chat.id); // a chat split between two parts
            chats.set(chat.id, had ? { ...had, comments: [...had.comments, ...chat.comments] } : chat);
          }
        }
        this.parts = []; this.chats = chats; this.seq = frame.seq; out.all = true;
        for (const [bid, { op }] of this.pending) {
          if (op.op === 'create' && chats.has(op.chat.id)) { this.pending.delete(bid); out.confirmed.push(bid); }
        }
        break;
      }
      case 'batch': for (const e of frame.events) this.event(e, out); break;
      case 'new-image-chat': case 'image-chat-updated': case 'deleted-image-chat':
        this.event(frame, out); break;
      case 'error': {
        const p = frame.broadcastId ? this.pending.get(frame.broadcastId) : undefined;
        if (p) {
          this.pending.delete(frame.broadcastId);
          out.failed.push({ op: p.op, error: frame }); out.dirty.add(opChatId(p.op));
        }
        break;
      }
      case 'ack':
        if (this.pending.has(frame.broadcastId)) {
          out.dirty.add(opChatId(this.pending.get(frame.broadcastId).op));
          this.pending.delete(frame.broadcastId); out.confirmed.push(frame.broadcastId);
        }
        break;
      case 'presence':
        this.viewers = frame.viewers; this.viewerCount = frame.count ?? frame.viewers.length;
        out.presence = true;
        break;
      default: break;
    }
    return out;
  }

  event(e, out) {
    if (this.seq === null || e.seq <= this.seq) return; // before the sync, or seen already
    if (e.seq !== this.seq + 1) { out.resync = true; return; } // a gap: rejoin with since
    this.seq = e.seq;
    out.dirty.add(applyEvent(this.chats, e));
    if (this.pending.delete(e.broadcastId)) out.confirmed.push(e.broadcastId);
    else out.remote.push(e);
  }

  /** Everyone who can be mentioned: viewers, then whoever commented. */
  people() {
    const seen = new Map();
    for (const u of this.viewers) if (!seen.has(u.id)) seen.set(u.id, u);
    for (const chat of this.chats.values()) {
      for (const c of chat.comments) if (!seen.has(c.author.id)) seen.set(c.author.id, c.author);
    }
    return [...seen.values()];
  }
}
