// IPv4 CIDR arithmetic, computed at synth time so that subnets have literal CIDRs in the
// Terraform JSON (tests can assert them, `plan` shows them) instead of cidrsubnet() calls.

/** A parsed IPv4 CIDR block. */
export interface Cidr {
  /** The network address as an unsigned 32-bit integer. */
  readonly address: number;
  readonly prefix: number;
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/**
 * Parses `a.b.c.d/n`; returns `undefined` when it is not a valid network (host bits set, octet > 255).
 * @example parseCidr('10.20.0.0/16'); // { address: 169082880, prefix: 16 }
 */
export function parseCidr(text: string): Cidr | undefined {
  const match = CIDR.exec(text);
  if (match === null) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix > 32) return undefined;
  const address = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  const hostBits = 32 - prefix;
  if (address % 2 ** hostBits !== 0) return undefined;
  return { address, prefix };
}

/**
 * Terraform's `cidrsubnet(prefix, newbits, netnum)`.
 * @throws {RangeError} when `netnum` does not fit in `newbits`.
 * @example cidrSubnet('10.20.0.0/16', 4, 1); // '10.20.16.0/20'
 */
export function cidrSubnet(cidr: string, newBits: number, netNum: number): string {
  const parsed = parseCidr(cidr);
  if (parsed === undefined) throw new RangeError(`"${cidr}" is not an IPv4 network in CIDR notation (example: "10.20.0.0/16")`);
  const prefix = parsed.prefix + newBits;
  if (prefix > 32 || netNum < 0 || netNum >= 2 ** newBits || !Number.isInteger(netNum)) {
    throw new RangeError(`network number ${netNum} does not fit in ${newBits} new bits of ${cidr}`);
  }
  const address = parsed.address + netNum * 2 ** (32 - prefix);
  return `${formatAddress(address)}/${prefix}`;
}

function formatAddress(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.');
}
