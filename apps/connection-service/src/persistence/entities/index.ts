/** Every TypeORM entity of this app's schema. */
export const ENTITIES = [];
