// The usage dashboard: figures from /admin/api/usage, drawn as plain SVG. No inline
// script (CSP script-src 'self'). The admin token comes from the link's #token=... once
// and stays in this tab's sessionStorage; it is sent as Authorization, never in a URL.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const KEY = "imagechat-admin-token";
let data = null;
let range = "hour";

function token() {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("token")) {
    sessionStorage.setItem(KEY, hash.get("token"));
    history.replaceState(null, "", location.pathname); // the token leaves the address bar
  }
  return sessionStorage.getItem(KEY);
}

function el(name, attrs, text) {
  const node = name.startsWith("svg:")
    ? document.createElementNS(SVG, name.slice(4))
    : document.createElement(name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function human(n, bytes) {
  const units = bytes ? ["B", "KiB", "MiB", "GiB", "TiB"] : ["", "k", "M", "G", "T"];
  const base = bytes ? 1024 : 1000;
  let i = 0;
  while (n >= base && i < units.length - 1) { n /= base; i += 1; }
  return (i ? n.toFixed(1) : String(n)) + (units[i] ? (bytes ? " " : "") + units[i] : "");
}

function label(seconds, step) {
  const d = new Date(seconds * 1000);
  if (step >= 86400) return d.toISOString().slice(5, 10);
  return d.toISOString().slice(11, 16);
}

function chart(target, points, field, step, bytes) {
  const w = 900, h = 140, left = 56, bottom = 18;
  const svg = el("svg:svg", { viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": field });
  const max = Math.max(1, ...points.map((p) => p[field]));
  const slot = (w - left) / Math.max(1, points.length);
  svg.append(el("svg:line", { class: "axis", x1: left, y1: h - bottom, x2: w, y2: h - bottom }));
  svg.append(el("svg:text", { x: 0, y: 10 }, human(max, bytes)));
  svg.append(el("svg:text", { x: 0, y: h - bottom }, "0"));
  points.forEach((p, i) => {
    const height = ((h - bottom - 4) * p[field]) / max;
    const bar = el("svg:rect", {
      class: "bar", x: left + i * slot + 1, y: h - bottom - height,
      width: Math.max(1, slot - 2), height,
    });
    bar.append(el("svg:title", {}, `${label(p.start, step)}: ${p[field]}`));
    svg.append(bar);
    if (i % Math.ceil(points.length / 8) === 0) {
      svg.append(el("svg:text", { x: left + i * slot, y: h - 4 }, label(p.start, step)));
    }
  });
  target.replaceChildren(svg);
}

function render() {
  document.getElementById("tenant").textContent = data.tenant;
  for (const b of document.querySelectorAll("#ranges button")) {
    b.setAttribute("aria-pressed", String(b.dataset.range === range));
  }
  const rows = Object.entries(data.ranges).map(([name, r]) => {
    const tr = el("tr", { "data-range": name });
    tr.append(el("td", {}, "Last " + name));
    tr.append(el("td", { class: "num", "data-field": "pubSubMessageCount" }, r.totals.pubSubMessageCount));
    tr.append(el("td", { class: "num", "data-field": "pubSubBandwidth" }, r.totals.pubSubBandwidth));
    tr.append(el("td", { class: "num", "data-field": "peakConnections" }, r.totals.peakConnections));
    return tr;
  });
  document.querySelector("#totals tbody").replaceChildren(...rows);
  const r = data.ranges[range];
  chart(document.getElementById("chart-messages"), r.points, "messages", r.step, false);
  chart(document.getElementById("chart-bytes"), r.points, "bytes", r.step, true);
  chart(document.getElementById("chart-connections"), r.points, "connections", r.step, false);
  const rooms = data.busiest.map((room) => {
    const tr = el("tr");
    tr.append(el("td", {}, room.room), el("td", { class: "num" }, room.viewers), el("td", { class: "num" }, room.seq));
    return tr;
  });
  if (!rooms.length) {
    const tr = el("tr");
    tr.append(el("td", { colspan: 3 }, "No room has viewers on this node."));
    rooms.push(tr);
  }
  document.querySelector("#rooms tbody").replaceChildren(...rooms);
  document.getElementById("status").textContent =
    "Updated " + new Date(data.now * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC";
  document.getElementById("board").hidden = false;
  document.body.dataset.loaded = "true";
}

async function load() {
  const t = token();
  if (!t) {
    document.getElementById("status").textContent = "Paste a tenant admin token to see its usage.";
    document.getElementById("login").hidden = false;
    return;
  }
  const answer = await fetch("/admin/api/usage", { headers: { Authorization: "Bearer " + t } });
  const body = await answer.json();
  if (!answer.ok) {
    if (answer.status === 401 || answer.status === 403) sessionStorage.removeItem(KEY);
    document.getElementById("status").textContent = body.error || "Cannot load usage.";
    document.getElementById("login").hidden = answer.status !== 401 && answer.status !== 403;
    return;
  }
  data = body;
  document.getElementById("login").hidden = true;
  render();
}

document.addEventListener("DOMContentLoaded", () => {
  for (const b of document.querySelectorAll("#ranges button")) {
    b.addEventListener("click", () => { range = b.dataset.range; if (data) render(); });
  }
  document.getElementById("login").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, document.getElementById("token").value.trim());
    load();
  });
  load();
  setInterval(load, 10000);
});
