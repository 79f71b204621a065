/** Loopback helpers for the demo, the benchmarks and the tests: a free TCP port, and a GET that returns the body. */
import http from "node:http";
import net from "node:net";

// Ports handed out lie below Linux's ephemeral range (32768–60999), which the kernel uses both for
// `listen(0)` and for the source port of every outgoing connection: a port found free there can be taken by
// any client connecting somewhere (an etcd client, an HTTP load) before its server binds it.
const LOW_PORT = 12_000;
const HIGH_PORT = 32_000;
// Each process walks the range from its own random point, so processes that run at once (test workers, the
// nodes and scripts they start) hand out different ports; a port is handed out once per process.
let nextPort = LOW_PORT + Math.floor(Math.random() * (HIGH_PORT - LOW_PORT));

/**
 * A TCP port on 127.0.0.1 that nothing listens on now and that this process has not handed out before.
 * Throws when every port of the range is taken.
 */
export async function freePort(): Promise<number> {
  for (let tried = 0; tried < HIGH_PORT - LOW_PORT; tried++) {
    const port = nextPort;
    nextPort = port + 1 === HIGH_PORT ? LOW_PORT : port + 1;
    if (await canListen(port)) return port;
  }
  throw new Error(`no free TCP port on 127.0.0.1 between ${LOW_PORT} and ${HIGH_PORT}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** GET a path on the loopback interface and return the body as text. */
export async function get(port: number, path: string, timeoutMs = 10_000): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
  return (await response.text()).trim();
}

/** GET on a new TCP connection (no keep-alive pool): each request connects, so a refused connection shows. */
export function getOnNewConnection(port: number, path: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve(body.trim()));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}
