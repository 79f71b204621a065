// pm2 process file of the calculator: two workers in cluster mode, reloaded one at a time by
// `pm2 reload ecosystem.config.cjs`. `wait_ready`: a new worker counts as up when it sends `ready`
// (server.mjs sends it once it listens), not merely when it starts. `kill_timeout`: how long an old
// worker has to exit after SIGINT before pm2 sends SIGKILL (default 1,600 ms).
module.exports = {
  apps: [
    {
      name: "calculator",
      script: "./server.mjs",
      exec_mode: "cluster",
      instances: 2,
      wait_ready: true,
      listen_timeout: 10_000,
      kill_timeout: 5_000,
      env: { PORT: process.env.PORT },
    },
  ],
};
