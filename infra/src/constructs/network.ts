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
import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones/index.js';
import { Fn, Op, type ITerraformDependable, type TerraformResource } from 'cdktf';
import { Construct } from 'constructs';

import { cidrSubnet } from '../cidr.js';
import { availabilityZones, zoneCount, type AvailabilityZoneLookup, type NetworkConfig } from '../config.js';

/** A private subnet the functions and the EFS mount targets use. */
export interface PrivateSubnet {
  /** The zone's name; a Terraform expression when the zones are looked up at plan time. */
  readonly availabilityZone: string;
  readonly subnetId: string;
  /**
   * What the construct ids of this zone's resources were named after before zones were looked up
   * (`us-east-1a`): the `moved` blocks that keep existing deployments' addresses use it.
   */
  readonly legacyZoneName?: string;
}

export interface NetworkProps {
  readonly config: NetworkConfig;
  readonly namePrefix: string;
  /** Region, for the gateway endpoints' service names. */
  readonly region: string;
  /**
   * The offline-mock provider: no data source may be read, so looked-up zones become `<region>a`,
   * `<region>b`, … @default false
   */
  readonly offline?: boolean;
}

/**
 * Adds a `moved` block from this resource's address before zones were looked up (construct ids
 * named after the zone, `private-us-east-1a`) to its current one (`private-1`), so that an
 * existing deployment keeps its subnets and mount targets. A `moved` block whose old address is
 * not in the state does nothing.
 */
export function movedFromZoneName(resource: TerraformResource, legacyId: string | undefined): void {
  if (legacyId === undefined) return;
  const current = resource.friendlyUniqueId;
  const prefix = current.slice(0, current.length - resource.node.id.length);
  resource.moveFromId(`${resource.terraformResourceType}.${prefix}${legacyId}`);
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
  /**
   * What a function needs before it can reach S3 from its subnet (the gateway endpoint, the route
   * tables and their routes): the deploy-time provisioning waits for these. Empty for an existing VPC.
   */
  readonly egressReady: readonly ITerraformDependable[];

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const { config } = props;
    if (config.kind === 'existing') {
      this.vpcId = config.vpcId;
      this.privateSubnets = config.subnets.map((subnet) => ({ ...subnet }));
      this.egressReady = [];
      return;
    }
    const egressReady: ITerraformDependable[] = [];
    this.egressReady = egressReady;

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

    // Zone names: literal when configured (or offline), else looked up, so that the stack works in
    // any region and account (a name maps to a different physical zone in each account).
    const count = zoneCount(config);
    const literal = availabilityZones(config, props.region, props.offline === true);
    let zoneName: (index: number) => string;
    if (literal !== null || Array.isArray(config.availabilityZones)) {
      zoneName = (index) => literal?.[index] ?? '';
    } else {
      const lookup = config.availabilityZones as AvailabilityZoneLookup;
      const found = new DataAwsAvailabilityZones(this, 'zones', {
        state: 'available',
        // Regular zones only: Local and Wavelength Zones need an opt-in and lack EFS.
        filter: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }],
        excludeZoneIds: [...lookup.excludeZoneIds],
      });
      zoneName = (index) => Fn.element(found.names, index);
      vpc.lifecycle = {
        precondition: [
          {
            condition: Op.gte(Fn.lengthOf(found.names), count),
            errorMessage:
              `${props.region} has fewer than ${count} usable availability zones in this account: lower ` +
              'network.availabilityZones.count, or name the zones in network.availabilityZones.',
          },
        ],
      };
    }
    const legacy = (index: number): string => literal?.[index] ?? `${props.region}${String.fromCharCode(97 + index)}`;
    const indexes = Array.from({ length: count }, (_, index) => index);

    const privateSubnets = indexes.map((index) => {
      const subnet = new Subnet(this, `private-${index + 1}`, {
        vpcId: vpc.id,
        availabilityZone: zoneName(index),
        cidrBlock: cidrSubnet(config.cidr, SUBNET_NEW_BITS, index),
        mapPublicIpOnLaunch: false,
        tags: name(`private-${index + 1}`),
      });
      movedFromZoneName(subnet, `private-${legacy(index)}`);
      return subnet;
    });
    this.privateSubnets = privateSubnets.map((subnet, index) => ({
      availabilityZone: zoneName(index),
      subnetId: subnet.id,
      legacyZoneName: legacy(index),
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
      egressReady.push(publicRouteTable);
      for (const index of indexes) {
        const zone = index + 1;
        const publicSubnet = new Subnet(this, `public-${zone}`, {
          vpcId: vpc.id,
          availabilityZone: zoneName(index),
          cidrBlock: cidrSubnet(config.cidr, SUBNET_NEW_BITS, PUBLIC_SUBNET_OFFSET + index),
          // Only the NAT gateways live here, with their own Elastic IPs.
          mapPublicIpOnLaunch: false,
          tags: name(`public-${zone}`),
        });
        movedFromZoneName(publicSubnet, `public-${legacy(index)}`);
        movedFromZoneName(
          new RouteTableAssociation(this, `public-${zone}-association`, {
            subnetId: publicSubnet.id,
            routeTableId: publicRouteTable.id,
          }),
          `public-${legacy(index)}-association`,
        );
        if (config.natGateways === 'single' && index > 0) continue;
        const eip = new Eip(this, `nat-${zone}-eip`, {
          domain: 'vpc',
          tags: name(`nat-${zone}`),
          dependsOn: [internetGateway],
        });
        movedFromZoneName(eip, `nat-${legacy(index)}-eip`);
        const nat = new NatGateway(this, `nat-${zone}`, {
          allocationId: eip.allocationId,
          subnetId: publicSubnet.id,
          tags: name(`nat-${zone}`),
          dependsOn: [internetGateway],
        });
        movedFromZoneName(nat, `nat-${legacy(index)}`);
        natGateways.push(nat);
      }
    }

    // One private route table per zone, so that with a NAT gateway per zone each zone keeps its
    // own path to the internet.
    const privateRouteTables = indexes.map((index) => {
      const zone = index + 1;
      const table = new RouteTable(this, `private-${zone}-route-table`, { vpcId: vpc.id, tags: name(`private-${zone}`) });
      movedFromZoneName(table, `private-${legacy(index)}-route-table`);
      const association = new RouteTableAssociation(this, `private-${zone}-association`, {
        subnetId: privateSubnets[index]?.id ?? '',
        routeTableId: table.id,
      });
      movedFromZoneName(association, `private-${legacy(index)}-association`);
      egressReady.push(association);
      const nat = natGateways[config.natGateways === 'per-az' ? index : 0];
      if (nat !== undefined) {
        const route = new Route(this, `private-${zone}-default-route`, {
          routeTableId: table.id,
          destinationCidrBlock: '0.0.0.0/0',
          natGatewayId: nat.id,
        });
        movedFromZoneName(route, `private-${legacy(index)}-default-route`);
        egressReady.push(route);
      }
      return table;
    });

    // Gateway endpoints are free and keep S3 and DynamoDB traffic off the NAT gateway (the post:
    // "you should create a gateway VPC endpoint for those services").
    for (const service of ['s3', 'dynamodb'] as const) {
      const endpoint = new VpcEndpoint(this, `${service}-endpoint`, {
        vpcId: vpc.id,
        serviceName: `com.amazonaws.${props.region}.${service}`,
        vpcEndpointType: 'Gateway',
        routeTableIds: privateRouteTables.map((table) => table.id),
        tags: name(`${service}-endpoint`),
      });
      if (service === 's3') egressReady.push(endpoint);
    }
  }
}
