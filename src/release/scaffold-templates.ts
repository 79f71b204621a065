/** The files of a new release project (see scaffold-project.ts), by path relative to the project. */
import { CI_WORKFLOW } from "./ci-workflow.ts";

const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n";

export function projectFiles({ name, relupRange }: { name: string; relupRange: string }): Record<string, string> {
  const app = `apps/${name}`;
  return {
    "package.json": json({
      name,
      version: "1.0.0",
      private: true,
      type: "module",
      scripts: {
        typecheck: "tsc --noEmit",
        build: "relup build",
        start: `relup start --initial _build/${name}-1.0.0.tar.gz --root relup-root --detach`,
        status: "relup status --root relup-root",
        stop: "relup stop --root relup-root",
      },
      // Packages the release needs at run time go in `dependencies`: they ship in the release.
      // relup and TypeScript are tools of the build: dev dependencies, never shipped.
      dependencies: {},
      devDependencies: { relup: relupRange, typescript: "~5.9.0", "@types/node": "^20.19.0" },
    }),
    "relup.config.json": json({
      format: 1,
      name,
      version: "1.0.0",
      node: ">=20",
      applications: [{ name, version: "1.0.0", description: "GET /count/:key counts, GET /peek/:key reads", start: "app", env: { port: 4000 } }],
    }),
    "tsconfig.json": json({
      compilerOptions: {
        target: "ES2022",
        module: "ESNext",
        moduleResolution: "Bundler",
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ["node"],
      },
      include: ["apps"],
    }),
    ".gitignore": "node_modules/\n_build/\nrelup-root/\n",
    ".github/workflows/relup-plan.yml": CI_WORKFLOW,
    [`${app}/app.ts`]: `import { defineApplication, startSupervisor } from "relup/runtime";

/** The application's start module: starts the top supervisor with the application's env. */
export const behaviour = "application";

export const { start } = defineApplication<{ port: number }>({
  start: (env) => startSupervisor("sup", { port: env.port }),
});
`,
    [`${app}/sup.ts`]: `import { defineSupervisor } from "relup/runtime";

/** The top supervisor: the store first, then the HTTP server that calls it. */
export const behaviour = "supervisor";

export const { init } = defineSupervisor<{ port: number }>({
  init: ({ port }) => ({
    strategy: "one_for_one",
    intensity: 3,
    period: 5,
    children: [
      { id: "store", module: "store", name: "store", modules: ["store"] },
      { id: "http", module: "http_server", args: { port }, modules: ["http_server", "router"] },
    ],
  }),
});
`,
    [`${app}/store.ts`]: `import { defineServer, z } from "relup/runtime";

/**
 * A count per key, kept in this process's state across upgrades. When the state's shape changes, bump
 * \`vsn\`, update \`stateSchema\`, and convert the state both ways in \`codeChange\`: \`relup generate\`
 * then plans a code_change, and \`relup verify\` tests it on generated states.
 */
export const behaviour = "server";
export const vsn = 1;
export const stateSchema = z.object({ counts: z.map(z.string(), z.int().min(1)) });

type State = z.infer<typeof stateSchema>;
export type Request = { op: "count"; key: string } | { op: "peek"; key: string };

export const { init, handleCall, codeChange } = defineServer<State, Request, number>({
  init: () => ({ counts: new Map() }),
  handleCall: (request, _from, state) => {
    const count = state.counts.get(request.key) ?? 0;
    if (request.op === "peek") return { reply: count, state };
    state.counts.set(request.key, count + 1);
    return { reply: count + 1, state };
  },
  // Up from an older vsn, oldVsn is that vsn; down, it is { down: vsn }. Version 1 has nothing to convert.
  codeChange: (_oldVsn, state: State) => state,
});
`,
    [`${app}/http_server.ts`]: `import http from "node:http";
import { defineServer } from "relup/runtime";
import * as router from "./router";

/**
 * Owns the HTTP listener, kept across upgrades in this process's state. Each request goes to
 * \`router.handle\` through the module, so an upgrade that changes the router answers the next request
 * with the new code. Keep this module small and stable: its state (the listener) has no stateSchema, so
 * \`relup verify --strict\` cannot check a change to it.
 */
export const behaviour = "server";

interface State {
  server: http.Server;
}

export const { init, terminate } = defineServer<State, never, never, never, unknown, { port: number }>({
  init: async ({ port }) => {
    const server = http.createServer((req, res) => void router.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(Number(process.env.PORT ?? port), "127.0.0.1", resolve);
    });
    return { server };
  },
  terminate: (_reason, state) => new Promise<void>((resolve) => state.server.close(() => resolve())),
});
`,
    [`${app}/router.ts`]: `import type { IncomingMessage, ServerResponse } from "node:http";
import { call } from "relup/runtime";

/** Answers one request: GET /count/:key counts, GET /peek/:key reads. The counts live in the store. */
export async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const match = /^\\/(count|peek)\\/([A-Za-z0-9_-]+)$/.exec(req.url ?? "");
  if (req.method !== "GET" || !match) return void res.writeHead(404).end("not found\\n");
  try {
    const count = await call<number>("store", { op: match[1] as "count" | "peek", key: match[2]! });
    res.end(\`\${count}\\n\`);
  } catch (error) {
    res.writeHead(503).end(\`store unavailable: \${(error as Error).message}\\n\`);
  }
}
`,
    "README.md": `# ${name}

A release project for [relup](https://www.npmjs.com/package/relup): upgraded live, its state kept.

\`\`\`sh
npm install
npm run typecheck && npm run build          # _build/${name}-1.0.0.tar.gz
npm start                                    # the node runs in relup-root/ (later: its permanent release)
curl localhost:4000/count/apples             # 1
\`\`\`

To upgrade: change the code, bump \`version\` in relup.config.json (and \`vsn\` of a server whose state
changes, with its \`codeChange\`), \`npm run build\`, then review and apply the plan:

\`\`\`sh
npx relup generate _build/${name}-1.0.0.tar.gz _build/${name}-1.1.0.tar.gz
npx relup verify _build/${name}-1.0.0.tar.gz _build/${name}-1.1.0.tar.gz
npx relup apply _build/${name}-1.1.0.tar.gz --root relup-root
\`\`\`
`,
  };
}
