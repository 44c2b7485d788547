import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group/index.js';
import { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway/index.js';
import { Route } from '@cdktf/provider-aws/lib/route/index.js';
import { Subnet } from '@cdktf/provider-aws/lib/subnet/index.js';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint/index.js';
import { Vpc } from '@cdktf/provider-aws/lib/vpc/index.js';
import { describe, expect, it } from 'vitest';

import type { NetworkConfig } from '../../../src/config.js';
import { Network } from '../../../src/constructs/network.js';
import { referenceTo, resources, synthScope } from '../../helpers.js';

const zones = ['us-east-1a', 'us-east-1b'];
function synthNetwork(config: NetworkConfig): ReturnType<typeof synthScope> & { network: Network } {
  let network: Network | undefined;
  const result = synthScope((scope) => {
    network = new Network(scope, 'network', { config, namePrefix: 'lambda-efs-dev', region: 'us-east-1' });
  });
  if (network === undefined) throw new Error('not built');
  return { ...result, network };
}

describe('Network (new VPC)', () => {
  const { text, json } = synthNetwork({ kind: 'new', cidr: '10.20.0.0/16', availabilityZones: zones, natGateways: 'single' });

  it('creates a VPC with DNS support and hostnames (EFS mount target names need both)', () => {
    expect(text).toHaveResourceWithProperties(Vpc, {
      cidr_block: '10.20.0.0/16',
      enable_dns_support: true,
      enable_dns_hostnames: true,
      tags: { Name: 'lambda-efs-dev-vpc' },
    });
  });

  it('creates one private subnet per zone with literal CIDRs from the configuration', () => {
    expect(text).toHaveResourceWithProperties(Subnet, {
      availability_zone: 'us-east-1a',
      cidr_block: '10.20.0.0/20',
      map_public_ip_on_launch: false,
    });
    expect(text).toHaveResourceWithProperties(Subnet, { availability_zone: 'us-east-1b', cidr_block: '10.20.16.0/20' });
  });

  it('creates public subnets from the upper half of the block, and one NAT gateway for "single"', () => {
    expect(text).toHaveResourceWithProperties(Subnet, { availability_zone: 'us-east-1a', cidr_block: '10.20.128.0/20' });
    expect(text).toHaveResourceWithProperties(Subnet, { availability_zone: 'us-east-1b', cidr_block: '10.20.144.0/20' });
    expect(Object.keys(resources(json, 'aws_nat_gateway'))).toHaveLength(1);
    expect(Object.keys(resources(json, 'aws_eip'))).toHaveLength(1);
  });

  it('routes each private route table to the internet through the NAT gateway', () => {
    const natRoutes = Object.values(resources(json, 'aws_route')).filter((route) => 'nat_gateway_id' in route);
    expect(natRoutes).toHaveLength(2);
    expect(text).toHaveResourceWithProperties(Route, {
      destination_cidr_block: '0.0.0.0/0',
      nat_gateway_id: expect.stringMatching(referenceTo('aws_nat_gateway', 'id')),
    });
    expect(text).toHaveResourceWithProperties(Route, {
      destination_cidr_block: '0.0.0.0/0',
      gateway_id: expect.stringMatching(referenceTo('aws_internet_gateway', 'id')),
    });
  });

  it('adds S3 and DynamoDB gateway endpoints on every private route table, named for the region', () => {
    for (const service of ['s3', 'dynamodb']) {
      expect(text).toHaveResourceWithProperties(VpcEndpoint, {
        service_name: `com.amazonaws.us-east-1.${service}`,
        vpc_endpoint_type: 'Gateway',
        route_table_ids: [
          expect.stringMatching(referenceTo('aws_route_table', 'id')),
          expect.stringMatching(referenceTo('aws_route_table', 'id')),
        ],
      });
    }
  });

  it('empties the default security group', () => {
    expect(text).toHaveResource(DefaultSecurityGroup);
    const group = Object.values(resources(json, 'aws_default_security_group'))[0];
    expect(group).not.toHaveProperty('ingress');
    expect(group).not.toHaveProperty('egress');
  });

  it('uses no data source, so plan needs no AWS call', () => {
    expect(json.data).toBeUndefined();
  });
});

describe('Network NAT choices', () => {
  it('creates a NAT gateway in every zone for "per-az", each private table using its own', () => {
    const { json } = synthNetwork({
      kind: 'new',
      cidr: '10.30.0.0/16',
      availabilityZones: [...zones, 'us-east-1c'],
      natGateways: 'per-az',
    });
    expect(Object.keys(resources(json, 'aws_nat_gateway'))).toHaveLength(3);
    const natIds = Object.values(resources(json, 'aws_route'))
      .map((route) => route['nat_gateway_id'])
      .filter((id) => id !== undefined);
    expect(new Set(natIds).size).toBe(3);
  });

  it('creates no public subnet, internet gateway or NAT gateway for "none"', () => {
    const { text, json } = synthNetwork({ kind: 'new', cidr: '10.20.0.0/16', availabilityZones: zones, natGateways: 'none' });
    expect(text).not.toHaveResource(NatGateway);
    expect(resources(json, 'aws_internet_gateway')).toEqual({});
    expect(Object.keys(resources(json, 'aws_subnet'))).toHaveLength(2);
    expect(resources(json, 'aws_route')).toEqual({});
  });
});

describe('Network (existing VPC)', () => {
  it('creates nothing and hands out the given subnets, one per zone', () => {
    const subnets = [
      { availabilityZone: 'us-east-1a', subnetId: 'subnet-0123456789abcdef0' },
      { availabilityZone: 'us-east-1b', subnetId: 'subnet-0123456789abcdef1' },
    ];
    const { json, network } = synthNetwork({ kind: 'existing', vpcId: 'vpc-0123456789abcdef0', subnets });
    expect(json.resource).toBeUndefined();
    expect(network.vpcId).toBe('vpc-0123456789abcdef0');
    expect(network.privateSubnets).toEqual(subnets);
  });
});
