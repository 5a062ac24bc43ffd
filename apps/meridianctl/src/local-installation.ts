// The local installation that `npm start` runs (scripts/local.ts) describes itself in
// `.local/installation.json`; meridianctl reads it for its defaults (control's URL, the dev
// admin token, the routers' ports, the dev CA and JWT secret), so on a developer machine
// `npx meridianctl status` and `npx meridianctl chat` need no flags.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const INSTALLATION_FILE = 'installation.json';
export const ADMIN_TOKEN_FILE = 'admin-token';
export const JWT_SECRET_FILE = 'jwt-secret';

export interface LocalRouter {
  /** Node name (`MERIDIAN_NODE`), e.g. `dc1-a`. */
  readonly node: string;
  readonly localHost: string;
  readonly c2sPort: number;
  /** Health, metrics and WebSocket (`/xmpp-websocket`). */
  readonly httpPort: number;
  readonly componentPort: number;
  readonly interlinkPort: number;
  readonly pid: number | null;
}

export interface LocalInstallation {
  /** The `npm start` process; null once it has stopped. */
  readonly supervisorPid: number | null;
  readonly controlPid: number | null;
  readonly startedAt: string;
  readonly controlUrl: string;
  readonly globalHost: string;
  readonly caFile: string;
  readonly adminTokenFile: string;
  readonly jwtSecretFile: string;
  readonly logDir: string;
  readonly routers: readonly LocalRouter[];
}

/** The repository this code runs from (the folder whose package.json is Meridian's). */
export function repositoryRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'meridian') {
          return dir;
        }
      } catch {
        // not ours; keep looking upwards
      }
    }
    if (dirname(dir) === dir) return process.cwd();
  }
}

/** `MERIDIAN_LOCAL_DIR`, or `.local/` in the repository. */
export function localStateDir(env: Readonly<Record<string, string | undefined>>): string {
  return env.MERIDIAN_LOCAL_DIR?.trim() || join(repositoryRoot(), '.local');
}

export function readInstallation(stateDir: string): LocalInstallation | null {
  try {
    return JSON.parse(readFileSync(join(stateDir, INSTALLATION_FILE), 'utf8')) as LocalInstallation;
  } catch {
    return null;
  }
}

/** The first line of a state file (a token or secret), or null when it does not exist. */
export function readStateFile(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim() || null;
  } catch {
    return null;
  }
}
