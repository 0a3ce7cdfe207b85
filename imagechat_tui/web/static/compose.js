// A text box for comments: the server's limit shown as you type, @ offering the room's
// people, Ctrl/Cmd+Enter to send (Enter starts a new line: comments have several).

import { h } from './dom.js';
import { TYPING } from './room.js';

export function composer({ label, limits, people, onSend, sendLabel = 'Send', value = '' }) {
  const id = `c${Math.random().toString(36).slice(2, 8)}`;
  const area = h('textarea', { id, rows: 3, 'aria-describedby': `${id}-count` });
  area.value = value;
  const count = h('span.count', { id: `${id}-count`, 'aria-live': 'polite' });
  const offers = h('ul.offers', { role: 'listbox', 'aria-label': 'People to mention', hidden: true });
  const send = h('button.primary', { type: 'submit' }, sendLabel);
  const form = h('form.composer', {},
    h('label', { for: id }, label), area, offers,
    h('div.row', {}, count, h('span.hint.kbd-hint', {}, 'Ctrl+Enter sends'), send));
  let choices = []; let active = 0;

  const refresh = () => {
    const n = [...area.value].length;
    count.textContent = `${n} / ${limits().maxText}`;
    count.classList.toggle('over', n > limits().maxText);
    const typing = TYPING.exec(area.value.slice(0, area.selectionStart));
    if (!typing) { offers.hidden = true; choices = []; return; }
    const q = typing[1].toLowerCase();
    choices = people().filter((u) => u.id.toLowerCase().startsWith(q)
      || u.name.toLowerCase().includes(q)).slice(0, 6);
    active = 0;
    offers.replaceChildren(...choices.map((u, i) => h('li', { role: 'option',
      'aria-selected': String(i === active) },
    h('button', { type: 'button', tabindex: -1, onclick: () => pick(u) }, u.name, h('span.id', {}, ` @${u.id}`)))));
    offers.hidden = choices.length === 0;
  };
  const pick = (u) => {
    const before = area.value.slice(0, area.selectionStart).replace(TYPING, `@${u.id} `);
    area.value = before + area.value.slice(area.selectionStart);
    area.selectionStart = area.selectionEnd = before.length;
    area.focus();
    refresh();
  };
  area.addEventListener('input', refresh);
  area.addEventListener('keydown', (e) => {
    if (!offers.hidden && choices.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        active = (active + (e.key === 'ArrowDown' ? 1 : choices.length - 1)) % choices.length;
        [...offers.children].forEach((li, i) => li.setAttribute('aria-selected', String(i === active)));
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') { e.preventDefault(); pick(choices[active]); return; }
      if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); offers.hidden = true; return; }
    }
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (onSend(area.value) !== false) { area.value = ''; refresh(); }
  });
  refresh();
  return { form, area, refresh };
}
