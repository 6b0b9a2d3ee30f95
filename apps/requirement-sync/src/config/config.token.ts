/** Injection token of the validated {@link RequirementSyncConfig}. */
export const REQUIREMENT_SYNC_CONFIG = Symbol('REQUIREMENT_SYNC_CONFIG');
