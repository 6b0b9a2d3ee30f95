import { createServer, type Server } from 'node:http';

/** One span as an app exported it over OTLP/HTTP JSON, with the `service.name` of its resource. */
export interface CollectedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  links: Array<{ traceId: string; spanId: string }>;
  attributes: Record<string, unknown>;
}

interface OtlpAttribute {
  key: string;
  value: Record<string, unknown>;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  links?: Array<{ traceId: string; spanId: string }>;
  attributes?: OtlpAttribute[];
}

/** OTLP/JSON ids are hex; read a base64 one (protobuf-JSON style) as hex too. */
const hex = (id: string | undefined): string =>
  !id ? '' : /^[0-9a-f]+$/.test(id) ? id : Buffer.from(id, 'base64').toString('hex');

const attributes = (list: OtlpAttribute[] | undefined): Record<string, unknown> =>
  Object.fromEntries(
    (list ?? []).map(({ key, value }) => [
      key,
      value['stringValue'] ?? value['intValue'] ?? value['doubleValue'] ?? value['boolValue'],
    ]),
  );

/**
 * A loopback OTLP/HTTP collector for tests: an app started with `OTEL_EXPORTER_OTLP_ENDPOINT` set to
 * its `url` (and `OTEL_BSP_SCHEDULE_DELAY` short) posts its spans to `/v1/traces` as JSON.
 */
export class OtlpCollector {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly spans: CollectedSpan[],
  ) {}

  static async start(): Promise<OtlpCollector> {
    const spans: CollectedSpan[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.url === '/v1/traces') spans.push(...decode(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new OtlpCollector(
      server,
      `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      spans,
    );
  }

  /** Spans of one trace (hex trace id). */
  trace(traceId: string): CollectedSpan[] {
    return this.spans.filter((span) => span.traceId === traceId);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The spans of one OTLP/JSON export request. */
function decode(text: string): CollectedSpan[] {
  const out: CollectedSpan[] = [];
  const body = JSON.parse(text) as {
    resourceSpans?: Array<{
      resource?: { attributes?: OtlpAttribute[] };
      scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
    }>;
  };
  for (const resource of body.resourceSpans ?? []) {
    const service = String(attributes(resource.resource?.attributes)['service.name'] ?? '');
    for (const scope of resource.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        out.push({
          service,
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: hex(span.parentSpanId),
          name: span.name,
          kind: span.kind,
          links: (span.links ?? []).map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId) })),
          attributes: attributes(span.attributes),
        });
      }
    }
  }
  return out;
}
