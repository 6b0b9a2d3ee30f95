/** Injection token of the validated {@link ConnectionConfig}. */
export const CONNECTION_CONFIG = Symbol('CONNECTION_CONFIG');
