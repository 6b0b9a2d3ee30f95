import { loadSync, type PackageDefinition } from '@grpc/proto-loader';

import { GRPC_ENUM_VALUES, protoEnumValueName } from '@testkase/contracts';

/** The loader options the server uses (bootstrap.ts) and the mapping assumes. */
export const PROTO_LOADER_OPTIONS = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: false,
  oneofs: false,
} as const;

interface FieldDescriptor {
  name: string;
  label: string;
  type: string;
  typeName: string;
}
interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
}
interface EnumDescriptor {
  value: Array<{ name: string; number: number }>;
}
type Plain = Record<string, unknown>;

const TIMESTAMP = 'google.protobuf.Timestamp';
const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/**
 * Between the API's values and the proto messages of one package (docs/ARCHITECTURE.md, "HTTP and
 * gRPC"): enums (`DEFECT_STATUS_IN_PROGRESS` ⇄ `In-Progress`, `_UNSPECIFIED` = not given) and
 * google.protobuf.Timestamp (⇄ ISO-8601 strings). Every enum value must have its API value
 * (GRPC_ENUM_VALUES) and the other way round; the constructor throws otherwise.
 */
export class ProtoMapper {
  private readonly definition: PackageDefinition;
  private readonly toApi = new Map<string, Map<string, string | undefined>>();
  private readonly toProtoName = new Map<string, Map<string, string>>();

  constructor(
    private readonly packageName: string,
    protoPath: string,
    enumValues: Readonly<Record<string, readonly string[]>> = GRPC_ENUM_VALUES,
  ) {
    this.definition = loadSync(protoPath, PROTO_LOADER_OPTIONS);
    for (const [name, entry] of Object.entries(this.definition)) {
      const type = (entry as { format?: string; type?: unknown }).type;
      if ((entry as { format?: string }).format !== 'Protocol Buffer 3 EnumDescriptorProto') continue;
      const values = enumValues[name];
      if (!values) throw new Error(`${name}: no API values (GRPC_ENUM_VALUES)`);
      const names = (type as EnumDescriptor).value.map((v) => v.name);
      const unspecified = protoEnumValueName(name, 'UNSPECIFIED');
      const expected = [unspecified, ...values.map((v) => protoEnumValueName(name, v))];
      if (names.join() !== expected.join()) {
        throw new Error(`${name}: values ${names.join(', ')} do not match ${expected.join(', ')}`);
      }
      const toApi = new Map<string, string | undefined>([[unspecified, undefined]]);
      const toProtoName = new Map<string, string>();
      for (const value of values) {
        toApi.set(protoEnumValueName(name, value), value);
        toProtoName.set(value, protoEnumValueName(name, value));
      }
      this.toApi.set(name, toApi);
      this.toProtoName.set(name, toProtoName);
    }
  }

  /** The request and response messages of an RPC of `service`. */
  method(service: string, rpc: string): { request: string; response: string } {
    const methods = this.definition[`${this.packageName}.${service}`] as
      | Record<
          string,
          { requestType: { type: MessageDescriptor }; responseType: { type: MessageDescriptor } }
        >
      | undefined;
    const method = methods?.[rpc];
    if (!method) throw new Error(`${this.packageName}.${service}/${rpc} is not in the proto`);
    return {
      request: this.resolve(method.requestType.type.name),
      response: this.resolve(method.responseType.type.name),
    };
  }

  /**
   * A decoded request in API terms, in place (the validation pipe sees the result): enum names
   * become API values, `_UNSPECIFIED` is removed (not given). Anything else is left for validation.
   */
  requestToApi(typeName: string, message: Plain): Plain {
    for (const field of this.message(typeName).field) {
      const key = camel(field.name);
      const value = message[key];
      if (value === undefined || value === null) continue;
      if (field.type === 'TYPE_ENUM') {
        const table = this.toApi.get(this.resolve(field.typeName));
        const convert = (v: unknown) => (typeof v === 'string' && table?.has(v) ? table.get(v) : v);
        const converted = Array.isArray(value) ? value.map(convert) : convert(value);
        if (converted === undefined) delete message[key];
        else message[key] = converted;
      } else if (field.type === 'TYPE_MESSAGE' && this.resolve(field.typeName) !== TIMESTAMP) {
        for (const item of Array.isArray(value) ? value : [value]) {
          if (item && typeof item === 'object')
            this.requestToApi(this.resolve(field.typeName), item as Plain);
        }
      }
    }
    return message;
  }

  /** An answer of the API as the proto message: only its fields, enums and Timestamps converted. */
  toProto(typeName: string, value: Plain): Plain {
    const out: Plain = {};
    for (const field of this.message(typeName).field) {
      const key = camel(field.name);
      const raw = value[key];
      if (raw === undefined || raw === null) continue;
      const convert = (item: unknown) => this.fieldToProto(field, item, `${typeName}.${field.name}`);
      out[key] = field.label === 'LABEL_REPEATED' && Array.isArray(raw) ? raw.map(convert) : convert(raw);
    }
    return out;
  }

  private fieldToProto(field: FieldDescriptor, value: unknown, where: string): unknown {
    if (field.type === 'TYPE_ENUM') {
      const name = this.toProtoName.get(this.resolve(field.typeName))?.get(String(value));
      if (!name) throw new Error(`${where}: ${String(value)} has no proto enum value`);
      return name;
    }
    if (field.type !== 'TYPE_MESSAGE') return value;
    const typeName = this.resolve(field.typeName);
    if (typeName === TIMESTAMP) return toTimestamp(value, where);
    return this.toProto(typeName, value as Plain);
  }

  private message(typeName: string): MessageDescriptor {
    const entry = this.definition[typeName] as { type?: MessageDescriptor } | undefined;
    if (!entry?.type?.field) throw new Error(`${typeName} is not a message of the proto`);
    return entry.type;
  }

  /** A type name as the descriptor has it (relative to the package, like protobuf's scoping) in full. */
  private resolve(typeName: string): string {
    if (typeName.startsWith('.')) return typeName.slice(1);
    const scope = this.packageName.split('.');
    for (let i = scope.length; i >= 0; i--) {
      const candidate = [...scope.slice(0, i), typeName].join('.');
      if (this.definition[candidate]) return candidate;
    }
    return typeName;
  }
}

/** An ISO-8601 time (or Date) as google.protobuf.Timestamp. */
export function toTimestamp(value: unknown, where = 'time'): { seconds: number; nanos: number } {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new Error(`${where}: ${String(value)} is not a time`);
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}
