import { describe, expect, it } from 'vitest';

import { addressCheck, classifyAddress, ipv6Groups } from '../../src/core/address-policy.js';

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'cloud metadata service'],
    ['169.254.169.253', 'link-local'],
    ['169.254.170.2', 'cloud metadata service'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.254', 'carrier-grade NAT'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
  ])('refuses the IPv4 address %s as %s', (address, category) => {
    expect(classifyAddress(address)).toBe(category);
  });

  it.each([
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'cloud metadata service'],
    ['::ffff:10.1.2.3', 'private'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'cloud metadata service'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:c0a8:101::1', 'private'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd00:ec2::254', 'cloud metadata service'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['2001::1', 'reserved'],
    ['[::1]', 'loopback'],
    ['100::1', 'reserved'],
  ])('refuses the IPv6 address %s as %s', (address, category) => {
    expect(classifyAddress(address)).toBe(category);
  });

  it.each([
    '93.184.215.14',
    '8.8.8.8',
    '1.1.1.1',
    '100.128.0.1',
    '172.32.0.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001:81b::200e',
    '::ffff:8.8.8.8',
  ])('accepts the public address %s', (address) => {
    expect(classifyAddress(address)).toBeUndefined();
  });

  it('treats text that is not an IP address as reserved', () => {
    expect(classifyAddress('localhost')).toBe('reserved');
    expect(classifyAddress('')).toBe('reserved');
  });

  it('expands IPv6 text, a dotted IPv4 tail included', () => {
    expect(ipv6Groups('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(ipv6Groups('2001:db8::8:800:200c:417a')).toEqual([0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a]);
  });
});

describe('addressCheck', () => {
  it('refuses private networks unless they are allowed', () => {
    expect(addressCheck(false)('192.168.0.10')).toBe('private');
    expect(addressCheck(true)('192.168.0.10')).toBeUndefined();
    expect(addressCheck(true)('127.0.0.1')).toBeUndefined();
    expect(addressCheck(true)('::1')).toBeUndefined();
    expect(addressCheck(true)('100.64.1.1')).toBeUndefined();
    expect(addressCheck(true)('fd12::1')).toBeUndefined();
  });

  it('keeps refusing metadata, multicast and unspecified addresses when private networks are allowed', () => {
    const check = addressCheck(true);
    expect(check('169.254.169.254')).toBe('cloud metadata service');
    expect(check('::ffff:169.254.169.254')).toBe('cloud metadata service');
    expect(check('224.0.0.251')).toBe('multicast');
    expect(check('0.0.0.0')).toBe('unspecified');
    expect(check('::')).toBe('unspecified');
  });
});

describe('cloud metadata services', () => {
  // Every spelling the URL parser or an attacker may produce: IPv6 text of the IPv4 forms
  // (mapped, compatible, translated, NAT64, 6to4); the URL parser turns decimal, octal and hex
  // IPv4 forms into dotted quads before the check (fetch-image tests cover those URLs).
  const spellings = (v4: string): string[] => {
    const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
    const high = ((a << 8) | b).toString(16);
    const low = ((c << 8) | d).toString(16);
    return [
      v4,
      `::ffff:${v4}`,
      `::ffff:${high}:${low}`,
      `::${v4}`,
      `::ffff:0:${v4}`,
      `64:ff9b::${v4}`,
      `2002:${high}:${low}::1`,
      `[::ffff:${v4}]`,
    ];
  };
  const V4 = [
    '169.254.169.254',
    '169.254.170.2',
    '169.254.170.23',
    '169.254.0.23',
    '169.254.42.42',
    '100.100.100.200',
    '192.0.0.192',
    '168.63.129.16',
  ];
  const V6 = ['fd00:ec2::254', 'FD00:EC2:0:0:0:0:0:254', 'fd00:ec2::23', 'fd20:ce::254', '[fd00:ec2::254]'];

  it.each(V4.flatMap(spellings).concat(V6))('refuses %s in every mode, private networks allowed or not', (address) => {
    expect(addressCheck(false)(address)).toBe('cloud metadata service');
    expect(addressCheck(true)(address)).toBe('cloud metadata service');
  });

  it('still lets the local runtime reach its own machine and private networks', () => {
    expect(addressCheck(true)('127.0.0.1')).toBeUndefined();
    expect(addressCheck(true)('100.100.100.201')).toBeUndefined();
    expect(addressCheck(true)('fd00:ec2::255')).toBeUndefined();
  });
});
