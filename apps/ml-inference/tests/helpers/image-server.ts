// A local HTTP server on 127.0.0.1 that serves images and misbehaves on request. Tests never
// send traffic anywhere else.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ImageServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly port: number;
  /** Paths requested so far, in order. */
  readonly requests: string[];
  /** Serves `body` at `path` (with an optional content type). */
  route(path: string, handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  file(path: string, body: Uint8Array | string, contentType?: string): void;
  close(): Promise<void>;
}

export async function startImageServer(host = '127.0.0.1'): Promise<ImageServer> {
  const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    requests.push(req.url ?? '/');
    const handler = routes.get(path);
    if (handler === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    handler(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://${host}:${port}`,
    port,
    requests,
    route: (path, handler) => routes.set(path, handler),
    file: (path, body, contentType = 'application/octet-stream') =>
      routes.set(path, (_req, res) => {
        res.writeHead(200, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) }).end(body);
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
