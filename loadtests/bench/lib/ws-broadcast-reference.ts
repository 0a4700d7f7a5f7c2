/**
 * The reference for the fan-out benchmark: the least a WebSocket server can do, a bare
 * `ws` server (same library, deflate off) that sends every connected client the same
 * pre-serialised frame, `rate` times a second. No auth, no subscriptions, no Kafka. The
 * frame is the gateway's delta frame for a throughput tick (same shape, same size), so
 * both sides of the comparison move and parse the same bytes.
 *
 *   node --import tsx loadtests/bench/lib/ws-broadcast-reference.ts <port> <frames per second>
 *
 * Prints `ready` when listening; sends after receiving "start <seconds>" on stdin.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { emptyMeasures } from '@tower/shared';

const port = Number(process.argv[2]);
const rate = Number(process.argv[3]);
const clients = new Set<WebSocket>();
const server = new WebSocketServer({ port, host: '127.0.0.1', perMessageDeflate: false, backlog: 4096 });
server.on('connection', (ws) => {
  clients.add(ws);
  ws.on('close', () => clients.delete(ws));
  ws.on('message', () => ws.send('{"type":"snapshot"}'));
});
server.on('listening', () => process.stdout.write('ready\n'));

process.stdin.on('data', (data) => {
  const [command, seconds] = data.toString().trim().split(' ');
  if (command !== 'start') return;
  let seq = 0;
  const timer = setInterval(() => {
    seq += 1;
    const windowStart = Math.floor(Date.now() / 60_000) * 60_000;
    const tick = { site: 'bac-luan-2', lane: `bl2-smart-ex-${1 + (seq % 4)}`, direction: 'export', laneKind: 'smart', windowStart, windowEnd: windowStart + 60_000, final: false, correction: false, ...emptyMeasures, events: seq, newestIngestedAt: Date.now(), publishedAt: Date.now() };
    const frame = JSON.stringify({ type: 'delta', id: 'zone', seq, data: tick });
    for (const ws of clients) ws.send(frame);
  }, 1000 / rate);
  setTimeout(() => {
    clearInterval(timer);
    process.stdout.write(`sent ${seq}\n`);
  }, Number(seconds) * 1000);
});

// SIGINT (from the benchmark) exits normally, so a --cpu-prof profile is written.
process.on('SIGINT', () => process.exit(0));
