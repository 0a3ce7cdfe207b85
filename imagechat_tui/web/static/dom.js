// Building DOM without HTML: every string a user wrote arrives as a text node.

/** h('button.pin', {type: 'button', 'aria-label': 'x'}, 'text', child) */
export function h(spec, props = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag || 'div');
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'textContent' || k === 'value' || k === 'hidden') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

/** User-given text, isolated so a right-to-left override cannot reorder what is around it. */
export function userText(text, spec = 'bdi') { return h(spec, { dir: 'auto' }, text); }

export function firstLine(text, max = 80) {
  const line = text.split('\n', 1)[0];
  const more = text.trimEnd().split('\n').length - 1;
  const cut = [...line].length > max ? `${[...line].slice(0, max - 1).join('')}…` : line;
  return more > 0 ? `${cut} … +${more} line${more > 1 ? 's' : ''}` : cut;
}

export function when(ms) {
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

export function uuid() {
  // crypto.randomUUID needs a secure context; getRandomValues does not (plain http).
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((n) => n.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
