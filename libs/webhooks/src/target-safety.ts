import dns from 'node:dns';
import { isIP, isIPv4, isIPv6, type LookupFunction } from 'node:net';
import { DomainError } from '#lgsp/contracts';

/**
 * Where a webhook may point. By default only `https` URLs whose host resolves to public addresses;
 * `webhooks.allowInsecureTargets` lifts both rules (plain `http`, private and loopback networks) for
 * development and tests. The check runs when a webhook is created ({@link parseWebhookUrl},
 * {@link assertPublicTarget}) and again on the address each delivery connects to ({@link safeLookup},
 * {@link assertPublicIpLiteral}), so a DNS change cannot turn a webhook into a probe of the hub's network.
 */

/** The longest webhook URL the hub accepts, in characters. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

const ALLOW_HINT = 'set webhooks.allowInsecureTargets to allow it';

/**
 * A webhook target the hub refuses to call: a bad URL, a scheme other than `https`, credentials in the
 * URL, or a host that is (or resolves to) a non-public address. Never retriable; the issue points at
 * `/url`. Messages describe a URL as `scheme://host[:port]/path` only: no userinfo, no query.
 */
export class UnsafeTargetError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid', message, [{ pointer: '/url', message }], { ...options, retriable: false });
    this.name = 'UnsafeTargetError';
  }
}

/** Resolves a host name to every address it has; `dns.promises.lookup` with `all` by default. */
export type LookupAll = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

const defaultLookupAll: LookupAll = (hostname) =>
  dns.promises.lookup(hostname, { all: true, order: 'verbatim' });

interface Range {
  prefix: bigint;
  bits: number;
  kind: string;
}

const v4 = (cidr: string, kind: string): Range => {
  const [address = '', bits = ''] = cidr.split('/');
  return { prefix: ipv4Value(address), bits: Number(bits), kind };
};
const v6 = (cidr: string, kind: string): Range => {
  const [address = '', bits = ''] = cidr.split('/');
  return { prefix: ipv6Value(address), bits: Number(bits), kind };
};

const IPV4_RANGES: readonly Range[] = [
  v4('0.0.0.0/8', 'a "this network" address'),
  v4('10.0.0.0/8', 'a private address'),
  v4('100.64.0.0/10', 'a shared (carrier-grade NAT) address'),
  v4('127.0.0.0/8', 'a loopback address'),
  v4('169.254.0.0/16', 'a link-local address'),
  v4('172.16.0.0/12', 'a private address'),
  v4('192.0.0.0/24', 'an IETF protocol assignment'),
  v4('192.0.2.0/24', 'a documentation address'),
  v4('192.168.0.0/16', 'a private address'),
  v4('198.18.0.0/15', 'a benchmarking address'),
  v4('198.51.100.0/24', 'a documentation address'),
  v4('203.0.113.0/24', 'a documentation address'),
  v4('224.0.0.0/4', 'a multicast address'),
  v4('255.255.255.255/32', 'the broadcast address'),
  v4('240.0.0.0/4', 'a reserved address'),
];

/** IPv6 ranges that carry an IPv4 address in their low 32 bits: judged by that address. */
const IPV6_EMBEDDING_V4: readonly Range[] = [
  v6('::ffff:0:0/96', 'an IPv4-mapped address'),
  v6('::ffff:0:0:0/96', 'an IPv4-translated address'),
  v6('::/96', 'an IPv4-compatible address'),
];

const IPV6_RANGES: readonly Range[] = [
  v6('64:ff9b::/96', 'a NAT64 address'),
  v6('64:ff9b:1::/48', 'a local NAT64 address'),
  v6('100::/64', 'a discard-only address'),
  v6('2001:db8::/32', 'a documentation address'),
  v6('fc00::/7', 'a unique local (private) address'),
  v6('fe80::/10', 'a link-local address'),
  // Deprecated by RFC 3879, still routed by some stacks.
  v6('fec0::/10', 'a site-local address'),
  v6('ff00::/8', 'a multicast address'),
];

/** 6to4 (RFC 3056) carries an IPv4 address in bits 16–47. */
const SIX_TO_FOUR = v6('2002::/16', 'a 6to4 address');

function ipv4Value(address: string): bigint {
  return address.split('.').reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
}

/** The 128-bit value of a valid IPv6 address (checked with `isIPv6` first), dotted IPv4 tail included. */
function ipv6Value(address: string): bigint {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const tail = Number(ipv4Value(text.slice(lastColon + 1)));
    text = `${text.slice(0, lastColon + 1)}${(tail >>> 16).toString(16)}:${(tail & 0xffff).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups =
    rest === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

const inRange = (value: bigint, width: number, range: Range): boolean => {
  const shift = BigInt(width - range.bits);
  return value >> shift === range.prefix >> shift;
};

const dottedQuad = (value: bigint): string =>
  [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');

function ipv4Kind(value: bigint): string | undefined {
  return IPV4_RANGES.find((range) => inRange(value, 32, range))?.kind;
}

function ipv6Kind(value: bigint): string | undefined {
  if (value === 0n) return 'the unspecified address';
  if (value === 1n) return 'a loopback address';
  for (const range of IPV6_EMBEDDING_V4) {
    if (!inRange(value, 128, range)) continue;
    const embedded = value & 0xffffffffn;
    const kind = ipv4Kind(embedded);
    return kind === undefined ? undefined : `${range.kind} for ${dottedQuad(embedded)}, ${kind}`;
  }
  if (inRange(value, 128, SIX_TO_FOUR)) {
    const embedded = (value >> 80n) & 0xffffffffn;
    const kind = ipv4Kind(embedded);
    return kind === undefined ? undefined : `${SIX_TO_FOUR.kind} for ${dottedQuad(embedded)}, ${kind}`;
  }
  return IPV6_RANGES.find((range) => inRange(value, 128, range))?.kind;
}

const unbracket = (host: string): string =>
  host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;

/**
 * Why `ip` is not a public address (`'a private address'`, …), or undefined when it is public. Anything
 * that is not an IP address, and any scoped IPv6 address (`fe80::1%eth0`), counts as not public.
 */
function nonPublicKind(ip: string): string | undefined {
  const address = unbracket(ip.trim());
  if (address.includes('%')) return 'a scoped (zone) address';
  if (isIPv4(address)) return ipv4Kind(ipv4Value(address));
  if (isIPv6(address)) return ipv6Kind(ipv6Value(address));
  return 'not an IP address';
}

/**
 * Whether `ip` is a publicly routable unicast address. False for loopback, private, link-local,
 * shared, documentation, benchmarking, multicast and reserved ranges of IPv4 and IPv6; IPv4-mapped,
 * -compatible, -translated and 6to4 IPv6 addresses are judged by the IPv4 address they carry. Accepts
 * bracketed IPv6 (`[::1]`); a zone id (`fe80::1%eth0`) or a string that is not an address gives false.
 */
export function isPublicAddress(ip: string): boolean {
  return nonPublicKind(ip) === undefined;
}

/** A URL as `scheme://host[:port]/path`: never its userinfo, query or fragment, which may hold secrets. */
function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** `prefix` comes first (the described URL and `': '`, or nothing); `name`, when the address is its answer. */
function refuseAddress(prefix: string, address: string, kind: string, name?: string): UnsafeTargetError {
  const ip = unbracket(address);
  const what = name === undefined ? `${ip} is ${kind}` : `${name} resolves to ${ip}, ${kind}`;
  return new UnsafeTargetError(`${prefix}${what}; webhooks go to public addresses (${ALLOW_HINT})`);
}

const LOCAL_NAME_SUFFIXES = ['.localhost', '.local', '.internal', '.home.arpa'];

/** Whether `hostname` (lower case, as `URL` gives it) is a name reserved for local networks. */
function isLocalName(hostname: string): boolean {
  const name = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
  return name === 'localhost' || LOCAL_NAME_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

/**
 * Parses and checks a webhook URL when a webhook is created or changed. Refused, always: a string that
 * is not an absolute URL, longer than {@link MAX_WEBHOOK_URL_LENGTH}, with credentials
 * (`user:pass@`), with a fragment, or with a scheme other than `http` and `https`. Refused unless
 * `allowInsecure`: `http`, an IP literal that is not public, and `localhost` or a name under
 * `.localhost`, `.local`, `.internal` or `.home.arpa`. Host names are resolved separately, by
 * {@link assertPublicTarget}.
 *
 * @throws UnsafeTargetError
 */
export function parseWebhookUrl(raw: string, allowInsecure: boolean): URL {
  const tooLong = (length: number): UnsafeTargetError =>
    new UnsafeTargetError(
      `the webhook URL is ${length} characters long; the limit is ${MAX_WEBHOOK_URL_LENGTH}`,
    );
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) throw tooLong(raw.length);
  if (!URL.canParse(raw)) throw new UnsafeTargetError('the webhook URL is not an absolute URL');
  const url = new URL(raw);
  // Parsing percent-encodes, so the URL the hub would store and call can be longer than the input.
  if (url.href.length > MAX_WEBHOOK_URL_LENGTH) throw tooLong(url.href.length);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    // Only the scheme: the rest of a javascript: or data: URL is not worth echoing.
    throw new UnsafeTargetError(`the scheme ${url.protocol.slice(0, -1)} is not allowed; webhooks use https`);
  }
  const described = describeUrl(url);
  if (url.username !== '' || url.password !== '') {
    throw new UnsafeTargetError(
      `${described}: a webhook URL must not carry credentials; the hub signs its deliveries instead`,
    );
  }
  if (url.href.includes('#')) {
    throw new UnsafeTargetError(`${described}: a webhook URL must not have a fragment`);
  }
  if (!allowInsecure) {
    if (isIP(unbracket(url.hostname)) !== 0) assertPublicIpLiteral(url.hostname, false, `${described}: `);
    else if (isLocalName(url.hostname)) {
      throw new UnsafeTargetError(
        `${described}: ${url.hostname} is a local name; webhooks go to public addresses (${ALLOW_HINT})`,
      );
    }
  }
  if (url.protocol === 'http:' && !allowInsecure) {
    throw new UnsafeTargetError(`${described}: webhooks use https, not http (${ALLOW_HINT})`);
  }
  return url;
}

/**
 * Refuses `host` when it is an IP literal (bracketed IPv6 included) that is not public, unless
 * `allowInsecure`. Does nothing for a host name: those are checked on resolution by {@link safeLookup}.
 * A delivery calls this before connecting, because `net.connect` does not call `lookup` for an IP.
 *
 * @param prefix Put before the message, e.g. the described URL and `': '`.
 * @throws UnsafeTargetError
 */
export function assertPublicIpLiteral(host: string, allowInsecure: boolean, prefix = ''): void {
  if (allowInsecure || isIP(unbracket(host)) === 0) return;
  const kind = nonPublicKind(host);
  if (kind !== undefined) throw refuseAddress(prefix, host, kind);
}

const NOT_FOUND_CODES = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME', 'EAI_NONAME', 'EAI_NODATA']);

/**
 * Checks, when a webhook is created, that its host resolves and that every address it resolves to is
 * public (the latter unless `allowInsecure`). A name that does not exist is refused; a resolver that
 * fails for another reason (timeout, SERVFAIL) gives a retriable `unavailable` error.
 *
 * @param lookup Resolves a name to all its addresses; `dns.promises.lookup` by default.
 * @throws UnsafeTargetError, or DomainError `unavailable`
 */
export async function assertPublicTarget(
  url: URL,
  allowInsecure: boolean,
  lookup: LookupAll = defaultLookupAll,
): Promise<void> {
  const described = describeUrl(url);
  if (isIP(unbracket(url.hostname)) !== 0) {
    assertPublicIpLiteral(url.hostname, allowInsecure, `${described}: `);
    return;
  }
  let addresses: readonly { address: string }[];
  try {
    addresses = await lookup(url.hostname);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code !== undefined && NOT_FOUND_CODES.has(code)) {
      throw new UnsafeTargetError(`${described}: ${url.hostname} does not resolve`, { cause: error });
    }
    throw new DomainError('unavailable', `${described}: ${url.hostname} could not be resolved now`, [], {
      cause: error,
      retriable: true,
    });
  }
  if (addresses.length === 0) throw new UnsafeTargetError(`${described}: ${url.hostname} does not resolve`);
  if (allowInsecure) return;
  for (const { address } of addresses) {
    const kind = nonPublicKind(address);
    if (kind !== undefined) throw refuseAddress(`${described}: `, address, kind, url.hostname);
  }
}

/**
 * A `lookup` for `http.request`, an `Agent` or `net.connect` that resolves with `dns.lookup` and fails
 * the connection with an {@link UnsafeTargetError} when any address of the name is not public (unless
 * `allowInsecure`). The check sits on the address the socket connects to, so a name that changes its
 * answer between the creation check and a delivery cannot reach the hub's own network. Answers in the
 * shape asked for: an array with `options.all`, else the first address and its family.
 */
export function safeLookup(allowInsecure: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      const fail = (err: NodeJS.ErrnoException): void => {
        if (options.all === true) callback(err, []);
        else callback(err, '');
      };
      if (error) return fail(error);
      const first = addresses[0];
      if (first === undefined) {
        return fail(Object.assign(new Error(`${hostname} does not resolve`), { code: 'ENOTFOUND' }));
      }
      if (!allowInsecure) {
        for (const { address } of addresses) {
          const kind = nonPublicKind(address);
          if (kind !== undefined) return fail(refuseAddress('', address, kind, hostname));
        }
      }
      if (options.all === true) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}
