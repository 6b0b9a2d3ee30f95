import { GRPC_SERVICES } from '@testkase/contracts';

import { ProtoMapper, toTimestamp } from './proto-mapper';

describe('ProtoMapper', () => {
  const defects = new ProtoMapper(GRPC_SERVICES.defects.package, GRPC_SERVICES.defects.protoPath);

  it('knows each RPC by its own request and response messages', () => {
    expect(defects.method('DefectService', 'PushDefect')).toEqual({
      request: 'testkase.gitlab.defects.v1.PushDefectRequest',
      response: 'testkase.gitlab.defects.v1.PushDefectResponse',
    });
    expect(() => defects.method('DefectService', 'Nope')).toThrow(/not in the proto/);
  });

  it('turns request enums into API values, drops _UNSPECIFIED and leaves the unknown to validation', () => {
    const request = {
      projectId: 'p',
      priority: 'DEFECT_PRIORITY_BLOCKER',
      status: 'DEFECT_STATUS_IN_PROGRESS',
    };
    expect(defects.requestToApi('testkase.gitlab.defects.v1.PushDefectRequest', request)).toBe(request);
    expect(request).toEqual({ projectId: 'p', priority: 'Blocker', status: 'In-Progress' });
    const unspecified = { priority: 'DEFECT_PRIORITY_UNSPECIFIED', status: 9 };
    defects.requestToApi('testkase.gitlab.defects.v1.UpdateDefectRequest', unspecified);
    expect(unspecified).toEqual({ status: 9 });
  });

  it('answers with the message fields only, enums by name and times as Timestamps', () => {
    const reply = defects.toProto('testkase.gitlab.defects.v1.PushDefectResponse', {
      outcome: 'created',
      defect: {
        defectId: 'D-1',
        priority: 'Critical',
        status: 'In-Progress',
        syncStatus: 'failed',
        error: { code: 'GITLAB_REJECTED', message: 'no', at: '2026-01-02T03:04:05.678Z', retryAt: null },
        warnings: [{ code: 'W', message: 'm' }],
        updatedAt: '2026-01-02T03:04:05.000Z',
        internal: 'not in the proto',
      },
    });
    expect(reply).toEqual({
      outcome: 'created',
      defect: {
        defectId: 'D-1',
        priority: 'DEFECT_PRIORITY_CRITICAL',
        status: 'DEFECT_STATUS_IN_PROGRESS',
        syncStatus: 'DEFECT_SYNC_STATUS_FAILED',
        error: { code: 'GITLAB_REJECTED', message: 'no', at: { seconds: 1767323045, nanos: 678_000_000 } },
        warnings: [{ code: 'W', message: 'm' }],
        updatedAt: { seconds: 1767323045, nanos: 0 },
      },
    });
  });

  it('refuses an API value that has no enum value, and a time that is not one', () => {
    expect(() =>
      defects.toProto('testkase.gitlab.defects.v1.GetDefectResponse', { defect: { priority: 'Huge' } }),
    ).toThrow(/Huge has no proto enum value/);
    expect(() => toTimestamp('yesterday')).toThrow(/not a time/);
  });

  it('checks at start that every enum value has its API value and the other way round', () => {
    const { package: pkg, protoPath } = GRPC_SERVICES.requirements;
    expect(() => new ProtoMapper(pkg, protoPath)).not.toThrow();
    expect(
      () =>
        new ProtoMapper(pkg, protoPath, {
          'testkase.gitlab.requirements.v1.RequirementStatus': ['Active'],
          'testkase.gitlab.requirements.v1.RequirementPriority': ['P0', 'P1', 'P2', 'P3'],
        }),
    ).toThrow(/RequirementStatus: values .* do not match/);
    for (const service of Object.values(GRPC_SERVICES)) {
      expect(() => new ProtoMapper(service.package, service.protoPath)).not.toThrow();
    }
  });
});
