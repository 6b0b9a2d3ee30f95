import { ConnectionEntity } from './connection.entity';

/** Every TypeORM entity of this app's schema. */
export const ENTITIES = [ConnectionEntity];
