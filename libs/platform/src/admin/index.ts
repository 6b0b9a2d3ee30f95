export * from './admin-api.guard';
export * from './admin-params';
export * from './admin.dto';
export * from './dead-letters';
export * from './dead-letters.controller';
export * from './outbox-parked.controller';
