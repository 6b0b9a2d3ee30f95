/** Injection token of the validated {@link CommentRelayConfig}. */
export const COMMENT_RELAY_CONFIG = Symbol('COMMENT_RELAY_CONFIG');
