import { credentials, loadPackageDefinition, Metadata, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

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

  constructor(
    service: keyof typeof GRPC_SERVICES,
    address: string,
    private readonly token: string,
    /** Call over TLS, trusting this PEM CA (or self-signed certificate). */
    tls?: { ca: Buffer },
  ) {
    const { protoPath, package: packageName, service: serviceName } = GRPC_SERVICES[service];
    const definition = loadSync(protoPath, { keepCase: false, longs: Number, defaults: false, oneofs: true });
    let namespace: unknown = loadPackageDefinition(definition);
    for (const part of packageName.split('.')) namespace = (namespace as Record<string, unknown>)[part];
    const Client = (namespace as Record<string, new (address: string, creds: unknown) => ServiceClient>)[
      serviceName
    ];
    if (!Client) throw new Error(`${serviceName} is not in ${protoPath}`);
    this.client = new Client(address, tls ? credentials.createSsl(tls.ca) : credentials.createInsecure());
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

  close(): void {
    this.client.close();
  }
}
