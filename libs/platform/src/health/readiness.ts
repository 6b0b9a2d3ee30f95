/** A dependency the app needs to do its work. */
export interface ReadinessCheck {
  name: string;
  probe(): Promise<{ up: boolean; detail?: string; info?: Record<string, unknown> }>;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

export { withTimeout as within } from '@testkase/util';
