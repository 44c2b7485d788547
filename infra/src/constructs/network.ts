import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group/index.js';
import { Eip } from '@cdktf/provider-aws/lib/eip/index.js';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway/index.js';
import { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway/index.js';
import { Route } from '@cdktf/provider-aws/lib/route/index.js';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association/index.js';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table/index.js';
import { Subnet } from '@cdktf/provider-aws/lib/subnet/index.js';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint/index.js';
import { Vpc } from '@cdktf/provider-aws/lib/vpc/index.js';
import { Construct } from 'constructs';

import { cidrSubnet } from '../cidr.js';
import type { NetworkConfig } from '../config.js';

/** A private subnet the functions and the EFS mount targets use. */
export interface PrivateSubnet {
  readonly availabilityZone: string;
  readonly subnetId: string;
}

export interface NetworkProps {
  readonly config: NetworkConfig;
  readonly namePrefix: string;
  /** Region, for the gateway endpoints' service names. */
  readonly region: string;
}

// Subnets are the VPC block's /(prefix + 4) blocks: private ones from 0, public ones from 8, so
// up to 8 zones fit and adding a zone never renumbers an existing subnet.
const SUBNET_NEW_BITS = 4;
const PUBLIC_SUBNET_OFFSET = 8;

/**
 * Where the functions and the file system live: a new VPC (private subnets in every configured
 * zone; S3 and DynamoDB gateway endpoints; optional public subnets with NAT for outbound internet;
 * the default security group emptied) or an existing VPC's subnets, by id.
 * @example
 * const network = new Network(stack, 'network', { config: config.network, namePrefix, region });
 * network.privateSubnets.map((subnet) => subnet.subnetId);
 */
export class Network extends Construct {
  readonly vpcId: string;
  /** One per availability zone, in configuration order. */
  readonly privateSubnets: readonly PrivateSubnet[];

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const { config } = props;
    if (config.kind === 'existing') {
      this.vpcId = config.vpcId;
      this.privateSubnets = config.subnets.map((subnet) => ({ ...subnet }));
      return;
    }

    const name = (suffix: string): { Name: string } => ({ Name: `${props.namePrefix}-${suffix}` });
    const vpc = new Vpc(this, 'vpc', {
      cidrBlock: config.cidr,
      // EFS mount target DNS names need both.
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: name('vpc'),
    });
    this.vpcId = vpc.id;

    // The default security group lets every member reach every other; take its rules away so that
    // nothing attached to it by accident can reach the file system.
    new DefaultSecurityGroup(this, 'default-security-group', { vpcId: vpc.id, tags: name('default-unused') });

    const zones = config.availabilityZones;
    const privateSubnets = zones.map(
      (zone, index) =>
        new Subnet(this, `private-${zone}`, {
          vpcId: vpc.id,
          availabilityZone: zone,
          cidrBlock: cidrSubnet(config.cidr, SUBNET_NEW_BITS, index),
          mapPublicIpOnLaunch: false,
          tags: name(`private-${zone}`),
        }),
    );
    this.privateSubnets = privateSubnets.map((subnet, index) => ({
      availabilityZone: zones[index] ?? '',
      subnetId: subnet.id,
    }));

    const natGateways: NatGateway[] = [];
    if (config.natGateways !== 'none') {
      const internetGateway = new InternetGateway(this, 'internet-gateway', { vpcId: vpc.id, tags: name('igw') });
      const publicRouteTable = new RouteTable(this, 'public-route-table', { vpcId: vpc.id, tags: name('public') });
      new Route(this, 'public-default-route', {
        routeTableId: publicRouteTable.id,
        destinationCidrBlock: '0.0.0.0/0',
        gatewayId: internetGateway.id,
      });
      const natZones = config.natGateways === 'single' ? zones.slice(0, 1) : zones;
      for (const [index, zone] of zones.entries()) {
        const publicSubnet = new Subnet(this, `public-${zone}`, {
          vpcId: vpc.id,
          availabilityZone: zone,
          cidrBlock: cidrSubnet(config.cidr, SUBNET_NEW_BITS, PUBLIC_SUBNET_OFFSET + index),
          // Only the NAT gateways live here, with their own Elastic IPs.
          mapPublicIpOnLaunch: false,
          tags: name(`public-${zone}`),
        });
        new RouteTableAssociation(this, `public-${zone}-association`, {
          subnetId: publicSubnet.id,
          routeTableId: publicRouteTable.id,
        });
        if (!natZones.includes(zone)) continue;
        const eip = new Eip(this, `nat-${zone}-eip`, {
          domain: 'vpc',
          tags: name(`nat-${zone}`),
          dependsOn: [internetGateway],
        });
        natGateways.push(
          new NatGateway(this, `nat-${zone}`, {
            allocationId: eip.allocationId,
            subnetId: publicSubnet.id,
            tags: name(`nat-${zone}`),
            dependsOn: [internetGateway],
          }),
        );
      }
    }

    // One private route table per zone, so that with a NAT gateway per zone each zone keeps its
    // own path to the internet.
    const privateRouteTables = zones.map((zone, index) => {
      const table = new RouteTable(this, `private-${zone}-route-table`, { vpcId: vpc.id, tags: name(`private-${zone}`) });
      new RouteTableAssociation(this, `private-${zone}-association`, {
        subnetId: privateSubnets[index]?.id ?? '',
        routeTableId: table.id,
      });
      const nat = natGateways[config.natGateways === 'per-az' ? index : 0];
      if (nat !== undefined) {
        new Route(this, `private-${zone}-default-route`, {
          routeTableId: table.id,
          destinationCidrBlock: '0.0.0.0/0',
          natGatewayId: nat.id,
        });
      }
      return table;
    });

    // Gateway endpoints are free and keep S3 and DynamoDB traffic off the NAT gateway (the post:
    // "you should create a gateway VPC endpoint for those services").
    for (const service of ['s3', 'dynamodb'] as const) {
      new VpcEndpoint(this, `${service}-endpoint`, {
        vpcId: vpc.id,
        serviceName: `com.amazonaws.${props.region}.${service}`,
        vpcEndpointType: 'Gateway',
        routeTableIds: privateRouteTables.map((table) => table.id),
        tags: name(`${service}-endpoint`),
      });
    }
  }
}
