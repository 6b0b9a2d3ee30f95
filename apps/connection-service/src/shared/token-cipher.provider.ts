import type { Provider } from '@nestjs/common';

import type { ConnectionConfig } from '../config/connection-service.config';
import { parseKeyRing } from '../crypto/key-ring';
import { TokenCipher } from '../crypto/token-cipher';
import { CONNECTION_CONFIG } from './tokens';

export const tokenCipherProvider: Provider = {
  provide: TokenCipher,
  useFactory: (config: ConnectionConfig) => new TokenCipher(parseKeyRing(config.TOKEN_ENCRYPTION_KEYS)),
  inject: [CONNECTION_CONFIG],
};
