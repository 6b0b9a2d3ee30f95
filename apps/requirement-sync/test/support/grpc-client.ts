import { credentials, loadPackageDefinition, Metadata, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

import { GRPC_SERVICES } from '@testkase/contracts';

type Callback = (error: ServiceError | null, reply: Record<string, unknown>) => void;
type Method = (request: Record<string, unknown>, metadata: Metadata, callback: Callback) => void;
type Client = Record<'ListRequirements' | 'GetRequirement' | 'UpdateRequirement', Method> & { close(): void };

/** requirement-sync's gRPC API as TestKase core would call it. */
export class RequirementsGrpcClient {
  private readonly client: Client;

  constructor(
    address: string,
    private readonly token: string,
  ) {
    const definition = loadSync(GRPC_SERVICES.requirements.protoPath, {
      keepCase: false,
      longs: Number,
      defaults: false,
      oneofs: true,
    });
    const pkg = loadPackageDefinition(definition) as unknown as {
      testkase: {
        gitlab: {
          requirements: { v1: { RequirementService: new (address: string, creds: unknown) => Client } };
        };
      };
    };
    this.client = new pkg.testkase.gitlab.requirements.v1.RequirementService(
      address,
      credentials.createInsecure(),
    );
  }

  call(
    method: 'ListRequirements' | 'GetRequirement' | 'UpdateRequirement',
    request: Record<string, unknown>,
    token = this.token,
  ): Promise<{ reply?: Record<string, unknown>; error?: ServiceError; code?: string }> {
    return new Promise((resolve) => {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      this.client[method](request, metadata, (error, reply) =>
        resolve(error ? { error, code: String(error.metadata.get('error-code')[0] ?? '') } : { reply }),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
