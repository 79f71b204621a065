// The calculator as a Node user writes it for pm2 cluster mode: one plain HTTP server per worker, every
// worker listening on the same port (pm2's daemon is the cluster primary and hands each new connection
// to a worker in turn). The same endpoints and answers as relup's calculator fixture, plus the counter
// fixture's endpoints, with the counts held in this worker's memory.
//
// Graceful start and stop as pm2's documentation recommends ("Graceful Start/Shutdown"): the worker
// sends `ready` once it listens (`wait_ready: true` in ecosystem.config.cjs, so a reload waits for it
// before stopping the old worker), and on SIGINT, which pm2 sends to the old worker, it stops accepting,
// answers the requests in flight, asks keep-alive clients to reconnect (`connection: close`), and exits
// once its last connection is closed, before pm2's `kill_timeout` would SIGKILL it.
import http from "node:http";
import { add } from "./calculator.mjs";

const NUMBER = "(-?\\d+(?:\\.\\d+)?)";
const CALCULATE = new RegExp(`^/calculate/${NUMBER}/${NUMBER}$`);
const COUNT = /^\/(count|peek)\/([A-Za-z0-9_-]+)$/;

/** count per key, in this worker only */
const counts = new Map();
let closing = false;

function answer(res, status, text) {
  if (closing) res.setHeader("connection", "close");
  res.writeHead(status, { "content-type": "text/plain" }).end(`${text}\n`);
}

const server = http.createServer((req, res) => {
  const url = req.url ?? "";
  const calculate = CALCULATE.exec(url);
  const count = COUNT.exec(url);
  if (req.method === "GET" && calculate) return answer(res, 200, add(Number(calculate[1]), Number(calculate[2])));
  if (req.method === "GET" && count) {
    const [, op, key] = count;
    const now = counts.get(key) ?? 0;
    if (op === "count") counts.set(key, now + 1);
    return answer(res, 200, op === "count" ? now + 1 : now);
  }
  return answer(res, 404, "not found");
});

server.listen(Number(process.env.PORT), "127.0.0.1", () => {
  process.send?.("ready");
});

process.on("SIGINT", () => {
  closing = true;
  server.close(() => process.exit(0));
  // Idle keep-alive connections close now; busy ones after their answer (`connection: close` above).
  server.closeIdleConnections();
});
