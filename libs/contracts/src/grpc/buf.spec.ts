import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { PROTO_DIR } from './proto-files';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const BUF = path.join(ROOT, 'node_modules', '.bin', 'buf');
const RELEASE = path.join(ROOT, 'libs', 'contracts', 'releases', 'v1.binpb');

/** Runs buf; its findings (stdout) and whether it passed. */
function buf(args: string[], cwd = ROOT): { ok: boolean; output: string } {
  try {
    return { ok: true, output: execFileSync(BUF, args, { cwd, encoding: 'utf8', stdio: 'pipe' }) };
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${stdout}${stderr}` };
  }
}

/** A copy of the proto module with `change` applied to one file, in a temporary directory. */
function mutated(file: string, change: (text: string) => string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'buf-'));
  cpSync(PROTO_DIR, dir, { recursive: true });
  const target = path.join(dir, file);
  writeFileSync(target, change(readFileSync(target, 'utf8')));
  writeFileSync(
    path.join(dir, 'buf.yaml'),
    'version: v2\nlint:\n  use: [STANDARD]\nbreaking:\n  use: [FILE]\n',
  );
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const DEFECTS = 'testkase/gitlab/defects/v1/defects.proto';

/** `npm run proto:lint` and `npm run proto:breaking` (buf.yaml: STANDARD lint, FILE breaking). */
describe('the gRPC contracts (buf)', () => {
  it('pass buf lint STANDARD', () => {
    expect(buf(['lint'])).toEqual({ ok: true, output: '' });
  });

  it('have no breaking change against the last release image', () => {
    expect(buf(['breaking', '--against', RELEASE])).toEqual({ ok: true, output: '' });
  });

  it('would fail on a lint error (an RPC answering a shared message)', () => {
    const copy = mutated(DEFECTS, (text) =>
      text.replace('returns (GetDefectResponse)', 'returns (UpdateDefectResponse)'),
    );
    try {
      const result = buf(['lint', copy.dir]);
      expect(result.ok).toBe(false);
      expect(result.output).toMatch(/is used as the request or response type for multiple RPCs/);
      expect(result.output).toMatch(
        /RPC response type "UpdateDefectResponse" should be named "GetDefectResponse"/,
      );
    } finally {
      copy.cleanup();
    }
  });

  it('would fail on a breaking change (a field removed, an enum value removed)', () => {
    const copy = mutated(DEFECTS, (text) =>
      text.replace('  int64 version = 12;\n', '').replace('  DEFECT_STATUS_ACHIEVED = 4;\n', ''),
    );
    try {
      const result = buf(['breaking', copy.dir, '--against', RELEASE]);
      expect(result.ok).toBe(false);
      expect(result.output).toMatch(/field "12" with name "version" on message "Defect" was deleted/);
      expect(result.output).toMatch(/enum value "4" on enum "DefectStatus" was deleted/);
    } finally {
      copy.cleanup();
    }
  });
});
