export * from './issue-hook.parser';
export * from './issue-snapshot';
export * from './note-hook.parser';
export * from './note-snapshot';
export * from './rest-issue';
export * from './rest-note';
