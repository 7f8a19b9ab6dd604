/**
 * The operator's HTTP endpoints, on METRICS_PORT (bound to METRICS_HOST, 127.0.0.1 by default):
 * `/healthz` (the process answers), `/readyz` (every readiness check passes: bots connected, queue
 * and settings store reachable) and `/metrics` (Prometheus text).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.js';

/** Resolves to true when ready, or to a short reason when not. */
export type ReadinessCheck = () => Promise<true | string>;

export interface MetricsServerOptions {
  port: number;
  host: string;
  metrics: Metrics;
  checks: Record<string, ReadinessCheck>;
  /** A check that takes longer than this counts as failed (a Redis that does not answer). */
  checkTimeoutMs?: number;
}

export interface MetricsServer {
  /** The bound port (useful with port 0 in tests). */
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const timeoutMs = options.checkTimeoutMs ?? 2000;
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const send = (status: number, contentType: string, body: string): void => {
      res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
    if (path === '/healthz') return send(200, 'text/plain', 'ok\n');
    if (path === '/readyz') {
      void readiness(options.checks, timeoutMs).then(
        (result) => send(result.ready ? 200 : 503, 'application/json', `${JSON.stringify(result)}\n`),
        () => send(503, 'application/json', '{"ready":false}\n'),
      );
      return;
    }
    if (path === '/metrics') {
      void options.metrics.scrape().then(
        ({ contentType, body }) => send(200, contentType, body),
        (error: unknown) => send(500, 'text/plain', `metrics failed: ${error instanceof Error ? error.message : String(error)}\n`),
      );
      return;
    }
    send(404, 'text/plain', 'not found: try /healthz, /readyz or /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readiness(checks: Record<string, ReadinessCheck>, timeoutMs: number): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer in ${timeoutMs} ms`), timeoutMs)));
      try {
        const outcome = await Promise.race([check().catch((error: unknown) => (error instanceof Error ? error.message : String(error))), timeout]);
        return [name, outcome === true ? 'ok' : outcome] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: results.every(([, outcome]) => outcome === 'ok'), checks: Object.fromEntries(results) };
}
