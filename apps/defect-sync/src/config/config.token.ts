/** Injection token of the validated {@link DefectSyncConfig}. */
export const DEFECT_SYNC_CONFIG = Symbol('DEFECT_SYNC_CONFIG');
