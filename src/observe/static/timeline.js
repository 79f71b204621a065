// The upgrade timeline of one install or rollback: each plan step as a bar on a time axis, each module's
// suspend window, the point of no return as a line, and a rollback as a hatched band; with a caption and a
// table of the steps as its text alternative.
import { el } from "./charts.js";

const W = 760;
const LABEL = 190;
const RIGHT = 12;
const OP_COLOUR = {
  load_object_code: "blue", point_of_no_return: "vermillion",
  suspend: "orange", resume: "orange", code_change: "purple",
  load: "green", remove: "green", purge: "green",
  stop: "sky", start: "sky", apply: "sky", restart_new_emulator: "vermillion", sync_nodes: "vermillion",
};

export function describeRecord(r) {
  const what = r.kind === "rollback" ? `Rollback from ${r.from}${r.to ? ` to ${r.to}` : ""}` : `Install of ${r.to} (from ${r.from})`;
  const ran = r.endedAt ? `${fmt(r.endedAt - r.startedAt)} ms` : "running";
  const outcome = { running: "running", installed: r.kind === "rollback" ? "done" : "installed", "rolled-back": "failed and rolled back", refused: "refused before its first step" }[r.outcome];
  return `${what}: ${outcome}, ${r.steps.length}${r.total ? ` of ${r.total}` : ""} steps, ${ran}${r.failure ? ` — ${r.failure.kind}${r.failure.cause ? `: ${r.failure.cause}` : ""}` : ""}`;
}

export function drawTimeline(chart, caption, tbody, r, now) {
  const end = r.endedAt ?? now;
  const span = Math.max(end - r.startedAt, 1);
  const firstStep = r.steps[0]?.start ?? end;
  const rows = 1 + r.steps.length + r.suspensions.length;
  const rowH = Math.max(4, Math.min(18, 420 / Math.max(rows, 1)));
  const labels = rowH >= 11;
  const H = 30 + rows * rowH + 24;
  const x = (t) => LABEL + ((t - r.startedAt) / span) * (W - LABEL - RIGHT);
  const svg = el("svg:svg", { viewBox: `0 0 ${W} ${H}`, width: "100%" });
  const defs = el("svg:defs", {}, el("svg:pattern", { id: "hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, el("svg:rect", { width: 6, height: 6, class: "f-white" }), el("svg:line", { x1: 0, y1: 0, x2: 0, y2: 6, class: "hatch-line" })));
  svg.append(defs);
  // The axis: 0 to the whole span, in ms.
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(el("svg:line", { class: "grid", x1: x(r.startedAt + span * f), x2: x(r.startedAt + span * f), y1: 20, y2: H - 20 }));
    svg.append(el("svg:text", { x: x(r.startedAt + span * f), y: H - 6, "text-anchor": f === 0 ? "start" : f === 1 ? "end" : "middle" }, `${fmt(span * f)} ms`));
  }
  if (r.rollback) {
    svg.append(el("svg:rect", { x: x(r.rollback.start), y: 20, width: Math.max(x(end) - x(r.rollback.start), 3), height: H - 40, class: "rollback-band" }));
    svg.append(el("svg:text", { ...labelAt(x(r.rollback.start)), y: 14, class: "f-vermillion" }, `rollback (${r.rollback.steps} changes undone)`));
  }
  let row = 0;
  const bar = (label, start, stop, colour, title, dashed) => {
    const y = 24 + row * rowH;
    if (labels) svg.append(el("svg:text", { x: LABEL - 6, y: y + rowH * 0.7, "text-anchor": "end" }, label));
    const rect = el("svg:rect", { x: x(start), y: y + 1, width: Math.max(x(stop) - x(start), 2), height: Math.max(rowH - 3, 2), class: dashed ? "suspend-window" : `f-${colour}`, "data-op": label });
    rect.append(el("svg:title", {}, title));
    svg.append(rect);
    row++;
  };
  // Before the first step: the preflight (the plan checked against both releases, the target release read).
  bar("preflight", r.startedAt, firstStep, "grey", `preflight: ${fmt(firstStep - r.startedAt)} ms`);
  for (const s of r.steps) {
    const migrated = s.op === "code_change" ? r.migrated.filter((m) => s.detail.includes(m.module)).map((m) => ` (migrated ${m.done}/${m.total})`).join("") : "";
    bar(`${s.index + 1} ${s.op}`, s.start, s.end ?? now, OP_COLOUR[s.op] ?? "grey", `${s.index + 1}. ${s.op} ${s.detail}${migrated}: ${s.end ? fmt(s.end - s.start) : "running"} ms`);
  }
  for (const w of r.suspensions) bar(`suspended ${w.module}`, w.start, w.end ?? now, "hatch", `${w.module} suspended ${fmt((w.end ?? now) - w.start)} ms${w.end ? "" : " (still)"}`, true);
  if (r.pointOfNoReturn) {
    svg.append(el("svg:line", { x1: x(r.pointOfNoReturn), x2: x(r.pointOfNoReturn), y1: 16, y2: H - 20, class: "no-return" }));
    svg.append(el("svg:text", { ...labelAt(x(r.pointOfNoReturn)), y: r.rollback ? H - 24 : 14 }, "point of no return"));
  }
  chart.replaceChildren(svg);
  chart.setAttribute("aria-label", `Timeline of the ${r.kind}`);
  const windows = r.suspensions.map((w) => `${w.module} suspended ${fmt((w.end ?? now) - w.start)} ms`).join("; ");
  const migrated = r.migrated.map((m) => `${m.module} ${m.done} of ${m.total} processes migrated`).join("; ");
  caption.textContent = [describeRecord(r) + ".", `Preflight ${fmt(firstStep - r.startedAt)} ms.`, r.pointOfNoReturn ? `Point of no return passed at ${fmt(r.pointOfNoReturn - r.startedAt)} ms.` : "", windows ? `Suspend windows: ${windows}.` : "No process suspended.", migrated ? `${migrated}.` : "", r.rollback ? `Rolled back from ${fmt(r.rollback.start - r.startedAt)} ms: ${r.rollback.cause}.` : ""].filter(Boolean).join(" ");
  tbody.replaceChildren(...r.steps.map((s) => el("tr", {}, el("td", { class: "num" }, s.index + 1), el("td", {}, el("code", {}, s.op)), el("td", {}, s.detail), el("td", { class: "num" }, fmt(s.start - r.startedAt)), el("td", { class: "num" }, s.end ? fmt(s.end - s.start) : "running"))));
}

/** A label beside a line at `px`: to its right, or to its left when it is in the right part of the chart. */
const labelAt = (px) => (px > W * 0.6 ? { x: px - 4, "text-anchor": "end" } : { x: px + 4 });

const fmt = (ms) => (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms).toString());
