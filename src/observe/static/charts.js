// Line charts as SVG, with a text alternative: what each line was last, and its highest, in the caption,
// and the last samples as a table. No library: a few lines of SVG per chart.
const SVG = "http://www.w3.org/2000/svg";
const W = 480;
const H = 170;
const PAD = { left: 74, right: 10, top: 10, bottom: 22 };

export function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  for (const c of children) if (c !== undefined && c !== null) node.append(typeof c === "string" || typeof c === "number" ? String(c) : c);
  return node;
}

/** A chart in `box`: its figure is made once, its contents redrawn with each call of the returned function. */
export function lineChart(box, { id, title, unit, format, series }) {
  const figure = el("figure", { id });
  const heading = el("h3", {}, title);
  const legend = el("div", { class: "legend", "aria-hidden": "true" }, ...series.map((s) => el("span", { class: `c-${s.color}${s.dash ? " dashed" : ""}` }, s.name)));
  const svg = el("svg:svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", "aria-labelledby": `${id}-caption` });
  const caption = el("figcaption", { id: `${id}-caption` });
  const table = el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "time"), ...series.map((s) => el("th", { class: "num" }, `${s.name} (${unit})`)))), el("tbody"));
  const details = el("details", {}, el("summary", {}, "Last samples as a table"), table);
  figure.append(heading, legend, svg, caption, details);
  box.append(figure);
  return (samples, windowMs) => {
    svg.replaceChildren();
    const now = samples.length ? samples[samples.length - 1].t : Date.now();
    const from = now - windowMs;
    const shown = samples.filter((s) => s.t >= from);
    const max = Math.max(1e-9, ...series.flatMap((s) => shown.map((x) => s.value(x))));
    const top = niceCeil(max);
    const x = (t) => PAD.left + ((t - from) / windowMs) * (W - PAD.left - PAD.right);
    const y = (v) => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);
    for (const f of [0, 0.5, 1]) {
      svg.append(el("svg:line", { class: "grid", x1: PAD.left, x2: W - PAD.right, y1: y(top * f), y2: y(top * f) }));
      svg.append(el("svg:text", { x: PAD.left - 4, y: y(top * f) + 4, "text-anchor": "end" }, format(top * f)));
    }
    svg.append(el("svg:line", { class: "axis", x1: PAD.left, x2: W - PAD.right, y1: H - PAD.bottom, y2: H - PAD.bottom }));
    const minutes = Math.round(windowMs / 60000);
    svg.append(el("svg:text", { x: PAD.left, y: H - 6 }, `−${minutes} min`), el("svg:text", { x: W - PAD.right, y: H - 6, "text-anchor": "end" }, "now"));
    for (const s of series) {
      if (shown.length === 0) continue;
      const d = shown.map((p, i) => `${i === 0 ? "M" : "L"}${x(p.t).toFixed(1)},${y(s.value(p)).toFixed(1)}`).join(" ");
      svg.append(el("svg:path", { d, class: `line c-${s.color}`, "stroke-dasharray": s.dash ? "6 4" : undefined }));
    }
    const last = shown[shown.length - 1];
    caption.textContent = last
      ? `${title}, last ${minutes} minutes: ` + series.map((s) => `${s.name} now ${format(s.value(last))}, highest ${format(Math.max(...shown.map((p) => s.value(p))))}`).join("; ") + "."
      : `${title}: no sample yet.`;
    const rows = shown.slice(-10).reverse().map((p) => el("tr", {}, el("td", {}, new Date(p.t).toLocaleTimeString()), ...series.map((s) => el("td", { class: "num" }, format(s.value(p))))));
    table.tBodies[0].replaceChildren(...rows);
  };
}

function niceCeil(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export const formatMs = (v) => `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`;
export const formatBytes = (v) => (v >= 1 << 30 ? `${(v / (1 << 30)).toFixed(1)} GiB` : v >= 1 << 20 ? `${(v / (1 << 20)).toFixed(1)} MiB` : v >= 1024 ? `${(v / 1024).toFixed(1)} KiB` : `${Math.round(v)} B`);
export const formatRate = (v) => `${v < 10 ? v.toFixed(1) : Math.round(v)}/s`;
