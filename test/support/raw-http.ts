import { connect } from 'node:net';

/**
 * HTTP/1.1 written byte by byte on a socket, for requests no HTTP client sends: a header twice, raw
 * non-ASCII bytes or a NUL in a header, a body shorter than its Content-Length, broken chunking.
 */
export interface RawRequest {
  method: string;
  /** Path and query, sent as they are. */
  target: string;
  /** In order; a name may repeat. Values may be bytes. */
  headers?: readonly (readonly [string, string | Buffer])[];
  body?: Buffer | string;
  /** `Content-Length` to declare; by default the body's length, none without a body. `null`: none. */
  contentLength?: number | null;
  /** Bytes to send instead of the request line and headers built from the above (e.g. a bad version). */
  head?: Buffer | string;
  /**
   * Half-close the connection once everything is written (as a client that sent all it had), so a
   * body shorter than its Content-Length ends at end of stream. @defaultValue true
   */
  end?: boolean;
  /** Bytes sent after the request (pipelined garbage). */
  trailing?: string;
  /** Destroy the connection once the request is written, as a client that went away mid-request. */
  abort?: boolean;
}

export interface RawResponse {
  status: number;
  /** Lower-case names; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: string;
}

const CRLF = '\r\n';

function requestBytes(request: RawRequest): Buffer {
  const body =
    request.body === undefined
      ? Buffer.alloc(0)
      : Buffer.isBuffer(request.body)
        ? request.body
        : Buffer.from(request.body, 'utf8');
  if (request.head !== undefined) {
    return Buffer.concat([
      Buffer.isBuffer(request.head) ? request.head : Buffer.from(request.head, 'latin1'),
      body,
    ]);
  }
  const lines: Buffer[] = [
    Buffer.from(`${request.method} ${request.target} HTTP/1.1${CRLF}host: hub${CRLF}`),
  ];
  for (const [name, value] of request.headers ?? []) {
    lines.push(
      Buffer.from(`${name}: `, 'latin1'),
      Buffer.isBuffer(value) ? value : Buffer.from(value, 'latin1'),
    );
    lines.push(Buffer.from(CRLF));
  }
  const length =
    request.contentLength === undefined
      ? request.body === undefined
        ? null
        : body.length
      : request.contentLength;
  if (length !== null) lines.push(Buffer.from(`content-length: ${length}${CRLF}`));
  lines.push(Buffer.from(`connection: close${CRLF}${CRLF}`));
  return Buffer.concat([...lines, body, Buffer.from(request.trailing ?? '', 'latin1')]);
}

function decodeChunked(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf(CRLF, at);
    if (lineEnd === -1) break;
    const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** The first response in `bytes`, or undefined when they do not hold a complete one yet. */
function parseResponse(bytes: Buffer, closed: boolean): RawResponse | undefined {
  const headEnd = bytes.indexOf(CRLF + CRLF);
  if (headEnd === -1) return undefined;
  const [statusLine = '', ...lines] = bytes.subarray(0, headEnd).toString('latin1').split(CRLF);
  const status = Number(statusLine.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = bytes.subarray(headEnd + 4);
  let body: Buffer;
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
    if (!closed && rest.indexOf(`0${CRLF}${CRLF}`) === -1) return undefined;
    body = decodeChunked(rest);
  } else if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    // A response to HEAD declares a length and sends no body: the connection's close ends it.
    if (rest.length < length && !closed) return undefined;
    body = rest.subarray(0, length);
  } else {
    if (!closed) return undefined;
    body = rest;
  }
  return { status, headers, body: body.toString('utf8') };
}

/**
 * Sends one request on a new connection and reads the first response. Resolves undefined when the hub
 * closed the connection without answering (or the request was aborted); rejects when nothing conclusive
 * happened within `timeoutMs`.
 */
export function rawRequest(
  url: string,
  request: RawRequest,
  timeoutMs = 10_000,
): Promise<RawResponse | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    const timer = setTimeout(
      () =>
        settle(() =>
          reject(new Error(`no response to ${request.method} ${request.target} within ${timeoutMs} ms`)),
        ),
      timeoutMs,
    );
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const response = parseResponse(Buffer.concat(chunks), false);
      if (response !== undefined) settle(() => resolve(response));
    });
    socket.on('close', () => settle(() => resolve(parseResponse(Buffer.concat(chunks), true))));
    // The hub may answer and close before the whole request is written (e.g. 413): not an error here.
    socket.on('error', () => undefined);
    socket.write(requestBytes(request), () => {
      if (request.abort === true) settle(() => resolve(undefined));
      else if (request.end !== false) socket.end();
    });
  });
}
