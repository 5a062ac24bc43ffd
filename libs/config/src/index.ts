// libs/config: the one definition of every Meridian configuration option, shared by
// the control plane (validates before storing a revision) and the routers
// (validate before applying one). Reference: docs/configuration.md.
import 'reflect-metadata';

export {
  AuthConfig,
  BounceConfig,
  CacheConfig,
  ComponentBody,
  ComponentConfig,
  ConnectionsConfig,
  DatacenterBody,
  DatacenterConfig,
  DEFAULT_HOST_TYPE,
  EndpointConfig,
  EndpointListBody,
  HostTypeBody,
  HostTypeConfig,
  JwtConfig,
  LimitsConfig,
  LinkTlsConfig,
  MAX_COMPONENTS,
  MAX_DATACENTERS,
  MAX_ENDPOINTS_PER_DATACENTER,
  MAX_HOST_TYPES,
  MAX_LABELS,
  MeridianConfig,
  MIN_COMPONENT_SECRET_LENGTH,
  RedisPolicyConfig,
  SettingsConfig,
} from './config-classes';
export { configHash, canonicalJson } from './config-hash';
export { diffConfigs, type ConfigChange } from './config-diff';
export {
  COMPONENT_BALANCING,
  SETTINGS_KEYS,
  settingsOf,
  type AuthDocument,
  type BounceDocument,
  type CacheDocument,
  type ComponentBalancing,
  type ComponentDocument,
  type ConnectionsDocument,
  type DatacenterDocument,
  type EndpointDocument,
  type HostTypeDocument,
  type JwtDocument,
  type LimitsDocument,
  type LinkTlsDocument,
  type MeridianConfigDocument,
  type RedisPolicyDocument,
  type SettingsDocument,
} from './documents';
export { isValidDomainName, normalizeDomain } from './domain-names';
export {
  JWT_ALGORITHMS,
  MIN_HS256_SECRET_LENGTH,
  MIN_RSA_MODULUS_BITS,
  type JwtAlgorithm,
} from './jwt-keys';
export {
  REDACTED,
  redactConfig,
  restoreRedactedSecrets,
  UNRESOLVED_PLACEHOLDER_MESSAGE,
} from './secrets';
export {
  defaultConfig,
  validateBody,
  validateConfig,
  type BodyValidationResult,
  type ConfigContext,
  type ConfigValidationResult,
} from './validate-config';
export { flattenValidationErrors, type ConfigFieldError } from './validation-engine';
