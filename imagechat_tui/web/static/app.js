// The room link's live page: join from the link, review, stay in sync.
// Speaks docs/PROTOCOL.md like the terminal app; no framework (see docs/SECURITY.md and
// README "In a browser" for why plain DOM).

import { h, userText, firstLine, when, uuid } from './dom.js';
import { Room, mentions } from './room.js';
import { Live } from './live.js';
import { Stage } from './stage.js';
import { composer } from './compose.js';

const body = document.body;
const base = location.pathname.replace(/\/+$/, ''); // /PREFIX/r/ROOM
const ROOM = body.dataset.room;
const TITLE = body.dataset.title || ROOM;
const room = new Room();
const ui = { selected: null, filter: 'open', tool: 'point', moving: null, fullRender: false };
const pins = new Map(); // chat id -> pin element (keyed patching)
const entries = new Map(); // chat id -> list entry
let live = null;
let rulesLoaded = Promise.resolve();
let stage = null;

// --- the page's parts ----------------------------------------------------------------

const status = h('span.status', { role: 'status' }, 'Connecting…');
const presence = h('span.presence');
const toolPoint = h('button.tool', { type: 'button', 'aria-pressed': 'true', onclick: () => setTool('point') }, 'Pin');
const toolRegion = h('button.tool', { type: 'button', 'aria-pressed': 'false', onclick: () => setTool('region') }, 'Region');
const tools = h('span.tools', { role: 'group', 'aria-label': 'Place', hidden: true }, toolPoint, toolRegion);
const banner = h('div.banner', { role: 'alert', hidden: true });
const header = h('header.bar', {}, h('h1', {}, userText(TITLE)), presence, status, tools);
const viewport = h('div.viewport', { 'aria-label': 'The image: tap to place a marker, drag to pan, pinch or wheel to zoom' },
  h('div.stage', {}, h('img', { alt: TITLE, draggable: 'false', hidden: true }),
    h('div.layer'), h('div.draft', { hidden: true })));
const zoom = h('div.zoom', { role: 'group', 'aria-label': 'Zoom' },
  h('button', { type: 'button', 'aria-label': 'Zoom in', onclick: () => stage.zoomBy(1.25) }, '+'),
  h('button', { type: 'button', 'aria-label': 'Zoom out', onclick: () => stage.zoomBy(0.8) }, '−'),
  h('button', { type: 'button', onclick: () => stage.fit() }, 'Fit'));
const hint = h('p.hint.stage-hint', { 'aria-live': 'polite' });
const filters = Object.fromEntries(['open', 'resolved', 'all'].map((f) => [f,
  h('button.filter', { type: 'button', 'aria-pressed': String(f === ui.filter), onclick: () => setFilter(f) })]));
const list = h('ol.markers', { 'aria-label': 'Markers' });
const empty = h('p.empty', {}, 'No markers yet.');
const listView = h('section.list-view', { 'aria-label': 'Markers' },
  h('div.filters', { role: 'group', 'aria-label': 'Show' }, ...Object.values(filters)), list, empty);
const thread = h('section.thread', { 'aria-label': 'Thread', hidden: true });
const side = h('aside.side', {}, listView, thread);
const toasts = h('div.toasts', { role: 'status', 'aria-live': 'polite' });
const dialog = h('dialog.modal');

function setTool(tool) {
  ui.tool = tool;
  toolPoint.setAttribute('aria-pressed', String(tool === 'point'));
  toolRegion.setAttribute('aria-pressed', String(tool === 'region'));
  hint.textContent = tool === 'region' ? 'Drag on the image to frame a region.' : '';
}

function setFilter(f) {
  ui.filter = f;
  for (const [k, b] of Object.entries(filters)) b.setAttribute('aria-pressed', String(k === f));
  for (const id of entries.keys()) patchEntry(id, room.view(id), true);
  counts();
}

function toast(text, action) {
  const t = h('div.toast', {}, h('span', {}, text), action
    ? h('button', { type: 'button', onclick: () => { action.run(); t.remove(); } }, action.label) : null,
  h('button', { type: 'button', 'aria-label': 'Dismiss', onclick: () => t.remove() }, '×'));
  toasts.append(t);
  setTimeout(() => t.remove(), action ? 15000 : 6000);
}

// --- keyed patching: only the markers whose view changed ---------------------------

function visible(chat) {
  return ui.filter === 'all' || (ui.filter === 'resolved') === !!chat.resolved;
}

function label(chat) {
  const first = chat.comments[0];
  const what = chat.w != null ? 'Region' : 'Marker';
  return `${what} ${chat.number ?? '(sending)'}, ${chat.resolved ? 'resolved' : 'open'}: ${first ? firstLine(first.text, 60) : ''}`;
}

function patchPin(id, chat) {
  let el = pins.get(id);
  if (!chat) { el?.remove(); pins.delete(id); return; }
  const sig = `${chat.number}|${chat.x}|${chat.y}|${chat.w}|${chat.h}|${chat.resolved}|${chat.comments[0]?.text}|${ui.selected === id}`;
  if (el && el.sig === sig) return;
  if (!el) {
    const pin = h('button.pin', { type: 'button', onclick: (e) => { e.stopPropagation(); select(id); } });
    el = chat.w != null ? h('div.region', {}, pin) : pin;
    el.pin = pin;
    pins.set(id, el);
    stage.layer.append(el);
  }
  el.sig = sig;
  const s = el.style;
  s.left = `${chat.x}%`; s.top = `${chat.y}%`;
  if (chat.w != null) { s.width = `${chat.w}%`; s.height = `${chat.h}%`; }
  for (const n of [el, el.pin]) {
    n.classList.toggle('resolved', !!chat.resolved);
    n.classList.toggle('pending', chat.number == null);
    n.classList.toggle('selected', ui.selected === id);
  }
  el.pin.textContent = chat.number ?? '…';
  el.pin.setAttribute('aria-label', label(chat));
}

function patchEntry(id, chat, force = false) {
  let li = entries.get(id);
  if (!chat) { li?.remove(); entries.delete(id); return; }
  const first = chat.comments[0];
  const sig = `${chat.number}|${chat.resolved}|${first?.text}|${first?.author.name}|${chat.comments.length}|${ui.selected === id}`;
  if (li && li.sig === sig && !force) return;
  if (!li) {
    li = h('li', {}, h('button.entry', { type: 'button', onclick: () => select(id) }));
    li.number = chat.number ?? Infinity;
    entries.set(id, li);
    insertSorted(li);
  } else if ((chat.number ?? Infinity) !== li.number) {
    li.number = chat.number ?? Infinity;
    li.remove(); insertSorted(li);
  }
  li.hidden = !visible(chat);
  if (li.sig === sig) return;
  li.sig = sig;
  const replies = chat.comments.length - 1;
  const b = li.firstChild;
  b.classList.toggle('resolved', !!chat.resolved);
  b.classList.toggle('selected', ui.selected === id);
  b.replaceChildren(h('span.num', {}, String(chat.number ?? '…')),
    h('span.what', {}, userText(first ? firstLine(first.text) : '', 'span.text'),
      h('span.meta', {}, userText(first?.author.name ?? ''), replies ? ` · ${replies} repl${replies > 1 ? 'ies' : 'y'}` : '',
        chat.resolved ? ' · resolved' : '')));
}

function insertSorted(li) {
  // New markers have the highest numbers: walk back from the end (usually no step).
  let after = list.lastElementChild;
  while (after && after.number > li.number) after = after.previousElementSibling;
  if (after) after.after(li); else list.prepend(li);
}

function counts() {
  let open = 0; let resolved = 0;
  for (const id of entries.keys()) { if (room.view(id)?.resolved) resolved += 1; else open += 1; }
  filters.open.textContent = `Open ${open}`;
  filters.resolved.textContent = `Resolved ${resolved}`;
  filters.all.textContent = `All ${open + resolved}`;
  empty.hidden = [...entries.values()].some((li) => !li.hidden);
  empty.textContent = entries.size ? `No ${ui.filter} markers.` : 'No markers yet.';
}

function patch(ids) {
  if (ui.fullRender) { renderAll(); return; } // the benchmark's baseline
  for (const id of ids) { const chat = room.view(id); patchPin(id, chat); patchEntry(id, chat); }
  if (ui.selected && ids.has(ui.selected)) renderThread();
  counts();
}

/** Everything from scratch: after a snapshot (and the baseline the benchmark compares). */
function renderAll() {
  for (const el of pins.values()) el.remove();
  pins.clear(); entries.clear();
  list.replaceChildren();
  const frag = document.createDocumentFragment();
  for (const id of room.ids()) { const chat = room.view(id); patchPin(id, chat); patchEntry(id, chat); }
  frag.append(...pins.values());
  stage.layer.append(frag);
  if (ui.selected) renderThread();
  counts();
}

// --- the thread ----------------------------------------------------------------------

const replyDrafts = new Map(); // chat id -> its reply composer (the draft)

function select(id) {
  const was = ui.selected;
  ui.selected = id;
  patch(new Set([was, id].filter(Boolean)));
  renderThread();
  thread.querySelector('h2')?.focus();
}

function closeThread() {
  const was = ui.selected;
  if (!was) return;
  ui.selected = null;
  thread.hidden = true; listView.hidden = false;
  patch(new Set([was]));
  (entries.get(was)?.firstChild ?? pins.get(was)?.pin)?.focus();
}

function renderThread() {
  const id = ui.selected;
  const chat = id && room.view(id);
  if (!chat) {
    if (id) { // deleted while open (by anyone): back to the list, saying so
      ui.selected = null; thread.hidden = true; listView.hidden = false;
      toast(`Marker #${ui.shown ?? '…'} was deleted.`);
    }
    return;
  }
  ui.shown = chat.number;
  listView.hidden = true; thread.hidden = false;
  const actions = []; // only what this user may do (the server's table, room.may)
  if (room.may('reopen', chat)) actions.push(h('button', { type: 'button', onclick: () => update(id, { kind: 'reopen' }) }, 'Reopen'));
  if (room.may('resolve', chat)) actions.push(h('button', { type: 'button', onclick: () => update(id, { kind: 'resolve' }) }, 'Resolve'));
  if (room.may('move', chat)) actions.push(h('button', { type: 'button', onclick: () => startMove(id) }, 'Move'));
  if (room.may('delete', chat)) actions.push(h('button.danger', { type: 'button', onclick: () => confirmDelete(id) }, 'Delete'));
  const comments = chat.comments.map((c) => {
    const edit = room.may('edit', chat, c);
    const remove = room.may('delete-comment', chat, c);
    return h('li.comment', {},
      h('div.meta', {}, userText(c.author.name, 'b'), ` · ${when(c.createdAt)}`, c.editedAt ? ' · edited' : ''),
      userText(c.text, 'p.text'),
      edit || remove ? h('div.own', {},
        edit ? h('button.small', { type: 'button', onclick: () => editComment(id, c) }, 'Edit') : null,
        remove ? h('button.small.danger', { type: 'button', onclick: () => confirm('Delete this comment?', () => update(id, { kind: 'delete-comment', commentId: c.id })) }, 'Delete') : null)
        : null);
  });
  const head = h('div.thread-head', {},
    h('button.back', { type: 'button', 'aria-label': 'Back to the list', onclick: closeThread }, '‹ List'),
    h('h2', { tabindex: -1 }, `#${chat.number ?? '…'}`, chat.resolved ? ' · resolved' : ' · open'),
    h('div.actions', {}, ...actions));
  const list = h('ol.comments', {}, ...comments);
  const reply = room.may('reply', chat) ? replyBox(id) : null;
  // The reply box stays in the document while the thread around it changes: moving it
  // (replaceChildren) would take the focus from someone typing as another's reply lands.
  const [oldHead, oldList, oldForm] = thread.children;
  if (oldForm && oldForm === reply?.form) {
    oldHead.replaceWith(head); oldList.replaceWith(list);
  } else {
    thread.replaceChildren(head, list, ...(reply ? [reply.form] : []));
  }
  reply?.refresh();
}

/** Each marker's own reply draft: what is typed under #2 stays with #2. */
function replyBox(id) {
  let box = replyDrafts.get(id);
  if (!box) {
    box = composer({ label: 'Reply', limits: () => room.limits, people: () => room.people(),
      onSend: (text) => update(id, { kind: 'comment', comment: { id: uuid(), text } }) });
    replyDrafts.set(id, box);
  }
  return box;
}

// --- ops -------------------------------------------------------------------------------

function submit(op) {
  const offline = live?.blocked();
  if (offline) { toast(offline); return false; } // refused with the reason, never queued
  const { refused, dirty } = room.propose(op);
  if (refused) { toast(`Not sent: ${refused}`); return false; }
  live.send(op);
  patch(dirty);
  return true;
}

const update = (chatId, change) => submit({ op: 'update', broadcastId: uuid(), chatId, change });

function startMove(id) {
  ui.moving = id;
  hint.textContent = 'Tap the image where the marker should go (Escape cancels).';
  viewport.focus();
}

function place(p, region) {
  if (ui.moving) {
    const chat = room.view(ui.moving);
    const id = ui.moving; ui.moving = null; hint.textContent = '';
    if (!chat) return;
    let { x, y } = p;
    if (chat.w != null) { x = Math.min(x, 100 - chat.w); y = Math.min(y, 100 - chat.h); }
    update(id, { kind: 'move', x, y });
    return;
  }
  if (!room.may('create')) return;
  const blocked = live?.blocked();
  if (blocked) { toast(blocked); return; }
  const spot = region ? { x: p.x, y: p.y, w: p.w, h: p.h } : { x: p.x, y: p.y };
  const c = composer({ label: region ? 'New region: the first comment' : 'New marker: the first comment',
    limits: () => room.limits, people: () => room.people(), sendLabel: 'Place',
    onSend: (text) => {
      const ok = submit({ op: 'create', broadcastId: uuid(), chat: { id: uuid(), ...spot, text } });
      if (ok) dialog.close();
      return ok;
    } });
  // Where it will be, shown while the first comment is written (gone when the box closes).
  const draft = h('div.draft-spot', { 'aria-hidden': 'true' });
  Object.assign(draft.style, { left: `${spot.x}%`, top: `${spot.y}%` },
    region ? { width: `${spot.w}%`, height: `${spot.h}%` } : {});
  if (region) draft.classList.add('region-spot');
  stage.layer.append(draft);
  dialog.addEventListener('close', () => draft.remove(), { once: true });
  openDialog([h('p.where', {}, `At ${spot.x.toFixed(1)}%, ${spot.y.toFixed(1)}%`), c.form, cancelButton()]);
  c.area.focus();
}

function editComment(chatId, c) {
  const e = composer({ label: 'Edit your comment', limits: () => room.limits, people: () => room.people(),
    sendLabel: 'Save', value: c.text,
    onSend: (text) => { const ok = update(chatId, { kind: 'edit-comment', commentId: c.id, text }); if (ok) dialog.close(); return ok; } });
  openDialog([e.form, cancelButton()]);
  e.refresh(); e.area.focus();
}

function confirmDelete(id) {
  const chat = room.view(id);
  const n = chat.comments.length;
  confirm(`Delete marker #${chat.number ?? '…'} and its ${n} comment${n > 1 ? 's' : ''}? This cannot be undone.`,
    () => submit({ op: 'delete', broadcastId: uuid(), chatId: id }));
}

function confirm(question, yes) {
  openDialog([h('p', {}, question), h('div.row', {},
    h('button', { type: 'button', onclick: () => dialog.close() }, 'Keep'),
    h('button.danger', { type: 'button', onclick: () => { dialog.close(); yes(); } }, 'Delete'))]);
  dialog.querySelector('button').focus();
}

const cancelButton = () => h('button.cancel', { type: 'button', onclick: () => dialog.close() }, 'Cancel');

function openDialog(children) {
  dialog.replaceChildren(...children);
  if (!dialog.open) dialog.showModal();
}

// --- the live connection ---------------------------------------------------------------

function onFrame(frame, arrived) {
  const out = room.receive(frame);
  if (out.joined) onJoined();
  if (out.all) renderAll(); else if (out.dirty.size) patch(out.dirty);
  if (out.presence) showPresence();
  for (const { error } of out.failed) toast(`Not done: ${error.message}`);
  // A refused join is followed by its close code, which says what to do (live.js).
  if (frame.type === 'error' && !out.failed.length && !['rate-limited', 'unauthorized'].includes(frame.code)) toast(frame.message);
  for (const e of out.remote) notice(e);
  if (out.resync) live.resync();
  // Measured by bench/browser_bench.py: frame arrival -> DOM updated (and laid out, when
  // asked: reading offsetHeight forces the layout the change needs).
  const probe = window.imagechat;
  if (probe.measureLayout) void body.offsetHeight;
  probe.lastFrame = { type: frame.type, seq: frame.seq, ms: performance.now() - arrived };
  if (frame.type === 'snapshot' && !frame.more && !probe.shown) {
    requestAnimationFrame(() => { probe.shown = performance.now(); });
  }
  // Own ops sent before a drop and not in the snapshot or replay: send again (idempotent).
  if ((frame.type === 'snapshot' && !frame.more) || (frame.type === 'joined' && frame.recovered)) {
    for (const op of room.inFlight()) live.send(op);
  }
}

function onJoined() {
  tools.hidden = !room.may('create');
  viewport.classList.toggle('readonly', !room.may('create'));
  if (!stage.ready) {
    const img = room.image;
    stage.setImage(img ? `${base}/image` : null, img?.width ?? 1600, img?.height ?? 900);
    stage.ready = true;
  }
}

function notice(e) {
  const me = room.user?.id?.toLowerCase();
  const c = e.type === 'new-image-chat' ? e.chat.comments[0]
    : e.type === 'image-chat-updated' && e.change.kind === 'comment' ? e.change.comment : null;
  if (!c || !me || c.author.id.toLowerCase() === me || !mentions(c.text).has(me)) return;
  const id = e.type === 'new-image-chat' ? e.chat.id : e.chatId;
  const chat = room.view(id);
  toast(`${c.author.name} mentioned you on #${chat?.number ?? '?'}`, { label: 'Open', run: () => select(id) });
}

function showPresence() {
  const shown = room.viewers.slice(0, 4);
  const names = shown.flatMap((u, i) => [i ? ', ' : '', userText(u.name)]);
  const more = room.viewerCount > shown.length ? ' …' : '';
  presence.replaceChildren(`${room.viewerCount} viewing: `, ...names, more);
}

const STATE_TEXT = {
  connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline', ended: 'Ended',
};

function onState(state, why) {
  status.textContent = STATE_TEXT[state];
  status.className = `status ${state}`;
  body.classList.toggle('disconnected', state !== 'live');
  if (state === 'live') { banner.hidden = true; return; }
  presence.replaceChildren(); // who is viewing is not known while not connected
  if (state === 'connecting' && !room.user) { banner.hidden = true; return; }
  if (state === 'ended' && room.role !== 'viewer') {
    room.role = 'viewer'; // the access is gone: the page offers nothing to change
    onJoined(); renderAll();
  }
  banner.hidden = false;
  banner.textContent = state === 'ended'
    ? `${why} The markers already shown stay readable.`
    : `${state === 'offline' ? 'You are offline.' : `${why || 'Not connected.'} Reconnecting…`} Markers stay readable${room.may('create') ? '; nothing you do is sent until the page is back' : ''}.`;
}

function connect() {
  const wsUrl = new URL('../ws', location.origin + base);
  wsUrl.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  live = new Live({ wsUrl: wsUrl.href, tokenUrl: `${base}/token`, room: ROOM,
    since: () => room.seq, onFrame, onState });
  const open = () => live.open(); // without the rules the page offers nothing to change
  rulesLoaded.then(open, open);
}

// --- joining from the link -------------------------------------------------------------

async function hasAccess() {
  const res = await fetch(`${base}/token`, { method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' }, body: '{}' });
  return res.ok;
}

function askName(code, problem = '') {
  const input = h('input', { id: 'name', name: 'name', maxlength: 64, required: true, autocomplete: 'nickname' });
  const err = h('p.error', { role: 'alert' }, problem);
  const form = h('form.join', {},
    h('h2', {}, 'Join the review'), h('p', {}, 'You were invited to ', userText(TITLE, 'b'), '.'),
    h('label', { for: 'name' }, 'Your name, as others will see it'), input, err,
    h('button.primary', { type: 'submit' }, 'Join'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const res = await fetch(`${base}/session`, { method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code, name: input.value }) });
    const answer = await res.json().catch(() => ({}));
    if (!res.ok) { err.textContent = answer.error || `The server answered ${res.status}.`; return; }
    dialog.close();
    connect();
  });
  dialog.addEventListener('cancel', (e) => { if (!live) e.preventDefault(); }, { once: false });
  openDialog([form]);
  input.focus();
}

function start() {
  if (body.dataset.state === 'refused') {
    // The invite in the link is no longer valid, but this browser may still have access
    // (a SameSite=Strict cookie is not sent on a link followed from another site).
    hasAccess().then((ok) => { if (ok) location.replace(base); }, () => {});
    return;
  }
  // Who may do what, from the server (made from the model); fetched while the page joins.
  rulesLoaded = fetch(new URL('./rules.json', import.meta.url)).then((r) => r.json())
    .then((table) => { room.rules = table; });
  window.imagechat = { room, ui, pins, entries, renderAll, get live() { return live; } };
  body.replaceChildren(header, banner, h('main.layout', {},
    h('section.stage-wrap', { 'aria-label': 'Image' }, viewport, zoom, hint), side), toasts, dialog);
  stage = new Stage(viewport, { onTap: (p) => place(p, false), onRegion: (r) => place(r, true),
    drawing: () => ui.tool === 'region' && room.may('create') && !ui.moving });
  viewport.tabIndex = -1;
  addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || dialog.open) return;
    if (ui.moving) { ui.moving = null; hint.textContent = ''; } else closeThread();
  });
  const code = new URLSearchParams(location.search).get('invite');
  if (code) history.replaceState(null, '', base); // the code leaves the address bar at once
  hasAccess().then((ok) => {
    if (ok) connect();
    else if (code) askName(code);
    else askName(null, 'This page needs the invite link you were sent.');
  }, () => askName(code));
}

start();
