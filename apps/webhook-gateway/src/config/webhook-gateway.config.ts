import { ServiceConfig } from '@testkase/platform/config';

/** Environment of webhook-gateway (docs/ARCHITECTURE.md, "Configuration"); see .env.example. */
export class GatewayConfig extends ServiceConfig {
  override PORT: number = 3000;
}
