export type { LaneContext } from '@testkase/consumer-kit';
