// The revision the real-process fault tests (router crash, netsplit) run under: entries expire
// after 5 s and are refreshed every second, caches live 1 s, and bounces retry 4 times from
// 250 ms, so a fault plays out in seconds.
import type { MeridianConfigDocument } from '#config';
import { baseConfig } from './router-cluster';
import { JWT_SECRET } from './xmpp-client';

export const EXPIRE_AFTER_S = 5;
export const RESEND_AFTER_MS = 250;
export const MAX_RETRIES = 4;
/** 250 + 500 + 1000 + 2000 ms: how long a stanza may wait for a route before its error. */
export const BOUNCE_BUDGET_MS = RESEND_AFTER_MS * (2 ** MAX_RETRIES - 1);

export function faultConfig(datacenters: string[]): MeridianConfigDocument {
  const config = baseConfig(datacenters);
  config.auth.jwt.secret = JWT_SECRET;
  config.redis = { ...config.redis, expireAfterS: EXPIRE_AFTER_S, refreshAfterS: 1 };
  config.cache = { ...config.cache, jidLifetimeS: 1, domainLifetimeS: 1 };
  config.bounce = {
    ...config.bounce,
    enabled: true,
    resendAfterMs: RESEND_AFTER_MS,
    maxRetries: MAX_RETRIES,
  };
  return config;
}
