import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PortTakenError, ServerStartError, inspectServer, portIsOpen, startServer, stopServer, type ServerSpec } from './supervisor.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** A real child process that listens on a port: a stand-in server for the supervisor. */
function listenerSpec(port: number, script = `require('net').createServer().listen(${port}, '127.0.0.1')`): ServerSpec {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'supervisor-'));
  const spec: ServerSpec = {
    name: 'listener',
    label: 'Listener',
    command: process.execPath,
    args: ['-e', script],
    ports: [{ port, role: 'tcp' }],
    profileRoot: root,
    prepare: async () => undefined,
    isReady: () => portIsOpen(port),
    readyTimeoutMs: 5000,
    stopTimeoutMs: 2000,
  };
  cleanups.push(async () => void (await stopServer(spec)));
  return spec;
}

describe('supervisor', () => {
  it('starts, reuses, and stops a server', async () => {
    const spec = listenerSpec(await freePort());
    expect(await startServer(spec)).toBe('started');
    expect(inspectServer(spec).state).toBe('running');
    expect(await startServer(spec)).toBe('already-running');
    expect(await stopServer(spec)).toBe('stopped');
    expect(inspectServer(spec).state).toBe('stopped');
    expect(await portIsOpen(spec.ports[0]!.port)).toBe(false);
  });

  it('reconfigures a server found already running, with its pid (not one it has just started)', async () => {
    const reconfigured: number[] = [];
    const spec = { ...listenerSpec(await freePort()), reconfigure: async (pid: number) => void reconfigured.push(pid) };
    cleanups.push(async () => void (await stopServer(spec)));
    expect(await startServer(spec)).toBe('started');
    expect(reconfigured).toEqual([]);
    const running = inspectServer(spec);
    expect(await startServer(spec)).toBe('already-running');
    expect(running.state === 'running' ? [running.pid] : []).toEqual(reconfigured);
    expect(reconfigured).toHaveLength(1);
  });

  it('sees a crashed server as dead and restarts it as recovered', async () => {
    const spec = listenerSpec(await freePort());
    await startServer(spec);
    const before = inspectServer(spec);
    if (before.state !== 'running') throw new Error('not running');
    process.kill(before.pid, 'SIGKILL');
    await expect.poll(() => inspectServer(spec).state).toBe('dead');
    expect(await startServer(spec)).toBe('recovered');
  });

  it('names the port and the server when a foreign process holds the port', async () => {
    const port = await freePort();
    const squatter = net.createServer().listen(port, '127.0.0.1');
    await new Promise((r) => squatter.once('listening', r));
    cleanups.push(() => new Promise((r) => squatter.close(() => r())));
    const error = await startServer(listenerSpec(port)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortTakenError);
    expect((error as Error).message).toMatch(new RegExp(`port ${port} needed by Listener \\(tcp\\) is already in use`));
  });

  it('reports a server that exits while starting, with its log', async () => {
    const spec = listenerSpec(await freePort(), `console.error('bad config: no such lane'); process.exit(3)`);
    const error = await startServer(spec).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerStartError);
    expect((error as Error).message).toMatch(/Listener exited while starting[\s\S]*bad config: no such lane/);
    expect(inspectServer(spec).state).toBe('stopped');
  });

  it('kills a server that ignores SIGTERM after its grace period', async () => {
    const port = await freePort();
    const spec = listenerSpec(port, `process.on('SIGTERM', () => {}); require('net').createServer().listen(${port}, '127.0.0.1')`);
    await startServer(spec);
    expect(await stopServer(spec)).toBe('killed');
  });
});
