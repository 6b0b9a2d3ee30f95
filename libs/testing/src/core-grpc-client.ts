import {
  credentials,
  loadPackageDefinition,
  makeClientConstructor,
  Metadata,
  type ChannelCredentials,
  type ClientDuplexStream,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

import { GRPC_SERVICES } from '@testkase/contracts';

type Callback = (error: ServiceError | null, reply: Record<string, unknown>) => void;
type Method = (request: Record<string, unknown>, metadata: Metadata, callback: Callback) => void;
type ServiceClient = Record<string, Method> & { close(): void };

export interface GrpcAnswer {
  reply?: Record<string, unknown>;
  error?: ServiceError;
  /** Our error code (the `error-code` trailer), '' when there is none. */
  code?: string;
}

/** One of our gRPC services (libs/contracts/proto), called as TestKase core would: bearer token in the metadata. */
export class CoreGrpcClient {
  private readonly client: ServiceClient;
  private readonly address: string;
  private readonly credentials: ChannelCredentials;

  constructor(
    service: keyof typeof GRPC_SERVICES,
    address: string,
    private readonly token: string,
    /** Call over TLS, trusting this PEM CA (or self-signed certificate). */
    tls?: { ca: Buffer },
  ) {
    const { protoPath, package: packageName, service: serviceName } = GRPC_SERVICES[service];
    // Enums by name (`DEFECT_STATUS_OPEN`), times as google.protobuf.Timestamp `{seconds, nanos}`.
    const definition = loadSync(protoPath, {
      keepCase: false,
      longs: Number,
      enums: String,
      defaults: false,
      oneofs: true,
    });
    let namespace: unknown = loadPackageDefinition(definition);
    for (const part of packageName.split('.')) namespace = (namespace as Record<string, unknown>)[part];
    const Client = (namespace as Record<string, new (address: string, creds: unknown) => ServiceClient>)[
      serviceName
    ];
    if (!Client) throw new Error(`${serviceName} is not in ${protoPath}`);
    this.address = address;
    this.credentials = tls ? credentials.createSsl(tls.ca) : credentials.createInsecure();
    this.client = new Client(address, this.credentials);
  }

  private healthClient(): { check: (r: object, cb: Callback) => void; close(): void } {
    const definition = loadSync(healthProtoPath, { keepCase: true, enums: String, defaults: true });
    const Health = makeClientConstructor(
      definition['grpc.health.v1.Health'] as ServiceDefinition,
      'Health',
    ) as unknown as new (
      address: string,
      creds: ChannelCredentials,
    ) => {
      check: (r: object, cb: Callback) => void;
      close(): void;
    };
    return new Health(this.address, this.credentials);
  }

  /** `extra`: further metadata, e.g. the `traceparent` TestKase core's own trace would send. */
  call(
    method: string,
    request: Record<string, unknown>,
    token = this.token,
    extra: Readonly<Record<string, string>> = {},
  ): Promise<GrpcAnswer> {
    return new Promise((resolve) => {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      for (const [key, value] of Object.entries(extra)) metadata.set(key, value);
      this.client[method]!.call(this.client, request, metadata, (error, reply) =>
        resolve(error ? { error, code: String(error.metadata.get('error-code')[0] ?? '') } : { reply }),
      );
    });
  }

  /** Calls grpc.health.v1.Health/Check on the same server, with no token (as a Kubernetes probe does). */
  health(service = ''): Promise<{ status?: string; error?: ServiceError }> {
    return new Promise((resolve) => {
      const client = this.healthClient();
      client.check({ service }, (error, reply) => {
        client.close();
        resolve(error ? { error } : { status: String(reply['status']) });
      });
    });
  }

  close(): void {
    this.client.close();
  }
}

/** A google.protobuf.Timestamp of an answer as an ISO-8601 string (the HTTP API's form). */
export function isoOf(timestamp: unknown): string | undefined {
  if (!timestamp || typeof timestamp !== 'object') return undefined;
  const { seconds = 0, nanos = 0 } = timestamp as { seconds?: number; nanos?: number };
  return new Date(seconds * 1000 + Math.floor(nanos / 1_000_000)).toISOString();
}

/**
 * The services a gRPC server lists over server reflection (grpc.reflection.v1, as grpcurl asks);
 * UNIMPLEMENTED when reflection is off.
 */
export function reflectionList(
  address: string,
  tls?: { ca: Buffer },
): Promise<{ services?: string[]; error?: ServiceError }> {
  const protoPath = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
  const definition = loadSync(protoPath, { keepCase: false, defaults: false });
  const Reflection = makeClientConstructor(
    definition['grpc.reflection.v1.ServerReflection'] as ServiceDefinition,
    'ServerReflection',
  ) as unknown as new (
    address: string,
    creds: ChannelCredentials,
  ) => { serverReflectionInfo(): ClientDuplexStream<object, Record<string, unknown>>; close(): void };
  const client = new Reflection(address, tls ? credentials.createSsl(tls.ca) : credentials.createInsecure());
  return new Promise((resolve) => {
    const stream = client.serverReflectionInfo();
    const done = (answer: { services?: string[]; error?: ServiceError }) => {
      stream.cancel();
      client.close();
      resolve(answer);
    };
    stream.on('data', (reply: Record<string, unknown>) => {
      const listed = reply['listServicesResponse'] as { service?: Array<{ name: string }> } | undefined;
      done({ services: (listed?.service ?? []).map((s) => s.name) });
    });
    stream.on('error', (error: ServiceError) => done({ error }));
    stream.write({ listServices: '' });
  });
}
