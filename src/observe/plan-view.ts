/**
 * A plan the node ran, as the dashboard shows it beside its timeline: the Markdown of `relup generate
 * --format markdown` (its tables come from the two releases, read from the root, and its instruction
 * lists from the plan the node ran), and that Markdown as HTML. When a release is no longer in the root,
 * the view is the plan's instruction lists alone.
 *
 * The HTML is made from escaped text: names and values come from the release (an application's env may
 * hold any string), so nothing of them is markup; only the few tags the renderer itself writes
 * (br, sub, details, summary) are let through, without attributes.
 */
import path from "node:path";
import type { RelupFile } from "../relup/instruction.ts";
import { planReleases } from "../relup/plan-releases.ts";
import { describeScript } from "../relup/render/describe.ts";
import { renderPlanMarkdown } from "../relup/render/render-markdown.ts";
import { releaseDirOf } from "../runtime/releases-file.ts";

export interface PlanView {
  markdown: string;
  html: string;
}

export async function planView(root: string, plan: RelupFile): Promise<PlanView> {
  let markdown: string;
  try {
    const generated = await planReleases({ from: releaseDirOf(path.resolve(root), plan.from.version), to: releaseDirOf(path.resolve(root), plan.to.version) });
    markdown = renderPlanMarkdown({ ...generated, file: plan });
  } catch {
    const list = (script: RelupFile["up"]) => describeScript(script).map((line, i) => `${i + 1}. ${line}`);
    markdown = [`### relup plan: ${plan.release} ${plan.from.version} → ${plan.to.version}`, "", "**Upgrade**", "", ...list(plan.up), "", "**Downgrade**", "", ...list(plan.down), ""].join("\n");
  }
  return { markdown, html: markdownHtml(markdown) };
}

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

/** Inline Markdown: code spans, bold, and the renderer's own bare tags; everything else escaped. */
function inline(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) => {
      if (part.startsWith("`") && part.endsWith("`") && part.length >= 2) return `<code>${escape(part.slice(1, -1))}</code>`;
      return escape(part)
        .replace(/&lt;(\/?)(br|sub|summary|details)&gt;/g, "<$1$2>")
        .replace(/\\\|/g, "|");
    })
    .join("")
    .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>");
}

/** The subset of Markdown the plan renderer writes: headings, paragraphs, lists, tables, fenced code, folds. */
export function markdownHtml(markdown: string): string {
  const out: string[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("```")) {
      const code: string[] = [];
      while (++i < lines.length && !lines[i]!.startsWith("```")) code.push(lines[i]!);
      out.push(`<pre><code>${escape(code.join("\n"))}</code></pre>`);
    } else if (/^#{1,6} /.test(line)) {
      const level = Math.min(line.indexOf(" "), 6);
      out.push(`<h${level}>${inline(line.slice(line.indexOf(" ") + 1))}</h${level}>`);
    } else if (line.startsWith("|")) {
      const rows: string[][] = [];
      for (; i < lines.length && lines[i]!.startsWith("|"); i++) rows.push(cells(lines[i]!));
      i--;
      const [head, , ...body] = rows;
      out.push(`<table><thead><tr>${(head ?? []).map((c) => `<th>${inline(c)}</th>`).join("")}</tr></thead><tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`).join("")}</tbody></table>`);
    } else if (/^(- |\d+\. )/.test(line)) {
      const ordered = /^\d/.test(line);
      const items: string[] = [];
      for (; i < lines.length && /^(- |\d+\. )/.test(lines[i]!); i++) items.push(`<li>${inline(lines[i]!.replace(/^(- |\d+\. )/, ""))}</li>`);
      i--;
      out.push(ordered ? `<ol>${items.join("")}</ol>` : `<ul>${items.join("")}</ul>`);
    } else if (/^<\/?(details|summary)>/.test(line.trim())) {
      out.push(inline(line.trim()));
    } else if (line.trim() !== "") {
      out.push(`<p>${inline(line)}</p>`);
    }
  }
  return out.join("\n");
}

/** The cells of a table row (`\|` is a bar inside a cell). */
function cells(row: string): string[] {
  return row
    .replace(/^\||\|$/g, "")
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}
