// Which IP addresses the function may connect to when it fetches an image URL. Anything that is
// not a public unicast address is refused: loopback, private, link-local (169.254.169.254, the
// instance metadata service, among them), carrier-grade NAT, unique-local, multicast,
// unspecified, documentation, benchmarking and reserved ranges, for IPv4 and IPv6, with IPv4
// addresses embedded in IPv6 (IPv4-mapped, IPv4-compatible, NAT64, 6to4) judged as IPv4.
import { isIPv4, isIPv6 } from 'node:net';

/** Why an address is refused; `undefined` from {@link classifyAddress} means a public address. */
export type AddressCategory =
  | 'cloud metadata service'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'carrier-grade NAT'
  | 'unique-local'
  | 'multicast'
  | 'unspecified'
  | 'broadcast'
  | 'documentation'
  | 'benchmarking'
  | 'reserved'
  | 'non-global IPv6';

/** Categories that IMAGE_FETCH_ALLOW_PRIVATE_NETWORKS lets through (the local runtime's own machine and LAN). */
const PRIVATE_NETWORK_CATEGORIES: ReadonlySet<AddressCategory> = new Set(['loopback', 'private', 'carrier-grade NAT', 'unique-local']);

interface Range4 {
  readonly base: number;
  readonly bits: number;
  readonly category: AddressCategory;
}

function v4(text: string): number {
  const parts = text.split('.').map(Number);
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}

/**
 * Cloud metadata and credential services, refused in every mode (also when private networks are
 * allowed): they hand out the credentials of the machine or task that asks.
 */
const METADATA_V4: ReadonlySet<number> = new Set(
  [
    '169.254.169.254', // AWS EC2 (IMDS), Google Cloud, Azure, OpenStack, DigitalOcean, Hetzner, Oracle (v2)
    '169.254.170.2', // AWS ECS task metadata and credentials
    '169.254.170.23', // AWS EKS Pod Identity agent
    '169.254.0.23', // Tencent Cloud
    '169.254.42.42', // Scaleway
    '100.100.100.200', // Alibaba Cloud
    '192.0.0.192', // Oracle Cloud (v1)
    '168.63.129.16', // Azure WireServer (a public address)
  ].map(v4),
);

/** IPv6 metadata services, as their 8 groups. */
const METADATA_V6: readonly (readonly number[])[] = [
  'fd00:ec2::254', // AWS EC2 IMDS over IPv6
  'fd00:ec2::23', // AWS EKS Pod Identity agent over IPv6
  'fd20:ce::254', // Google Cloud metadata over IPv6
].map((text) => ipv6Groups(text));

/** Host names of metadata services, refused before any DNS lookup (in every mode). */
export const METADATA_HOSTS: ReadonlySet<string> = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
  'metadata.azure.com',
]);

const RANGES_V4: readonly Range4[] = [
  { base: v4('0.0.0.0'), bits: 8, category: 'unspecified' }, // "this network"
  { base: v4('10.0.0.0'), bits: 8, category: 'private' },
  { base: v4('100.64.0.0'), bits: 10, category: 'carrier-grade NAT' },
  { base: v4('127.0.0.0'), bits: 8, category: 'loopback' },
  { base: v4('169.254.0.0'), bits: 16, category: 'link-local' },
  { base: v4('172.16.0.0'), bits: 12, category: 'private' },
  { base: v4('192.0.0.0'), bits: 24, category: 'reserved' }, // IETF protocol assignments
  { base: v4('192.0.2.0'), bits: 24, category: 'documentation' },
  { base: v4('192.88.99.0'), bits: 24, category: 'reserved' }, // 6to4 relay anycast
  { base: v4('192.168.0.0'), bits: 16, category: 'private' },
  { base: v4('198.18.0.0'), bits: 15, category: 'benchmarking' },
  { base: v4('198.51.100.0'), bits: 24, category: 'documentation' },
  { base: v4('203.0.113.0'), bits: 24, category: 'documentation' },
  { base: v4('224.0.0.0'), bits: 4, category: 'multicast' },
  { base: v4('255.255.255.255'), bits: 32, category: 'broadcast' },
  { base: v4('240.0.0.0'), bits: 4, category: 'reserved' },
];

function classifyV4(address: string): AddressCategory | undefined {
  const value = v4(address);
  if (METADATA_V4.has(value)) return 'cloud metadata service';
  for (const range of RANGES_V4) {
    const mask = range.bits === 0 ? 0 : (0xffffffff << (32 - range.bits)) >>> 0;
    if ((value & mask) >>> 0 === range.base) return range.category;
  }
  return undefined;
}

/** The 8 groups of an IPv6 address as numbers (handles `::` and a dotted IPv4 tail). */
export function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // A dotted IPv4 tail (::ffff:127.0.0.1) becomes two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1] !== undefined) {
    const n = v4(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...fill, ...tailGroups].map((group) => Number.parseInt(group, 16));
}

function embeddedV4(groups: readonly number[], high: number, low: number): string {
  const a = groups[high] ?? 0;
  const b = groups[low] ?? 0;
  return `${a >>> 8}.${a & 0xff}.${b >>> 8}.${b & 0xff}`;
}

function classifyV6(address: string): AddressCategory | undefined {
  const g = ipv6Groups(address);
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  if (METADATA_V6.some((m) => m.every((group, i) => group === g[i]))) return 'cloud metadata service';
  const zeroUpTo5 = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (zeroUpTo5 && g5 === 0 && g6 === 0 && g7 === 0) return 'unspecified';
  if (zeroUpTo5 && g5 === 0 && g6 === 0 && g7 === 1) return 'loopback';
  // ::ffff:a.b.c.d (IPv4-mapped) and ::a.b.c.d (IPv4-compatible, deprecated): judged as IPv4.
  if (zeroUpTo5 && (g5 === 0xffff || g5 === 0)) return classifyV4(embeddedV4(g, 6, 7)) ?? (g5 === 0 ? 'reserved' : undefined);
  // ::ffff:0:a.b.c.d (IPv4-translated, RFC 2765).
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) return classifyV4(embeddedV4(g, 6, 7)) ?? 'reserved';
  // 64:ff9b::/96 (NAT64 well-known prefix): the IPv4 address it reaches.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return classifyV4(embeddedV4(g, 6, 7));
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return 'private'; // 64:ff9b:1::/48, local-use NAT64
  // 2002::/16 (6to4): the IPv4 address in groups 1–2.
  if (g0 === 0x2002) return classifyV4(embeddedV4(g, 1, 2));
  if ((g0 & 0xff00) === 0xff00) return 'multicast';
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  if ((g0 & 0xffc0) === 0xfec0) return 'private'; // site-local (deprecated)
  if ((g0 & 0xfe00) === 0xfc00) return 'unique-local'; // fc00::/7, fd00:ec2::254 (EC2 metadata) among them
  if (g0 === 0x2001 && g1 === 0x0db8) return 'documentation';
  if (g0 === 0x3fff && (g1 & 0xf000) === 0) return 'documentation'; // 3fff::/20
  if (g0 === 0x2001 && g1 < 0x0200) return 'reserved'; // 2001::/23 IETF protocol assignments (Teredo, ORCHID, benchmarking)
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) return 'reserved'; // 100::/64 discard-only
  // Only 2000::/3 is global unicast; everything else is unassigned or special.
  if ((g0 & 0xe000) !== 0x2000) return 'non-global IPv6';
  return undefined;
}

/**
 * The category of a non-public address, or `undefined` for a public one. Accepts IPv4 dotted
 * quads and IPv6 text (with or without brackets); anything else is 'reserved'.
 * @example
 * classifyAddress('169.254.169.254'); // 'link-local'
 * classifyAddress('::ffff:127.0.0.1'); // 'loopback'
 * classifyAddress('93.184.215.14');    // undefined (public)
 */
export function classifyAddress(address: string): AddressCategory | undefined {
  const text = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIPv4(text)) return classifyV4(text);
  if (isIPv6(text)) return classifyV6(text);
  return 'reserved';
}

/** Decides whether the function may connect to an address: the reason it may not, or undefined. */
export type AddressCheck = (address: string) => AddressCategory | undefined;

/** The production check: public addresses only, plus private networks when allowed. */
export function addressCheck(allowPrivateNetworks: boolean): AddressCheck {
  return (address) => {
    const category = classifyAddress(address);
    if (category !== undefined && allowPrivateNetworks && PRIVATE_NETWORK_CATEGORIES.has(category)) return undefined;
    return category;
  };
}
