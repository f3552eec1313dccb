// Node-RED settings for `npm start` and the end-to-end tests. Compiled to dist/settings.js.
// Every setting a deployment may need to change comes from an environment variable (see README).
import { readFileSync } from 'node:fs';
import path from 'node:path';

const projectRoot = path.join(__dirname, '..');

/** Used only when TWINFLOW_CREDENTIAL_SECRET is unset; never use it outside development. */
const DEVELOPMENT_CREDENTIAL_SECRET = 'twinflow-development-only-credential-secret';

function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

function port(): number {
  const raw = env('TWINFLOW_PORT') ?? '1880';
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new Error(`TWINFLOW_PORT: "${raw}" is not a TCP port (an integer from 0 to 65535)`);
  }
  return value;
}

/** adminAuth when TWINFLOW_ADMIN_USER is set, with a bcrypt hash or a plain password hashed here. */
function adminAuth(): object | undefined {
  const username = env('TWINFLOW_ADMIN_USER');
  if (!username) return undefined;
  let hash = env('TWINFLOW_ADMIN_PASSWORD_HASH');
  const plain = env('TWINFLOW_ADMIN_PASSWORD');
  if (!hash && plain) hash = (require('bcryptjs') as typeof import('bcryptjs')).hashSync(plain, 10);
  if (!hash) {
    throw new Error('TWINFLOW_ADMIN_USER is set: set TWINFLOW_ADMIN_PASSWORD_HASH (bcrypt) or TWINFLOW_ADMIN_PASSWORD too');
  }
  return {
    type: 'credentials',
    users: [{ username, password: hash, permissions: '*' }],
  };
}

/** HTTPS when both TWINFLOW_HTTPS_KEY and TWINFLOW_HTTPS_CERT name PEM files. */
function https(): object | undefined {
  const key = env('TWINFLOW_HTTPS_KEY');
  const cert = env('TWINFLOW_HTTPS_CERT');
  if (!key && !cert) return undefined;
  if (!key || !cert) throw new Error('HTTPS needs both TWINFLOW_HTTPS_KEY and TWINFLOW_HTTPS_CERT (paths to PEM files)');
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

const settings = {
  uiHost: env('TWINFLOW_HOST') ?? '127.0.0.1',
  uiPort: port(),
  userDir: env('TWINFLOW_USER_DIR') ?? path.join(projectRoot, '.node-red'),
  flowFile: 'flows.json',
  flowFilePretty: true,
  credentialSecret: env('TWINFLOW_CREDENTIAL_SECRET') ?? DEVELOPMENT_CREDENTIAL_SECRET,
  adminAuth: adminAuth(),
  https: https(),
  // Persistent context survives restarts; 'memory' stays available for scratch values.
  contextStorage: {
    default: { module: 'localfilesystem' },
    file: { module: 'localfilesystem' },
    memory: { module: 'memory' },
  },
  functionExternalModules: false,
  // Node-RED's update check phones home; off unless asked for (and the prompt for it stays away).
  telemetry: { enabled: env('TWINFLOW_UPDATE_CHECK') === 'true' },
  diagnostics: { enabled: true, ui: true },
  runtimeState: { enabled: false, ui: false },
  logging: {
    console: {
      level: env('TWINFLOW_LOG_LEVEL') ?? 'info',
      metrics: false,
      audit: false,
    },
  },
  editorTheme: {
    projects: { enabled: false },
    page: { title: 'Twinflow' },
    header: { title: 'Twinflow' },
    tours: false,
  },
};

export = settings;
