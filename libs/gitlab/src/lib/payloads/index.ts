export * from './issue-hook.parser';
export * from './issue-snapshot';
export * from './rest-issue';
