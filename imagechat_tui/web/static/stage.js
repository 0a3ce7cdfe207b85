// The image, fitted to its viewport, with zoom and pan: wheel, pinch, drag, buttons.
// Pins live in `layer`, placed in percent of the image, so they stay put at any zoom and
// keep their size. A tap (or click) reports where in percent; a drag with the region
// tool reports a rectangle; any other drag pans.

const TAP_SLOP = 8; // px a press may wander and still be a tap
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

export class Stage {
  constructor(viewport, { onTap, onRegion, drawing }) {
    this.viewport = viewport;
    this.el = viewport.querySelector('.stage');
    this.img = this.el.querySelector('img');
    this.layer = this.el.querySelector('.layer');
    this.draft = this.el.querySelector('.draft');
    Object.assign(this, { onTap, onRegion, drawing });
    this.w = 1600; this.h = 900; this.scale = 1; this.tx = 0; this.ty = 0;
    this.pointers = new Map();
    this.gesture = null;
    viewport.addEventListener('pointerdown', (e) => this.down(e));
    viewport.addEventListener('pointermove', (e) => this.move(e));
    viewport.addEventListener('pointerup', (e) => this.up(e));
    viewport.addEventListener('pointercancel', (e) => this.up(e, true));
    viewport.addEventListener('wheel', (e) => {
      e.preventDefault();
      this.zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX, e.clientY);
    }, { passive: false });
    new ResizeObserver(() => { if (this.fitted) this.fit(); }).observe(viewport);
  }

  setImage(src, w, h) {
    this.w = w; this.h = h;
    if (src) this.img.src = src;
    this.img.hidden = !src;
    this.fit();
  }

  fit() {
    const r = this.viewport.getBoundingClientRect();
    this.scale = Math.min(r.width / this.w, r.height / this.h) || 1;
    this.tx = (r.width - this.w * this.scale) / 2;
    this.ty = (r.height - this.h * this.scale) / 2;
    this.fitted = true;
    this.draw();
  }

  draw() {
    const s = this.el.style;
    s.width = `${this.w * this.scale}px`;
    s.height = `${this.h * this.scale}px`;
    s.transform = `translate(${this.tx}px, ${this.ty}px)`;
  }

  zoomAt(factor, cx, cy) {
    const r = this.viewport.getBoundingClientRect();
    const fitScale = Math.min(r.width / this.w, r.height / this.h);
    const scale = clamp(this.scale * factor, fitScale / 2, Math.max(8, fitScale * 8));
    const px = cx - r.left; const py = cy - r.top;
    this.tx = px - (px - this.tx) * (scale / this.scale);
    this.ty = py - (py - this.ty) * (scale / this.scale);
    this.scale = scale;
    this.fitted = false;
    this.draw();
  }

  zoomBy(factor) {
    const r = this.viewport.getBoundingClientRect();
    this.zoomAt(factor, r.left + r.width / 2, r.top + r.height / 2);
  }

  /** Where a client point is on the image, in percent (clamped to the image). */
  percent(cx, cy) {
    const r = this.el.getBoundingClientRect();
    return { x: clamp(((cx - r.left) / r.width) * 100, 0, 100),
      y: clamp(((cy - r.top) / r.height) * 100, 0, 100) };
  }

  inside(cx, cy) {
    const r = this.el.getBoundingClientRect();
    return cx >= r.left && cx <= r.right && cy >= r.top && cy <= r.bottom;
  }

  down(e) {
    if (e.target.closest('button')) return; // a pin or a control: its own click
    this.viewport.setPointerCapture(e.pointerId);
    this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (this.pointers.size === 2) {
      const [a, b] = [...this.pointers.values()];
      this.gesture = { kind: 'pinch', dist: Math.hypot(a.x - b.x, a.y - b.y) || 1,
        mid: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 } };
      this.draft.hidden = true;
    } else if (this.pointers.size === 1) {
      const region = this.drawing() && this.inside(e.clientX, e.clientY);
      this.gesture = { kind: region ? 'region' : 'pan', sx: e.clientX, sy: e.clientY,
        tx: this.tx, ty: this.ty, moved: false };
    }
  }

  move(e) {
    const p = this.pointers.get(e.pointerId);
    if (!p || !this.gesture) return;
    p.x = e.clientX; p.y = e.clientY;
    const g = this.gesture;
    if (g.kind === 'pinch' && this.pointers.size === 2) {
      const [a, b] = [...this.pointers.values()];
      const dist = Math.hypot(a.x - b.x, a.y - b.y) || 1;
      const mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
      this.tx += mid.x - g.mid.x; this.ty += mid.y - g.mid.y;
      this.zoomAt(dist / g.dist, mid.x, mid.y);
      g.dist = dist; g.mid = mid;
      return;
    }
    if (Math.hypot(e.clientX - g.sx, e.clientY - g.sy) > TAP_SLOP) g.moved = true;
    if (!g.moved) return;
    if (g.kind === 'pan') {
      this.tx = g.tx + e.clientX - g.sx; this.ty = g.ty + e.clientY - g.sy;
      this.fitted = false;
      this.draw();
    } else if (g.kind === 'region') {
      const r = this.rect(g, e);
      Object.assign(this.draft.style, { left: `${r.x}%`, top: `${r.y}%`, width: `${r.w}%`, height: `${r.h}%` });
      this.draft.hidden = false;
    }
  }

  rect(g, e) {
    const a = this.percent(g.sx, g.sy); const b = this.percent(e.clientX, e.clientY);
    return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), w: Math.abs(a.x - b.x), h: Math.abs(a.y - b.y) };
  }

  up(e, cancelled = false) {
    if (!this.pointers.delete(e.pointerId)) return;
    const g = this.gesture;
    if (this.pointers.size > 0) return; // the rest of a pinch
    this.gesture = null;
    this.draft.hidden = true;
    if (!g || cancelled || g.kind === 'pinch') return;
    if (!g.moved) {
      if (this.inside(e.clientX, e.clientY)) this.onTap(this.percent(e.clientX, e.clientY));
    } else if (g.kind === 'region') {
      const r = this.rect(g, e);
      if (r.w > 0.5 && r.h > 0.5) this.onRegion(r);
    }
  }
}
