// The Node baseline of bench/fanout.py: a bare relay on the `ws` package, as its README
// broadcasts (every message to every open client; no parsing, validation or storage).
// No permessage-deflate (ws's server default). Prints "ready" once listening.
"use strict";
const { WebSocketServer, WebSocket } = require("ws");

const port = Number(process.argv[2]);
const wss = new WebSocketServer({ host: "127.0.0.1", port, maxPayload: 1 << 20 });
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => {
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    }
  });
});
wss.on("listening", () => console.log("ready"));
process.on("SIGTERM", () => wss.close(() => process.exit(0)));
