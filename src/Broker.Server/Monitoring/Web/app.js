// The cluster page: draws the node's ClusterView (see /api/cluster) and redraws on every server-sent event.
// Plain DOM, no framework, no build step: the node serves this file from its assembly.
"use strict";
let previous = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function replicaCell(p, id) {
  if (!p.replicas.includes(id)) return el("td", { "data-role": "none" });
  const offline = p.offlineReplicas.includes(id);
  const role = offline ? "offline" : p.leader === id ? "leader" : p.isr.includes(id) ? "isr" : "lagging";
  const text = { offline: "×", leader: "L", isr: "F", lagging: "f" }[role];
  return el("td", { "data-role": role, "data-node": id }, el("span", { class: "cell " + role }, text));
}

function drawGrid(snapshot) {
  const nodes = snapshot.nodes;
  const head = el("tr", {}, el("th", {}, "partition"), el("th", {}, "epoch"), el("th", {}, "high watermark"));
  for (const n of nodes) {
    head.append(el("th", { class: n.state, "data-node": n.id, "data-state": n.state, title: n.address + " " + n.roles.join(",") },
      "node " + n.id, el("br"), n.state));
  }
  const rows = [head];
  for (const p of snapshot.partitions) {
    const cls = (p.underReplicated ? "urp " : "") + (p.offline ? "nolead" : "");
    const row = el("tr", { class: cls, "data-partition": p.name, "data-leader": p.leader, "data-epoch": p.leaderEpoch },
      el("td", { class: "name" }, p.name), el("td", {}, p.leaderEpoch), el("td", {}, p.highWatermark >= 0 ? p.highWatermark : "-"));
    for (const n of nodes) row.append(replicaCell(p, n.id));
    const before = previous && previous.partitions.find(q => q.name === p.name);
    if (before && (before.leader !== p.leader || before.isr.join() !== p.isr.join())) row.classList.add("changed");
    rows.push(row);
  }
  document.getElementById("grid").replaceChildren(...rows);
}

function drawGroups(snapshot) {
  const rows = [el("tr", {}, el("th", {}, "group"), el("th", {}, "state"), el("th", {}, "generation"), el("th", {}, "members"),
    el("th", {}, "partition"), el("th", {}, "committed"), el("th", {}, "log end"), el("th", {}, "lag"))];
  for (const g of snapshot.groups) {
    rows.push(el("tr", { "data-group": g.groupId }, el("td", { class: "name" }, g.groupId), el("td", {}, g.state), el("td", {}, g.generation),
      el("td", {}, g.members.length), el("td", {}, "total"), el("td", {}), el("td", {}), el("td", { "data-lag": g.totalLag }, g.totalLag)));
    for (const p of g.partitions) {
      rows.push(el("tr", {}, el("td", {}), el("td", {}), el("td", {}), el("td", {}), el("td", { class: "name" }, p.topic + "/" + p.partition),
        el("td", {}, p.committed ?? "-"), el("td", {}, p.logEndOffset), el("td", {}, p.lag ?? "-")));
    }
  }
  document.getElementById("groups").replaceChildren(...rows);
}

function draw(view) {
  const s = view.snapshot;
  const up = s.nodes.filter(n => n.isUp).length;
  const urp = s.partitions.filter(p => p.underReplicated).length;
  const offline = s.partitions.filter(p => p.offline).length;
  document.getElementById("summary").textContent =
    `${new Date(s.at).toLocaleTimeString()} · ${s.nodes.length} nodes (${up} up) · ${s.partitions.length} partitions · ` +
    `${urp} under-replicated · ${offline} offline · served by node ${view.selfId}`;
  drawGrid(s);
  drawGroups(s);
  document.getElementById("events").replaceChildren(...view.events.slice().reverse().map(e =>
    el("li", { "data-seq": e.sequence }, new Date(e.at).toLocaleTimeString() + "  " + e.text)));
  previous = s;
}

function connect() {
  const live = document.getElementById("live");
  const source = new EventSource("/api/stream");
  source.onmessage = m => { live.className = ""; draw(JSON.parse(m.data)); };
  source.onerror = () => { live.className = "stale"; }; // EventSource reconnects by itself
}

fetch("/api/cluster").then(r => r.json()).then(v => { if (v.version > 0) draw(v); }).finally(connect);
