// The usage dashboard: figures from /admin/api/usage, drawn as plain SVG. No inline
// script (CSP script-src 'self'). An admin token, from the link's #token=... or the
// form, is traded once for the browser session (an HttpOnly cookie for /admin, which
// no script can read) and then forgotten; it never appears in a URL the server sees.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
let data = null;
let range = "hour";

async function signIn(token) {
  const answer = await fetch("/admin/session", {
    method: "POST",
    headers: { Authorization: "Bearer " + token },
  });
  if (answer.ok) return null;
  const body = await answer.json().catch(() => ({}));
  return body.error || "Cannot sign in.";
}

function tokenFromLink() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const token = hash.get("token");
  if (token) history.replaceState(null, "", location.pathname); // out of the address bar
  return token;
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
  for (const b of document.querySelectorAll("#ranges button[data-range]")) {
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

function refused(message) {
  document.getElementById("status").textContent = message;
  document.getElementById("login").hidden = false;
  document.getElementById("board").hidden = true;
  document.body.dataset.loaded = "false";
}

async function load() {
  const answer = await fetch("/admin/api/usage"); // the session cookie goes along
  const body = await answer.json().catch(() => ({}));
  if (answer.status === 401) {
    refused("Paste a tenant admin token to see its usage.");
    return;
  }
  if (!answer.ok) {
    document.getElementById("status").textContent = body.error || "Cannot load usage.";
    return;
  }
  data = body;
  document.getElementById("login").hidden = true;
  render();
}

document.addEventListener("DOMContentLoaded", () => {
  for (const b of document.querySelectorAll("#ranges button[data-range]")) {
    b.addEventListener("click", () => { range = b.dataset.range; if (data) render(); });
  }
  document.getElementById("signout").addEventListener("click", async () => {
    await fetch("/admin/session", { method: "DELETE" });
    data = null;
    refused("Signed out.");
  });
  document.getElementById("login").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = document.getElementById("token");
    const problem = await signIn(input.value.trim());
    input.value = "";
    if (problem) refused(problem);
    else load();
  });
  const token = tokenFromLink();
  (token ? signIn(token) : Promise.resolve(null)).then((problem) => {
    if (problem) refused(problem);
    else load();
  });
  setInterval(() => { if (data) load(); }, 10000);
});
