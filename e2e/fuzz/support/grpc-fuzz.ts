import { readdirSync } from 'node:fs';
import path from 'node:path';

import {
  Client,
  credentials,
  makeGenericClientConstructor,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync, type MessageTypeDefinition, type PackageDefinition } from '@grpc/proto-loader';
import fc from 'fast-check';

import { WORKSPACE_ROOT } from '@testkase/testing';

import { oddString } from './hostile-input';

export const PROTO_DIR = path.join(WORKSPACE_ROOT, 'libs/contracts/proto');

/** A field of a descriptor as proto-loader gives it (google.protobuf.FieldDescriptorProto as JSON). */
interface FieldDescriptor {
  name: string;
  label: string;
  type: string;
  typeName?: string;
  oneofIndex?: number;
  proto3Optional?: boolean;
}
interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  options?: { mapEntry?: boolean } | null;
}
interface EnumDescriptor {
  value: Array<{ name: string; number: number }>;
}

export interface GrpcMethod {
  /** `package.Service` */
  service: string;
  name: string;
  path: string;
  requestType: string;
  streaming: boolean;
}

/**
 * Every service and unary method of every .proto file in libs/contracts/proto, read generically so
 * that the fuzz keeps working when the protos change: message shapes come from the loaded
 * descriptors, never from generated code.
 */
export class ProtoCatalog {
  readonly methods: GrpcMethod[] = [];

  private constructor(readonly definition: PackageDefinition) {
    for (const [name, entry] of Object.entries(definition)) {
      if ('format' in entry) continue; // a message or enum
      for (const [methodName, method] of Object.entries(entry)) {
        const requestType = method.requestType as MessageTypeDefinition<unknown, unknown>;
        this.methods.push({
          service: name,
          name: methodName,
          path: method.path,
          requestType: this.fullNameOf(requestType, name.slice(0, name.lastIndexOf('.'))),
          streaming: method.requestStream || method.responseStream,
        });
      }
    }
  }

  static load(): ProtoCatalog {
    const files = readdirSync(PROTO_DIR, { recursive: true, encoding: 'utf8' }).filter((file) =>
      file.endsWith('.proto'),
    );
    if (files.length === 0) throw new Error(`no .proto file under ${PROTO_DIR}`);
    return new ProtoCatalog(
      loadSync(files, {
        keepCase: true,
        longs: String,
        enums: String,
        defaults: false,
        oneofs: true,
        includeDirs: [PROTO_DIR],
      }),
    );
  }

  private fullNameOf(type: MessageTypeDefinition<unknown, unknown>, servicePackage: string): string {
    // proto-loader copies the descriptors per method: find the message by name and shape.
    const name = (type.type as unknown as MessageDescriptor).name;
    const shape = JSON.stringify(type.type);
    const found = Object.entries(this.definition).filter(
      ([key, entry]) =>
        (key === name || key.endsWith(`.${name}`)) &&
        'format' in entry &&
        JSON.stringify(entry.type) === shape,
    );
    // The same message may exist in several packages: the service's own package first.
    const own = found.find(([key]) => key === `${servicePackage}.${name}`);
    if (own) return own[0];
    if (found.length === 0) throw new Error(`request type ${name} not in the package definition`);
    return found[0]![0];
  }

  /**
   * The full name of a type referenced from `scope` (a message's full name), resolved as protobuf
   * does: `.a.b.C` is absolute, `C` is looked up in the scope, then in each enclosing one.
   */
  private resolve(name: string, scope: string): string {
    if (name.startsWith('.')) return name.slice(1);
    const parts = scope.split('.');
    for (let length = parts.length; length >= 0; length -= 1) {
      const candidate = [...parts.slice(0, length), name].join('.');
      if (this.definition[candidate]) return candidate;
    }
    throw new Error(`no type ${name} from ${scope}`);
  }

  private message(name: string): MessageDescriptor {
    const entry = this.definition[name];
    if (!entry || !('format' in entry)) throw new Error(`no message ${name}`);
    return entry.type as unknown as MessageDescriptor;
  }

  private enumValues(name: string): Array<{ name: string; number: number }> {
    const entry = this.definition[name];
    if (!entry || !('format' in entry)) throw new Error(`no enum ${name}`);
    return (entry.type as unknown as EnumDescriptor).value;
  }

  /** Random messages of `typeName`: every field maybe absent, of any value its type allows, hostile strings. */
  arbitrary(
    typeName: string,
    strings: fc.Arbitrary<string>,
    depth = 0,
  ): fc.Arbitrary<Record<string, unknown>> {
    const descriptor = this.message(typeName);
    const fields: Record<string, fc.Arbitrary<unknown>> = {};
    for (const field of descriptor.field) {
      const single = this.fieldValue(field, strings, depth, typeName);
      const entryType = field.typeName ? this.resolve(field.typeName, typeName) : undefined;
      if (field.label === 'LABEL_REPEATED' && entryType && this.isMapEntry(entryType)) {
        const valueField = this.message(entryType).field[1]!;
        fields[field.name] = fc.dictionary(
          strings,
          this.fieldValue(valueField, strings, depth + 1, entryType),
          {
            maxKeys: 3,
          },
        );
      } else {
        fields[field.name] =
          field.label === 'LABEL_REPEATED' ? fc.array(single, { maxLength: depth > 1 ? 1 : 4 }) : single;
      }
    }
    return fc.record(fields, { requiredKeys: [] }) as fc.Arbitrary<Record<string, unknown>>;
  }

  private isMapEntry(typeName: string): boolean {
    return Boolean(this.message(typeName).options?.mapEntry);
  }

  private fieldValue(
    field: FieldDescriptor,
    strings: fc.Arbitrary<string>,
    depth: number,
    scope: string,
  ): fc.Arbitrary<unknown> {
    switch (field.type) {
      case 'TYPE_STRING':
        return strings;
      case 'TYPE_BYTES':
        return fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes));
      case 'TYPE_BOOL':
        return fc.boolean();
      case 'TYPE_INT32':
      case 'TYPE_SINT32':
      case 'TYPE_SFIXED32':
        return fc.integer();
      case 'TYPE_UINT32':
      case 'TYPE_FIXED32':
        return fc.nat();
      case 'TYPE_INT64':
      case 'TYPE_SINT64':
      case 'TYPE_SFIXED64':
        return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);
      case 'TYPE_UINT64':
      case 'TYPE_FIXED64':
        return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String);
      case 'TYPE_DOUBLE':
      case 'TYPE_FLOAT':
        return fc.double();
      case 'TYPE_ENUM': {
        const values = this.enumValues(this.resolve(field.typeName!, scope));
        return fc.constantFrom(...values.map((value) => value.name));
      }
      case 'TYPE_MESSAGE':
        return depth >= 3
          ? fc.constant({})
          : this.arbitrary(this.resolve(field.typeName!, scope), strings, depth + 1);
      default:
        return fc.constant(undefined);
    }
  }
}

export interface GrpcOutcome {
  code: number;
  details: string;
  errorCode: string;
}

type UnaryCall = (
  request: unknown,
  metadata: Metadata,
  options: { deadline: number },
  callback: (error: ServiceError | null, reply?: unknown) => void,
) => void;

/** A client of one service that serializes with the loaded definition (no generated code). */
export class GenericGrpcClient {
  private readonly client: Record<string, UnaryCall> & { close(): void };

  constructor(catalog: ProtoCatalog, service: string, address: string) {
    const definition = catalog.definition[service];
    if (!definition || 'format' in definition) throw new Error(`no service ${service}`);
    const Client = makeGenericClientConstructor(definition, service);
    this.client = new Client(address, credentials.createInsecure()) as unknown as Record<
      string,
      UnaryCall
    > & {
      close(): void;
    };
  }

  /** One call; `authorization` undefined sends no metadata at all. */
  call(
    method: string,
    request: unknown,
    authorization: string | undefined,
    timeoutMs = 10_000,
  ): Promise<GrpcOutcome> {
    return new Promise((resolve) => {
      const metadata = new Metadata();
      if (authorization !== undefined) metadata.set('authorization', authorization);
      this.client[method]!.call(
        this.client,
        request,
        metadata,
        { deadline: Date.now() + timeoutMs },
        (error) =>
          resolve({
            code: error?.code ?? 0,
            details: error?.details ?? '',
            errorCode: error ? String(error.metadata?.get('error-code')[0] ?? '') : '',
          }),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Sends bytes as they are as the request message of a method (no serialization): hostile wire input. */
export class RawGrpcClient {
  private readonly client: Client;

  constructor(address: string) {
    this.client = new Client(address, credentials.createInsecure());
  }

  call(
    path: string,
    bytes: Buffer,
    authorization: string | undefined,
    timeoutMs = 10_000,
  ): Promise<GrpcOutcome> {
    return new Promise((resolve) => {
      const metadata = new Metadata();
      if (authorization !== undefined) metadata.set('authorization', authorization);
      const identity = (value: Buffer) => value;
      this.client.makeUnaryRequest(
        path,
        identity,
        identity,
        bytes,
        metadata,
        { deadline: Date.now() + timeoutMs },
        (error: ServiceError | null) =>
          resolve({
            code: error?.code ?? 0,
            details: error?.details ?? '',
            errorCode: error ? String(error.metadata?.get('error-code')[0] ?? '') : '',
          }),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Statuses that are a clear answer (docs/ARCHITECTURE.md, "HTTP and gRPC"): never INTERNAL, UNKNOWN, a deadline. */
export const CLEAR_GRPC_STATUSES = new Set([0, 3, 5, 6, 7, 8, 9, 10, 11, 16]);

export const grpcStrings = (known: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...known) }, { weight: 3, arbitrary: oddString() });
