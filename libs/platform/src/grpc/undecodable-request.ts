/**
 * The key a request gets when its bytes are not a protobuf message of the method. grpc-js answers
 * a deserializer that throws with INTERNAL, before any guard runs; our deserializers never throw,
 * so that {@link GrpcCoreApiGuard} answers such a call UNAUTHENTICATED without the core token, else
 * INVALID_ARGUMENT (VALIDATION_FAILED), like any other malformed input (docs/ARCHITECTURE.md,
 * "HTTP and gRPC").
 */
export const UNDECODABLE_REQUEST = '__undecodableRequest';

interface MethodDefinitionLike {
  requestDeserialize?: (bytes: Buffer) => unknown;
}

/** Wraps every method's request deserializer of a loaded package definition (in place). */
export function tolerateUndecodableRequests(definition: Record<string, unknown>): void {
  for (const entry of Object.values(definition)) {
    if (!entry || typeof entry !== 'object' || 'format' in entry) continue; // a message or an enum
    for (const method of Object.values(entry as Record<string, MethodDefinitionLike>)) {
      const decode = method.requestDeserialize;
      if (typeof decode !== 'function') continue;
      method.requestDeserialize = (bytes: Buffer) => {
        try {
          return decode(bytes);
        } catch {
          return { [UNDECODABLE_REQUEST]: true };
        }
      };
    }
  }
}

export function isUndecodableRequest(data: unknown): boolean {
  return typeof data === 'object' && data !== null && UNDECODABLE_REQUEST in data;
}
