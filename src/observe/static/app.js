// The dashboard: server-sent events from relup observe, drawn as they come. The page only reads: every
// request it makes is a GET of this same server, which sends the node read-only requests alone.
import { formatBytes, formatMs, formatRate, lineChart } from "./charts.js";
import { describeRecord, drawTimeline } from "./timeline.js";
import { drawModules, drawProcessPage, drawReleases, drawSummary, drawTrees } from "./views.js";

const $ = (id) => document.getElementById(id);
const WINDOW_MS = 5 * 60_000;
const LIMIT = 50;
const state = { samples: [], records: [], selected: undefined, following: true, query: { offset: 0 }, overview: undefined, overviewAt: 0, plans: new Map() };

const charts = $("charts").querySelector(".charts");
const drawLoop = lineChart(charts, { id: "chart-loop", title: "Event-loop delay", unit: "ms", format: formatMs, series: [{ name: "longest", color: "vermillion", value: (s) => s.loopMaxMs }, { name: "p99", color: "blue", dash: true, value: (s) => s.loopP99Ms }] });
const drawHeap = lineChart(charts, { id: "chart-heap", title: "Memory", unit: "bytes", format: formatBytes, series: [{ name: "heap used", color: "green", value: (s) => s.heapUsed }, { name: "heap total", color: "orange", dash: true, value: (s) => s.heapTotal }] });
const drawRate = lineChart(charts, { id: "chart-rate", title: "Request and call rate", unit: "per s", format: formatRate, series: [{ name: "messages handled", color: "purple", value: (s) => s.messagesPerSec }, { name: "HTTP requests", color: "sky", dash: true, value: (s) => s.httpPerSec }] });
const redrawCharts = () => {
  for (const draw of [drawLoop, drawHeap, drawRate]) draw(state.samples, WINDOW_MS);
};
redrawCharts();

const events = new EventSource("events");
events.addEventListener("node", (e) => {
  const node = JSON.parse(e.data);
  const line = $("node-line");
  line.classList.toggle("down", !node.up);
  if (!node.up) line.textContent = `The node does not answer: ${node.error}`;
  else if (state.overview) drawNodeLine(state.overview);
});
events.addEventListener("overview", (e) => {
  const o = JSON.parse(e.data);
  // Another node (a restart, a takeover): its samples start afresh, the previous node's are not its own.
  if (state.overview && state.overview.status.pid !== o.status.pid) {
    state.samples = [];
    redrawCharts();
  }
  state.overview = o;
  state.overviewAt = Date.now();
  drawNodeLine(o);
  drawReleases($("releases-table").tBodies[0], o.releases);
  drawTrees($("trees"), o.tree, loadChildren);
  drawSummary($("process-totals"), $("modules-processes").tBodies[0], o.summary, (module) => search({ module, offset: 0 }));
  drawModules($("modules-table").tBodies[0], o.status.modules);
  void loadProcesses();
});
events.addEventListener("samples", (e) => {
  const fresh = JSON.parse(e.data);
  const last = state.samples.at(-1)?.t ?? 0;
  state.samples = [...state.samples, ...fresh.filter((s) => s.t > last)].slice(-600);
  redrawCharts();
  // The overview is sent only when something besides uptime and memory changed: those move with the samples.
  if (state.overview && !$("node-line").classList.contains("down")) drawNodeLine(state.overview);
});
events.addEventListener("journal", (e) => {
  const journal = JSON.parse(e.data);
  state.records = journal.records;
  const newest = journal.records.at(-1);
  if (state.following && newest) state.selected = newest.id;
  drawJournal();
  // For measuring how late the page is: when the latest change reached it.
  document.body.dataset.journalSeq = String(journal.seq);
  document.body.dataset.journalReceivedAt = String(Date.now());
});
events.addEventListener("error", () => {
  if (events.readyState !== EventSource.OPEN) $("node-line").textContent = "reconnecting to relup observe…";
});

function drawNodeLine(o) {
  const s = o.status;
  $("release-title").textContent = `${s.release.name} ${s.release.version}`;
  document.title = `${s.release.name} ${s.release.version} · relup observe`;
  $("node-line").classList.remove("down");
  const uptimeMs = s.uptimeMs + (Date.now() - state.overviewAt);
  const heapUsed = state.samples.at(-1)?.heapUsed ?? s.memory.heapUsed;
  $("node-line").textContent = `node pid ${s.pid}, up ${Math.round(uptimeMs / 1000)} s, ${s.processCount} processes, heap ${formatBytes(heapUsed)}, root ${s.root}`;
}

function drawJournal() {
  const picker = $("install-picker");
  picker.replaceChildren(
    ...state.records.map((r) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = `${r.kind === "rollback" ? "rollback" : "install"} ${r.from} → ${r.to ?? "?"}`;
      b.className = `outcome-${r.outcome}`;
      b.setAttribute("aria-pressed", String(r.id === state.selected));
      b.addEventListener("click", () => {
        state.selected = r.id;
        state.following = r.id === state.records.at(-1)?.id;
        drawJournal();
      });
      return b;
    }),
  );
  const r = state.records.find((x) => x.id === state.selected);
  $("timeline-figure").hidden = !r;
  $("timeline-text").hidden = !r;
  if (!r) return;
  $("install-line").textContent = describeRecord(r);
  $("install-line").className = `outcome-${r.outcome}`;
  drawTimeline($("timeline-chart"), $("timeline-caption"), $("steps-table").tBodies[0], r, Date.now());
  void showPlan(r.id, r.kind === "rollback");
}

async function showPlan(id, rollback) {
  const view = $("plan-view");
  if (view.dataset.id === String(id)) return;
  if (!state.plans.has(id)) {
    const res = await fetch(`api/plan?id=${id}`);
    if (!res.ok) {
      view.dataset.id = "";
      view.textContent = "The plan of this install is not known to the node's journal.";
      return;
    }
    state.plans.set(id, await res.json());
  }
  view.dataset.id = String(id);
  // Made from escaped text by relup observe (plan-view.ts): names and values are never markup.
  view.innerHTML = state.plans.get(id).html;
  // A rollback runs the plan's downgrade section: said above the plan, which reads upgrade-first.
  if (rollback) view.prepend(Object.assign(document.createElement("p"), { className: "plan-note", textContent: "A rollback: the node ran this plan's downgrade section." }));
}

async function loadChildren(pid, offset) {
  const res = await fetch(`api/tree?${new URLSearchParams({ pid, offset: String(offset) })}`);
  return res.ok ? (await res.json()).node : undefined;
}

function search(change) {
  state.query = { ...state.query, ...change };
  void loadProcesses();
}

async function loadProcesses() {
  const q = { limit: String(LIMIT), offset: String(state.query.offset ?? 0) };
  for (const k of ["search", "module", "status", "sort"]) if (state.query[k]) q[k] = state.query[k];
  const res = await fetch(`api/processes?${new URLSearchParams(q)}`);
  if (!res.ok) return;
  const page = await res.json();
  drawProcessPage($("process-list").tBodies[0], $("page-line"), page, LIMIT);
  $("prev").disabled = page.offset === 0;
  $("next").disabled = page.offset + LIMIT >= page.total;
}

let typing;
$("process-search").addEventListener("submit", (e) => e.preventDefault());
$("search").addEventListener("input", () => {
  clearTimeout(typing);
  typing = setTimeout(() => search({ search: $("search").value.trim(), module: undefined, offset: 0 }), 250);
});
$("status-filter").addEventListener("change", () => search({ status: $("status-filter").value || undefined, offset: 0 }));
$("sort").addEventListener("change", () => search({ sort: $("sort").value, offset: 0 }));
$("prev").addEventListener("click", () => search({ offset: Math.max(0, (state.query.offset ?? 0) - LIMIT) }));
$("next").addEventListener("click", () => search({ offset: (state.query.offset ?? 0) + LIMIT }));
setInterval(() => {
  const r = state.records.find((x) => x.id === state.selected);
  if (r && r.outcome === "running") drawTimeline($("timeline-chart"), $("timeline-caption"), $("steps-table").tBodies[0], r, Date.now());
}, 250);
