/**
 * Read-only queries over a node's processes that stay small however many there are (OTP's observer
 * "Processes" tab, aggregated and paged on the node so that a reader never gets 100,000 rows):
 *
 *   processSummary  per callback module: how many processes, how many suspended, the longest and the
 *                   total message queue, the messages handled, and an estimate of their states' size
 *   processPage     one page of processes matching a search (pid, name or module), a module and a
 *                   status, in pid order or longest queue first, with the number that match
 *
 * Both pass over every process once, in time slices that yield to the event loop every SLICE_MS, as the
 * executor's loops do: the node keeps serving while it answers. A state's size is the length of its
 * `v8.serialize` copy (what `relup verify --live` copies), an estimate of its memory: for the summary,
 * the mean of up to SAMPLES states per module (a reservoir sample) times the module's count; for a page,
 * each row's own. A state that cannot be serialized (a function, a socket) has no size, and neither has a
 * supervisor's (see stateSize).
 */
import v8 from "node:v8";
import type { Proc } from "./process.ts";
import type { Runtime } from "./runtime.ts";

const SLICE_MS = 5;
/** States sampled per module for the summary's size estimate. */
const SAMPLES = 16;

export interface ModuleProcesses {
  module: string;
  count: number;
  suspended: number;
  /** the longest message queue among its processes, and the pid that has it */
  maxQueue: number;
  maxQueuePid?: string;
  queued: number;
  handled: number;
  /** estimated bytes of its processes' states (serialized size of a sample, times count); absent if none could be measured */
  stateBytes?: number;
}

export interface ProcessSummary {
  total: number;
  byStatus: Record<Proc["status"], number>;
  modules: ModuleProcesses[];
}

export interface ProcessRow {
  pid: string;
  name: string | null;
  module: string;
  behaviour: string;
  status: Proc["status"];
  queue: number;
  handled: number;
  stateBytes: number | null;
}

export interface ProcessQuery {
  offset?: number;
  /** rows per page (default 50, at most 500) */
  limit?: number;
  /** a case-insensitive part of the pid, registered name or module */
  search?: string;
  module?: string;
  status?: Proc["status"];
  sort?: "pid" | "queue";
}

export interface ProcessPage {
  /** processes that match */
  total: number;
  offset: number;
  rows: ProcessRow[];
}

/** The longest window (offset + limit) a page sorted by queue may reach: it keeps that many candidates. */
export const MAX_QUEUE_WINDOW = 10_000;

/** Visit every process in slices of SLICE_MS, yielding to the event loop between them. */
async function eachProcess(runtime: Runtime, visit: (proc: Proc) => void): Promise<void> {
  const procs = runtime.processes();
  let sliceStart = performance.now();
  for (let i = 0; i < procs.length; i++) {
    visit(procs[i]!);
    if ((i & 63) === 63 && performance.now() - sliceStart >= SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
}

/** A state measured less than this long ago (ms) is not measured again (a page refreshed every second). */
const REMEASURE_MS = 10_000;
const measured = new WeakMap<Proc, { bytes: number | null; at: number; ms: number }>();

/**
 * The serialized size of a process's state. Not for a supervisor (its state is its children's specs: at
 * 100,000 children, 150 ms to serialize; their number is shown instead). A state is measured again only
 * after REMEASURE_MS, or a thousand times as long as measuring it took, so that a large state costs the
 * event loop at most about a thousandth of its time, however often the dashboard asks.
 */
function stateSize(proc: Proc): number | null {
  if (proc.behaviour.kind === "supervisor") return null;
  const now = performance.now();
  const known = measured.get(proc);
  if (known && now - known.at < Math.max(REMEASURE_MS, known.ms * 1000)) return known.bytes;
  let bytes: number | null;
  try {
    bytes = v8.serialize(proc.state).length;
  } catch {
    bytes = null;
  }
  measured.set(proc, { bytes, at: now, ms: performance.now() - now });
  return bytes;
}

export async function processSummary(runtime: Runtime): Promise<ProcessSummary> {
  const byModule = new Map<string, ModuleProcesses & { sample: Proc[] }>();
  const byStatus: ProcessSummary["byStatus"] = { running: 0, suspended: 0, exiting: 0, dead: 0 };
  let total = 0;
  await eachProcess(runtime, (p) => {
    if (p.status === "dead") return;
    total++;
    byStatus[p.status]++;
    let m = byModule.get(p.module);
    if (!m) byModule.set(p.module, (m = { module: p.module, count: 0, suspended: 0, maxQueue: 0, queued: 0, handled: 0, sample: [] }));
    m.count++;
    if (p.status === "suspended") m.suspended++;
    const queue = p.mailbox.length;
    if (m.maxQueuePid === undefined || queue > m.maxQueue) Object.assign(m, { maxQueue: queue, maxQueuePid: p.pid });
    m.queued += queue;
    m.handled += p.handled;
    // Reservoir sampling: every process of the module has the same chance to be measured.
    if (m.sample.length < SAMPLES) m.sample.push(p);
    else {
      const k = Math.floor(Math.random() * m.count);
      if (k < SAMPLES) m.sample[k] = p;
    }
  });
  const modules = [...byModule.values()].map(({ sample, ...m }) => {
    const sizes = sample.map(stateSize).filter((n): n is number => n !== null);
    return sizes.length === 0 ? m : { ...m, stateBytes: Math.round((sizes.reduce((a, b) => a + b, 0) / sizes.length) * m.count) };
  });
  modules.sort((a, b) => b.count - a.count || a.module.localeCompare(b.module));
  return { total, byStatus, modules };
}

export async function processPage(runtime: Runtime, query: ProcessQuery = {}): Promise<ProcessPage> {
  const offset = query.offset ?? 0;
  const limit = Math.min(query.limit ?? 50, 500);
  const search = query.search?.toLowerCase();
  const matches = (p: Proc) =>
    p.status !== "dead" &&
    (query.module === undefined || p.module === query.module) &&
    (query.status === undefined || p.status === query.status) &&
    (search === undefined || p.pid.includes(search) || p.module.toLowerCase().includes(search) || (p.name?.toLowerCase().includes(search) ?? false));
  let total = 0;
  const page: Proc[] = [];
  if (query.sort === "queue") {
    // The longest queues first (pid order among equals): the best offset + limit candidates, kept sorted.
    const window = Math.min(offset + limit, MAX_QUEUE_WINDOW);
    await eachProcess(runtime, (p) => {
      if (!matches(p)) return;
      total++;
      const queue = p.mailbox.length;
      if (page.length === window && queue <= page[page.length - 1]!.mailbox.length) return;
      let at = page.length;
      while (at > 0 && page[at - 1]!.mailbox.length < queue) at--;
      page.splice(at, 0, p);
      if (page.length > window) page.pop();
    });
    page.splice(0, offset);
  } else {
    await eachProcess(runtime, (p) => {
      if (!matches(p)) return;
      if (total >= offset && total < offset + limit) page.push(p);
      total++;
    });
  }
  const rows = page.map((p) => ({ pid: p.pid, name: p.name ?? null, module: p.module, behaviour: p.behaviour.kind, status: p.status, queue: p.mailbox.length, handled: p.handled, stateBytes: stateSize(p) }));
  return { total, offset, rows };
}
