// The tables and trees of the overview, drawn from the node's answers (every value as text, never markup).
import { el, formatBytes } from "./charts.js";

const status = (s) => el("span", { class: `status-${String(s).replace(/ /g, "-")}` }, s);
const num = (v) => el("td", { class: "num" }, v === undefined || v === null ? "–" : String(v));

export function drawReleases(tbody, releases) {
  tbody.replaceChildren(...releases.map((r) => el("tr", { "data-version": r.version }, el("td", {}, r.name), el("td", {}, r.version), el("td", {}, el("span", { class: "badge" }, r.status)))));
}

export function drawModules(tbody, modules) {
  // As `relup status` prints it: a module without a declared vsn has its code's sha256, shown by 8 hex digits.
  const vsn = (v) => (!v ? "–" : typeof v.vsn === "string" && /^[0-9a-f]{64}$/.test(v.vsn) ? v.vsn.slice(0, 8) : String(v.vsn));
  tbody.replaceChildren(...modules.map((m) => el("tr", {}, el("td", {}, el("code", {}, m.module)), el("td", {}, vsn(m.current)), el("td", {}, m.current?.release ?? "–"), el("td", {}, m.old ? `${vsn(m.old)}${m.old.active ? ` (${m.old.active} running)` : ""}` : "–"), el("td", {}, m.old?.release ?? "–"), num(m.processes))));
}

export function drawSummary(totals, tbody, summary, onModule) {
  const by = summary.byStatus;
  totals.textContent = `${summary.total} processes: ${by.running} running, ${by.suspended} suspended, ${by.exiting} exiting.`;
  tbody.replaceChildren(
    ...summary.modules.map((m) => {
      const link = el("button", { type: "button", class: "linkish", title: `List the processes of ${m.module}` }, m.module);
      link.addEventListener("click", () => onModule(m.module));
      return el("tr", {}, el("td", {}, link), num(m.count), num(m.suspended), num(`${m.maxQueue}${m.maxQueue > 0 && m.maxQueuePid ? ` (${m.maxQueuePid})` : ""}`), num(m.queued), num(m.handled), num(m.stateBytes === undefined ? undefined : formatBytes(m.stateBytes)));
    }),
  );
}

/** The trees, each node one line; a supervisor with more children than were listed gets a button for the next ones. */
export function drawTrees(box, applications, loadMore) {
  box.replaceChildren(
    ...applications.map((app) => {
      const section = el("div", { class: "app", "data-app": app.name }, el("h3", {}, `${app.name} ${app.version} `, el("span", { class: "badge" }, app.status)));
      if (app.top) section.append(el("ul", { class: "tree" }, treeNode(app.top, loadMore)));
      else section.append(el("p", {}, "no top process"));
      return section;
    }),
  );
}

function treeNode(node, loadMore) {
  const label = [node.id ? `${node.id}: ` : "", node.module].join("");
  const facts = [node.pid ?? "no pid", node.name ? `"${node.name}"` : "", node.behaviour, node.restarts ? `${node.restarts} restart${node.restarts === 1 ? "" : "s"}` : "0 restarts", node.queue ? `queue ${node.queue}` : ""].filter(Boolean).join(" · ");
  const li = el("li", { "data-pid": node.pid ?? "", "data-module": node.module }, el("code", {}, label), " ", status(node.status), " ", el("span", { class: "mono" }, facts));
  if (node.children) {
    const ul = el("ul", {}, ...node.children.map((c) => treeNode(c, loadMore)));
    li.append(ul);
    const shown = (node.offset ?? 0) + node.children.length;
    if (node.childCount > shown || (node.offset ?? 0) > 0) li.append(pager(node, shown, loadMore, ul));
  } else if (node.childCount) {
    li.append(pager(node, 0, loadMore));
  }
  return li;
}

function pager(node, shown, loadMore, ul) {
  const line = el("p", { class: "note" }, `${node.childCount} children${shown ? `, ${(node.offset ?? 0) + 1}–${shown} shown` : ""} `);
  if (shown < node.childCount) {
    const more = el("button", { type: "button" }, "next children");
    more.addEventListener("click", async () => {
      const page = await loadMore(node.pid, shown);
      if (!page) return;
      const fresh = treeNode(page, loadMore);
      (ul ?? line).closest("li").replaceWith(fresh);
    });
    line.append(more);
  }
  return line;
}

export function drawProcessPage(tbody, pageLine, page, limit) {
  tbody.replaceChildren(...page.rows.map((p) => el("tr", { "data-pid": p.pid }, el("td", { class: "mono" }, p.pid), el("td", {}, p.name ?? ""), el("td", {}, el("code", {}, p.module)), el("td", {}, p.behaviour), el("td", {}, status(p.status)), num(p.queue), num(p.handled), num(p.stateBytes === null ? undefined : formatBytes(p.stateBytes)))));
  const last = Math.min(page.offset + limit, page.total);
  pageLine.textContent = page.total === 0 ? "no process matches" : `${page.offset + 1}–${last} of ${page.total}`;
}
