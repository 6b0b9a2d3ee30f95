export * from './connection/connection.events';
export * from './requirement/requirement.events';
export * from './webhook/webhook.contracts';
export * from './defect/defect.events';
export * from './comment/comment.events';
