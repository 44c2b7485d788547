import { describe, expect, it } from 'vitest';

import { cidrSubnet, parseCidr } from '../../src/cidr.js';

describe('cidrSubnet (Terraform cidrsubnet at synth time)', () => {
  it.each([
    ['10.20.0.0/16', 4, 0, '10.20.0.0/20'],
    ['10.20.0.0/16', 4, 1, '10.20.16.0/20'],
    ['10.20.0.0/16', 4, 8, '10.20.128.0/20'],
    ['10.20.0.0/16', 4, 15, '10.20.240.0/20'],
    ['192.168.0.0/24', 4, 3, '192.168.0.48/28'],
  ])('carves %s with %i new bits, network %i, into %s', (cidr, newBits, netNum, expected) => {
    expect(cidrSubnet(cidr, newBits, netNum)).toBe(expected);
  });

  it('refuses a network number that does not fit', () => {
    expect(() => cidrSubnet('10.20.0.0/16', 4, 16)).toThrow('does not fit in 4 new bits');
  });

  it.each(['10.20.0.1/16', '10.300.0.0/16', '10.20.0.0', '10.20.0.0/33', 'ten'])('refuses %s as a network', (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });
});
