// One HTTP client in its own process: GETs a URL one request at a time on a keep-alive connection until
// told to stop (an IPC message), then sends back the longest request it saw and how many it made.
import http from "node:http";

const url = new URL(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let going = true;
let worst = 0;
let count = 0;
let started = false;

const once = () =>
  new Promise((resolve, reject) => {
    http
      .get({ host: url.hostname, port: url.port, path: url.pathname, agent }, (res) => {
        res.resume();
        res.on("end", resolve);
      })
      .on("error", reject);
  });

process.on("message", (message) => {
  if (message === "stop") going = false;
});

// A few requests first, so that the connection is open and the code is warm before the window starts.
for (let i = 0; i < 200; i++) await once();
process.send({ ready: true });
started = true;
while (going && started) {
  const t0 = performance.now();
  await once();
  worst = Math.max(worst, performance.now() - t0);
  count++;
}
process.send({ worstMs: worst, requests: count });
agent.destroy();
process.disconnect();
