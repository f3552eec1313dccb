// Turns the endpoint's dialog fields and credentials into connection settings, refusing what cannot work.
import type { IdentitySettings, OpcuaEndpointSettings, SecurityModeName, SecurityPolicyName } from './opcua-connection';

export interface EndpointFields {
  endpointUrl?: string;
  securityMode?: string;
  securityPolicy?: string;
  identityType?: string;
  acceptUnknownCertificate?: boolean | string;
}

export interface EndpointCredentials {
  userName?: string;
  password?: string;
  userCertificate?: string;
  userPrivateKey?: string;
}

const MODES: SecurityModeName[] = ['None', 'Sign', 'SignAndEncrypt'];
const POLICIES: SecurityPolicyName[] = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'];

export function endpointSettingsFrom(fields: EndpointFields, credentials: EndpointCredentials, pkiDir: string): OpcuaEndpointSettings {
  const endpointUrl = (fields.endpointUrl ?? '').trim();
  if (!/^opc\.tcp:\/\/[^/\s:]+(:\d+)?(\/\S*)?$/.test(endpointUrl)) {
    throw new Error(`endpointUrl: "${endpointUrl}" is not an OPC UA endpoint URL (opc.tcp://host:port[/path])`);
  }
  const securityMode = (fields.securityMode || 'None') as SecurityModeName;
  if (!MODES.includes(securityMode)) throw new Error(`securityMode: "${securityMode}" must be one of ${MODES.join(', ')}`);
  let securityPolicy = (fields.securityPolicy || (securityMode === 'None' ? 'None' : 'Basic256Sha256')) as SecurityPolicyName;
  if (!POLICIES.includes(securityPolicy)) throw new Error(`securityPolicy: "${securityPolicy}" must be one of ${POLICIES.join(', ')}`);
  if (securityMode === 'None') securityPolicy = 'None';
  else if (securityPolicy === 'None') throw new Error(`securityPolicy: security mode ${securityMode} needs a policy other than None`);
  return {
    endpointUrl,
    securityMode,
    securityPolicy,
    identity: identityFrom(fields.identityType || 'anonymous', credentials),
    pkiDir,
    acceptUnknownServerCertificate: fields.acceptUnknownCertificate === true || fields.acceptUnknownCertificate === 'true',
  };
}

function identityFrom(type: string, credentials: EndpointCredentials): IdentitySettings {
  switch (type) {
    case 'anonymous':
      return { type: 'anonymous' };
    case 'username':
      if (!credentials.userName) throw new Error('userName: user name authentication needs a user name');
      return { type: 'username', userName: credentials.userName, password: credentials.password ?? '' };
    case 'certificate':
      if (!credentials.userCertificate?.includes('BEGIN CERTIFICATE')) {
        throw new Error('userCertificate: X.509 authentication needs the user certificate as PEM (-----BEGIN CERTIFICATE-----)');
      }
      if (!credentials.userPrivateKey?.includes('PRIVATE KEY')) {
        throw new Error('userPrivateKey: X.509 authentication needs the private key as PEM (-----BEGIN PRIVATE KEY-----)');
      }
      return { type: 'certificate', certificatePem: credentials.userCertificate, privateKeyPem: credentials.userPrivateKey };
    default:
      throw new Error(`identityType: "${type}" must be anonymous, username or certificate`);
  }
}
