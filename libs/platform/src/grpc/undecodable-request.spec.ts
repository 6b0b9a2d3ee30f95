import { isUndecodableRequest, tolerateUndecodableRequests } from './undecodable-request';

describe('tolerateUndecodableRequests (issue 14)', () => {
  it('turns a throwing request deserializer into a marked request; messages are left alone', () => {
    const message = { format: 'Protocol Buffer 3 DescriptorProto', type: {} };
    const definition: Record<string, unknown> = {
      'pkg.Service': {
        Get: {
          requestDeserialize: (bytes: Buffer) => {
            if (bytes[0] === 0xff) throw new Error('invalid wire type');
            return { projectId: bytes.toString() };
          },
        },
      },
      'pkg.Message': message,
    };
    tolerateUndecodableRequests(definition);
    const get = (definition['pkg.Service'] as { Get: { requestDeserialize(bytes: Buffer): unknown } }).Get;
    expect(isUndecodableRequest(get.requestDeserialize(Buffer.from([0xff])))).toBe(true);
    expect(get.requestDeserialize(Buffer.from('p1'))).toEqual({ projectId: 'p1' });
    expect(isUndecodableRequest({ projectId: 'p1' })).toBe(false);
    expect(definition['pkg.Message']).toBe(message);
  });
});
