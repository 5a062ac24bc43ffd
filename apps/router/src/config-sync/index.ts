// The public face of config-sync; other modules import from here only.
export { ConfigSyncModule } from './config-sync.module';
export type { DomainChange, DomainState } from './domain-map';
export {
  RouterConfig,
  type DomainChangeListener,
  type RouterSnapshot,
  type SnapshotListener,
} from './router-config';
export { RouterStatus } from './router-status';
